"""`airlock` (no command), `airlock open DIR`, `--theme NAME`: the full-screen workspace."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from airlock.commands.common import SANDBOX_CHOICES

if TYPE_CHECKING:
    from airlock.config import AirlockConfig
    from tui.screens.workspace import Opening


def register(sub: Any) -> None:
    opener = sub.add_parser("open", help="open the full-screen workspace on a folder or project")
    opener.add_argument("dir", metavar="DIR", help="a folder (registered or not) or project name")
    opener.add_argument("--sandbox", choices=SANDBOX_CHOICES, help="default: from config (auto)")
    opener.set_defaults(handler=_open)


def launch(args: argparse.Namespace) -> int:
    """No command: the last project's workspace, or the project switcher."""
    from airlock.projects import find_project, resolve_project
    from tui.recent import last_project
    from tui.screens.workspace import Opening

    config = themed_config(args)
    folder = last_project()
    opening = None
    if folder is not None:
        project = find_project(config, folder) or resolve_project(config, folder)
        opening = Opening(project, config)
    return run_app(config, opening)


def _open(args: argparse.Namespace) -> int:
    from airlock.projects import resolve_project
    from tui.screens.workspace import Opening

    config = themed_config(args)
    project = resolve_project(config, args.dir)
    return run_app(config, Opening(project, config, sandbox=args.sandbox))


def need_terminal() -> None:
    """Refuse to start the full-screen app without a terminal to draw on and read keys from."""
    from airlock.errors import UsageError

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the full-screen app needs a terminal (stdin and stdout are not one)",
            hint="for scripts: `airlock run DIR --prompt …` or `airlock demo --headless`",
        )


def themed_config(args: argparse.Namespace) -> AirlockConfig:
    """The config, with `--theme NAME` checked, applied and saved when given."""
    from airlock.config import load_config, save_config
    from airlock.errors import UsageError
    from tui.themes import app_themes, theme_names

    config = load_config()
    wanted = getattr(args, "theme", None)
    if wanted:
        names = theme_names(app_themes()[0])
        if wanted not in names:
            raise UsageError(f"unknown theme {wanted!r}", hint="available: " + ", ".join(names))
        config.theme = wanted
        save_config(config)
    return config


def run_app(config: AirlockConfig, opening: Opening | None) -> int:
    need_terminal()
    from tui.app import AirlockApp

    app = AirlockApp(config, opening)
    app.run()
    return app.return_code or 0
