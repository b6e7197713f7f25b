"""SVG snapshots of the main screens at 120x40, with fixed names, paths and data."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from airlock.config import AirlockConfig, ProjectConfig, load_config, save_config
from airlock.session import Session
from airlock.sessions import SessionRecord, save_record, set_current
from tests.scripted_api import ScriptedApi
from tests.test_tui_workspace import summary_script
from tests.tui_support import SIZE, app_for, make_project, toasts, wait_until, workspace
from tui.task_news import mark_seen
from tui.widgets.prompt_input import PromptInput

FIXTURES = Path(__file__).parent / "fakes" / "fixtures" / "limactl"
SnapCompare = Any


async def still_cursor(pilot: Pilot[None]) -> None:
    for prompt in pilot.app.screen.query(PromptInput):
        prompt.cursor_blink = False


def test_workspace_after_a_turn(
    snap_compare: SnapCompare, tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    scripted_api.serve(summary_script())

    async def work() -> None:
        session = Session.create(project, load_config())
        await session.start()
        await session.run_prompt("summarise my notes")
        await session.close()

    asyncio.run(work())

    async def ready(pilot: Pilot[None]) -> None:
        screen = workspace(pilot)
        await wait_until(pilot, lambda: screen.header.activity == "ready")
        await wait_until(pilot, lambda: screen.header.pending == 1 and toasts(pilot))
        await wait_until(pilot, lambda: len(screen.shell.lines) == 3)
        await still_cursor(pilot)

    assert snap_compare(app_for(project), terminal_size=SIZE, run_before=ready)


def test_project_switcher(snap_compare: SnapCompare) -> None:
    projects = [
        ProjectConfig(name="notes", path=Path("/home/alice/notes")),
        ProjectConfig(name="taxes-2026", path=Path("/home/alice/admin/taxes")),
        ProjectConfig(name="website", path=Path("/home/alice/src/website")),
    ]
    save_config(AirlockConfig(projects=projects))
    assert snap_compare(app_for(None), terminal_size=SIZE)


def test_vm_screen(
    snap_compare: SnapCompare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limactl = tmp_path / "limactl"
    limactl.write_text(f"#!/bin/sh\ncat '{FIXTURES / 'list-json.jsonl'}'\n")
    limactl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")

    async def listed(pilot: Pilot[None]) -> None:
        await pilot.press("escape", "ctrl+l")
        await wait_until(pilot, lambda: pilot.app.screen.query_one("DataTable").row_count == 2)

    assert snap_compare(app_for(None), terminal_size=SIZE, run_before=listed)


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC, so that the sessions' dates are the same everywhere."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_sessions_screen(snap_compare: SnapCompare, tmp_path: Path, utc: None) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    sessions = [
        ("20261201-093000-a1a1a1", "daily", "idle", 2, "Write the weekly report from my notes"),
        ("20261130-140512-b2b2b2", None, "idle", 0, "Tidy up the notes and merge duplicates"),
        ("20261128-090000-c3c3c3", "daily", "error", 0, "Write the weekly report from my notes"),
        ("20261127-161000-d4d4d4", None, "interrupted", 1, "Summarise my notes"),
    ]
    for session_id, task, status, pending, title in sessions:
        started = dt.datetime.strptime(session_id[:15], "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
        record = SessionRecord(
            id=session_id,
            project="notes",
            created=started,
            updated=started,
            title=title,
            status=status,
            task=task,
            pending=pending,
        )
        save_record(project, record)
    set_current(project, "20261130-140512-b2b2b2")
    mark_seen("20261201-093000-a1a1a1")

    async def listed(pilot: Pilot[None]) -> None:
        await wait_until(pilot, lambda: workspace(pilot).header.activity == "ready")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen.query_one("DataTable").row_count == 4)

    assert snap_compare(app_for(project), terminal_size=SIZE, run_before=listed)
