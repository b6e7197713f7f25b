"""Scheduled tasks while the TUI runs, and the morning after: a fake clock, the scripted
Messages API, real bubblewrap. Results never sync by themselves; they wait for review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from airlock.config import ProjectConfig, TaskConfig, load_config
from airlock.demo.messages_server import Reply, Text, ToolUse
from airlock.memory import append_note
from airlock.projects import update_project
from airlock.scheduler import load_state, run_due
from tests.scripted_api import ScriptedApi
from tests.tui_support import SIZE, conversation_text, make_project, toasts, wait_until, workspace
from tui.app import AirlockApp
from tui.screens.review import ReviewScreen
from tui.screens.sessions import SessionsScreen
from tui.screens.sync_confirm import SyncConfirmScreen
from tui.screens.workspace import Opening

FRIDAY_10 = dt.datetime(2026, 11, 27, 10, 0)  # the task is set up on a Friday morning
MONDAY_9 = dt.datetime(2026, 11, 30, 9, 0, 30)
TUESDAY_9_30 = dt.datetime(2026, 12, 1, 9, 30)
WAITING = "task 'daily' on notes: 1 change waits for review — ^s sessions"


class Clock:
    """The scheduler's clock, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def weekday_task_project(tmp_path: Path) -> ProjectConfig:
    """`notes`, with a weekday 9:00 task and a note in its memory."""
    project = make_project(tmp_path, "notes", {"a.txt": "hello\n"})
    task = TaskConfig(name="daily", schedule="0 9 * * 1-5", prompt="Write the report")
    update_project(project.model_copy(update={"tasks": [task]}))
    append_note(project, "Reports are in French.")
    return load_config().projects[0]


def report_run() -> list[Reply]:
    """What the scripted model does for one run of the task."""
    bash = ToolUse(name="bash", input={"command": "echo rapport > report.txt"})
    return [Reply(blocks=[bash]), Reply(blocks=[Text(text="Report written.")])]


def app_at(project: ProjectConfig, clock: Clock) -> AirlockApp:
    config = load_config()
    return AirlockApp(config, Opening(project, config), clock=clock, check_interval=0.1)


def task_rows(screen: SessionsScreen) -> list[tuple[str, str, str]]:
    """(task, pending, first prompt) of each listed session."""
    table: DataTable[Any] = screen.query_one(DataTable)
    cells = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return [(row[4], row[3], row[5]) for row in cells]


async def test_a_task_due_while_the_app_is_open_waits_for_review_and_syncs(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = weekday_task_project(tmp_path)
    api = scripted_api.serve(report_run())
    clock = Clock(FRIDAY_10)
    async with app_at(project, clock).run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "notes/daily" in load_state().tasks)  # first seen
        clock.now = MONDAY_9
        await wait_until(pilot, lambda: any(WAITING in toast for toast in toasts(pilot)))
        assert sorted(path.name for path in project.path.iterdir()) == ["a.txt"]
        assert "Reports are in French." in api.requests[0].system_text()

        await pilot.press("ctrl+s")
        sessions = pilot.app.screen
        assert isinstance(sessions, SessionsScreen)
        assert task_rows(sessions) == [("daily (new)", "1", "Write the report")]
        await pilot.press("enter")
        screen = workspace(pilot)
        await wait_until(pilot, lambda: screen.header.activity == "ready")
        assert screen.header.pending == 1
        assert "› Write the report" in conversation_text(pilot)

        await pilot.press("ctrl+r")
        review = pilot.app.screen
        assert isinstance(review, ReviewScreen)
        await wait_until(pilot, lambda: not review.busy)
        await pilot.press("A", "s")
        assert isinstance(pilot.app.screen, SyncConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: (project.path / "report.txt").exists())
    assert (project.path / "report.txt").read_text() == "rapport\n"


async def test_the_next_morning_the_tui_announces_and_runs_what_waits(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = weekday_task_project(tmp_path)
    api = scripted_api.serve(report_run() + report_run())
    await run_due(load_config(), clock=lambda: FRIDAY_10)
    (monday,) = await run_due(load_config(), clock=lambda: MONDAY_9)  # `airlock run-due`
    assert monday.pending == 1

    clock = Clock(TUESDAY_9_30)  # the TUI is started the next morning, after 9:00
    async with app_at(project, clock).run_test(size=SIZE, notifications=True) as pilot:
        assert any(WAITING in toast for toast in toasts(pilot))  # Monday's, at once
        await wait_until(pilot, lambda: sum(WAITING in toast for toast in toasts(pilot)) == 2)
        assert len(api.requests) == 4  # Tuesday's missed run ran at start
        assert "Reports are in French." in api.requests[2].system_text()
        await pilot.press("ctrl+s")
        sessions = pilot.app.screen
        assert isinstance(sessions, SessionsScreen)
        assert task_rows(sessions) == [("daily (new)", "1", "Write the report")] * 2
    assert sorted(path.name for path in project.path.iterdir()) == ["a.txt"]
