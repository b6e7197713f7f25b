"""`airlock demo [DIR]`: a sample folder, the scripted demo model, the real sandbox and gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from airlock.commands.common import SANDBOX_CHOICES, run_async, started
from airlock.commands.printer import EventPrinter

DEMO_PROMPT = "Tidy up this folder and give me a short report on the March expenses."


def register(sub: Any) -> None:
    demo = sub.add_parser(
        "demo", help="try Airlock on a sample folder with a scripted demo model (no API key)"
    )
    demo.add_argument("dir", metavar="DIR", nargs="?", help="new or empty folder (default: temp)")
    demo.add_argument("--sandbox", choices=SANDBOX_CHOICES, help="default: from config (auto)")
    demo.add_argument("--headless", action="store_true", help="print the transcript, no TUI")
    demo.add_argument("--json", action="store_true", help="headless, one JSON event per line")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from airlock.demo.setup import prepare_folder

    interactive = not (args.headless or args.json)
    if interactive:
        from airlock.commands.ui import need_terminal

        need_terminal()
    folder = prepare_folder(Path(args.dir) if args.dir else None)
    if interactive:
        return _interactive(folder, args)
    print(f"demo folder: {folder}", file=sys.stderr if args.json else sys.stdout)
    return run_async(_headless(folder, args))


def _interactive(folder: Path, args: argparse.Namespace) -> int:
    """The workspace on the demo folder, sending the demo prompt; the demo model stops on exit."""
    from airlock.commands.ui import run_app, themed_config
    from airlock.demo.script import DEMO_MODEL
    from airlock.demo.setup import start_demo_model
    from airlock.projects import resolve_project
    from airlock.session import Session
    from tui.screens.workspace import Opening

    config = themed_config(args)
    project = resolve_project(config, folder)
    server, client = start_demo_model()
    try:
        session = Session.create(
            project, config, model=DEMO_MODEL, sandbox_choice=args.sandbox, client=client
        )
        opening = Opening(
            project,
            config,
            session=session,
            prompt=DEMO_PROMPT,
            model_label=f"{DEMO_MODEL} (scripted)",
        )
        code = run_app(config, opening)
    finally:
        server.stop()
    print(f"demo folder: {folder}")
    return code


async def _headless(folder: Path, args: argparse.Namespace) -> int:
    from airlock.config import load_config
    from airlock.demo.script import DEMO_MODEL
    from airlock.demo.setup import start_demo_model
    from airlock.projects import resolve_project
    from airlock.session import Session

    config = load_config()
    project = resolve_project(config, folder)
    server, client = start_demo_model()
    try:
        session = Session.create(
            project, config, model=DEMO_MODEL, sandbox_choice=args.sandbox, client=client
        )
        printer = EventPrinter(as_json=args.json)
        session.listeners.append(printer)
        if not args.json:  # JSON lines only on stdout
            printer.line("(running with the demo model: scripted, no API key, no real Claude)")
        async with started(session):
            await session.run_prompt(DEMO_PROMPT)
            pending = len(session.gate.changes)
    finally:
        server.stop()
    if not args.json:
        printer.line(
            f"\n{pending} change(s) wait for your review; nothing in {folder} changed yet.\n"
            f"  airlock diff {folder}\n  airlock approve {folder} --all\n  airlock undo {folder}"
        )
    return 0
