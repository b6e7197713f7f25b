"""Argument parsing as cobra does it for limactl (unknown flags are fatal)."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from .logs import Fatal


def parse_flags(
    args: list[str],
    bools: Collection[str],
    values: Collection[str],
    multi: Collection[str] = (),
    interspersed: bool = True,
) -> tuple[dict[str, Any], list[str]]:
    """(options, positionals); `--` ends the flags, as does the first positional unless
    `interspersed` (for `shell`, whose command starts there)."""
    opts: dict[str, Any] = {}
    positional: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            positional += args[index:]
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            if not interspersed:
                positional += args[index:]
                break
            continue
        name, eq, value = arg.partition("=")
        if name in bools:
            opts[name] = value.lower() not in ("false", "0") if eq else True
        elif name in values or name in multi:
            if not eq:
                if index >= len(args):
                    raise Fatal(f"flag needs an argument: {name}")
                value = args[index]
                index += 1
            if name in multi:
                opts.setdefault(name, []).append(value)
            else:
                opts[name] = value
        else:
            raise Fatal(f"unknown flag: {name}")
    return opts, positional


def go_duration(text: str) -> float:
    """Seconds of a Go duration (`10m`, `1m30s`, `500ms`)."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise Fatal(
            f'invalid argument "{text}" for "--timeout" flag: time: invalid duration "{text}"'
        )
    return sum(float(number) * units[unit] for number, unit in parts)
