"""`airlock …`: the command-line entry point.

Each command group lives in `airlock/commands/<group>.py` and registers its
subcommands; heavy imports (Textual, the SDK) happen inside the handlers so that
`airlock --help` stays fast and the engine never pulls in the UI.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from airlock import __version__
from airlock.errors import AirlockError

COMMAND_MODULES = (
    "airlock.commands.ui",
    "airlock.commands.demo",
    "airlock.commands.run",
    "airlock.commands.review",
    "airlock.commands.project",
    "airlock.commands.network",
    "airlock.commands.mcp",
    "airlock.commands.memory",
    "airlock.commands.tasks",
    "airlock.commands.vm",
    "airlock.commands.doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airlock",
        description=(
            "An AI coworker in a sandbox, behind a keyboard review gate. "
            "With no command, opens the full-screen workspace."
        ),
    )
    parser.add_argument("--version", action="version", version=f"airlock {__version__}")
    parser.add_argument("--theme", metavar="NAME", help="colour theme for the TUI (remembered)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every expected failure is one line on stderr, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or _launch_tui
    try:
        return int(handler(args) or 0)
    except AirlockError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:
        lima_error = _lima_error_type()
        if lima_error is not None and isinstance(exc, lima_error):
            return _fail(str(exc), 1)
        if os.environ.get("AIRLOCK_DEBUG"):
            raise
        return _fail(
            f"unexpected error: {type(exc).__name__}: {exc} "
            "(set AIRLOCK_DEBUG=1 for a traceback, and please report it)",
            70,
        )


def _launch_tui(args: argparse.Namespace) -> int:
    from airlock.commands.ui import launch

    return launch(args)


def _lima_error_type() -> type[Exception] | None:
    module = sys.modules.get("lima.errors")
    return getattr(module, "LimaError", None) if module else None


def _fail(message: str, code: int) -> int:
    print(f"airlock: {message}", file=sys.stderr)
    return code
