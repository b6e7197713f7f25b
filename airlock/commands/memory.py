"""`airlock memory DIR [--edit]` and `airlock project set`: a project's memory and settings."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from airlock.commands.common import project_for
from airlock.errors import UsageError


def register(sub: Any) -> None:
    memory = sub.add_parser("memory", help="show (or edit) a project's memory file")
    memory.add_argument("dir", metavar="DIR")
    memory.add_argument("--edit", action="store_true", help="open it in $EDITOR")
    memory.add_argument("--path", action="store_true", help="print where it is kept")
    memory.set_defaults(handler=_memory)


def register_project_set(actions: Any) -> None:
    """`airlock project set NAME …` (added to the `project` group)."""
    setter = actions.add_parser("set", help="change a project's settings")
    setter.add_argument("name", metavar="NAME")
    setter.add_argument("--instructions-file", metavar="F", help="custom instructions ('-': none)")
    setter.add_argument("--model", help="model for this project ('-': the global default)")
    setter.add_argument("--sandbox", choices=("auto", "lima", "bwrap", "-"))
    setter.set_defaults(handler=_project_set)


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def _memory(args: argparse.Namespace) -> int:
    from airlock.memory import HEADER, memory_path, read_memory, write_memory

    _, project = project_for(args.dir)
    path = memory_path(project)
    if args.path:
        print(path)
        return 0
    if args.edit:
        if not path.exists():
            write_memory(project, HEADER)
        try:
            return subprocess.call([*editor_command(), str(path)])
        except FileNotFoundError as exc:
            raise UsageError(f"cannot run the editor {exc.filename!r}: set $EDITOR") from exc
    text = read_memory(project)
    print(text if text else f"(no memory yet for {project.name}; the agent adds to it)")
    return 0


def _project_set(args: argparse.Namespace) -> int:
    from airlock.config import load_config
    from airlock.projects import find_project, update_project

    project = find_project(load_config(), args.name)
    if project is None:
        raise UsageError(f"no project named {args.name!r}", hint="see `airlock project list`")
    if args.instructions_file == "-":
        project.instructions = ""
    elif args.instructions_file:
        try:
            project.instructions = Path(args.instructions_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {args.instructions_file}: {exc}") from exc
    if args.model:
        project.model = None if args.model == "-" else args.model
    if args.sandbox:
        project.sandbox = None if args.sandbox == "-" else args.sandbox
    update_project(project)
    print(f"updated project {project.name!r}")
    return 0
