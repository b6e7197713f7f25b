"""Entry point: global flags, the subcommand table, and limactl's fatal-error exit."""

from __future__ import annotations

import os
import sys

from .boot import cmd_create
from .guest import cmd_copy, cmd_shell
from .lifecycle import cmd_delete, cmd_stop
from .listing import cmd_list
from .logs import Fatal, Settings, log
from .store import VERSION

GLOBAL_BOOL = {"--debug", "-y", "--yes", "-h", "--help"}
GLOBAL_VALUE = {"--log-level", "--log-format"}


def split_globals(argv: list[str]) -> tuple[str | None, list[str]]:
    """Apply the global flags (anywhere, but for `shell` only before the instance name)."""
    command: str | None = None
    rest: list[str] = []
    verbatim = False
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        name, eq, value = arg.partition("=")
        if verbatim:
            rest.append(arg)
        elif name in GLOBAL_VALUE:
            if not eq:
                value = argv[index] if index < len(argv) else ""
                index += 1
            if name == "--log-format":
                Settings.log_format = value
        elif name == "--tty" or arg in GLOBAL_BOOL:
            continue
        elif command is None:
            if arg in ("-v", "--version"):
                return "--version", []
            if arg.startswith("-"):
                raise Fatal(f"unknown flag: {name}")
            command = arg
        else:
            rest.append(arg)
            verbatim = command == "shell" and not arg.startswith("-")
    return command, rest


def main(argv: list[str]) -> int:
    """Run one limactl command; its exit code."""
    if os.environ.get("FAKE_LIMACTL_REFUSE_ROOT") == "1":
        sys.stderr.write("limactl: must not run as the root user\n")
        return 1
    handlers = {
        "list": cmd_list,
        "ls": cmd_list,
        "create": lambda a: cmd_create(a, start=False),
        "start": lambda a: cmd_create(a, start=True),
        "stop": cmd_stop,
        "delete": cmd_delete,
        "remove": cmd_delete,
        "rm": cmd_delete,
        "shell": cmd_shell,
        "copy": cmd_copy,
        "cp": cmd_copy,
    }
    try:
        command, args = split_globals(argv)
        if command == "--version":
            print(f"limactl version {VERSION}")
            return 0
        if command is None:
            raise Fatal("no command given (the fake limactl does not print help)")
        if command not in handlers:
            raise Fatal(f'unknown command "{command}" for "limactl"')
        return handlers[command](args)
    except Fatal as exc:
        log("fatal", str(exc))
        return 1
