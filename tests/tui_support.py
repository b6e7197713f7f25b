"""Helpers for the TUI tests: projects on disk, typing, waiting for what the user sees."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from airlock.config import ProjectConfig, load_config
from airlock.projects import add_project
from tui.app import AirlockApp
from tui.screens.workspace import Opening, WorkspaceScreen
from tui.widgets.tool_call import ToolCallView

SIZE = (120, 40)
DEADLINE = 60.0  # a hang guard, not a timing assertion


def make_project(root: Path, name: str, files: dict[str, str]) -> ProjectConfig:
    """A registered project folder holding `files`."""
    folder = root / name
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return add_project(folder)


def app_for(project: ProjectConfig | None) -> AirlockApp:
    config = load_config()
    return AirlockApp(config, Opening(project, config) if project else None)


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*("space" if char == " " else char for char in text))


async def wait_until(pilot: Pilot[None], condition: Callable[[], object]) -> None:
    """Let the app run until `condition()` holds (fails after a generous deadline)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < end, f"the app never reached the expected state; {_state(pilot)}"
        await pilot.pause(0.05)


def _state(pilot: Pilot[None]) -> str:
    """What the workspace showed, for a failure message."""
    screen = pilot.app.screen_stack[0]
    if not isinstance(screen, WorkspaceScreen):
        return f"screen: {pilot.app.screen!r}"
    log = "\n".join(screen.shell.lines[-10:])
    return f"activity: {screen.header.activity!r}\nlog tail:\n{log}"


def workspace(pilot: Pilot[None]) -> WorkspaceScreen:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, WorkspaceScreen)
    return screen


def log_lines(pilot: Pilot[None]) -> list[str]:
    return list(workspace(pilot).shell.lines)


def conversation_text(pilot: Pilot[None]) -> str:
    """What the conversation shows: prompts, notes, replies and tool-call lines."""
    parts: list[str] = []
    for widget in workspace(pilot).conversation.children:
        if isinstance(widget, Markdown):
            parts.append(widget.source)
        elif isinstance(widget, ToolCallView):
            parts.append(f"{widget.summary} {widget.outcome}")
        elif isinstance(widget, Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)


def toasts(pilot: Pilot[None]) -> list[str]:
    return [str(toast.render()) for toast in pilot.app.screen.query("Toast")]
