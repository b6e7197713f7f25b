"""The sessions screen: a project's sessions listed, one opened in the workspace, one deleted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from airlock.config import ProjectConfig, load_config
from airlock.demo.messages_server import Reply, Text
from airlock.session import Session
from airlock.sessions import current_id, load_record, save_record, session_dir
from tests.scripted_api import ScriptedApi
from tests.tui_support import (
    SIZE,
    app_for,
    conversation_text,
    make_project,
    toasts,
    wait_until,
    workspace,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.sessions import SessionsScreen


async def past_session(project: ProjectConfig, prompt: str, hours_ago: int) -> str:
    """A session that ran `prompt` (the scripted API answers), started `hours_ago` hours ago."""
    session = Session.create(project, load_config())
    await session.start()
    await session.run_prompt(prompt)
    await session.close()
    record = load_record(project, session.record.id)
    started = record.created - dt.timedelta(hours=hours_ago)
    save_record(project, record.model_copy(update={"created": started}))
    return record.id


def rows(screen: SessionsScreen) -> list[list[str]]:
    table: DataTable[Any] = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_sessions_are_listed_newest_first_opened_and_deleted(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    scripted_api.serve(
        [Reply(blocks=[Text(text="First answer.")]), Reply(blocks=[Text(text="Second answer.")])]
    )
    first = await past_session(project, "first prompt", hours_ago=2)
    second = await past_session(project, "second prompt", hours_ago=1)
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        await wait_until(pilot, lambda: screen.header.activity == "ready")
        assert "Second answer." in conversation_text(pilot)

        await pilot.press("ctrl+s")
        sessions = pilot.app.screen
        assert isinstance(sessions, SessionsScreen)
        listed = rows(sessions)
        assert [(row[0], row[2], row[5]) for row in listed] == [
            ("▶", "idle", "second prompt"),
            ("", "idle", "first prompt"),
        ]
        await pilot.press("j", "k", "j", "enter")  # j/k move as in the review
        await wait_until(pilot, lambda: screen.header.activity == "ready")
        assert pilot.app.screen is screen
        text = conversation_text(pilot)
        assert "› first prompt" in text and "First answer." in text
        assert "Second answer." not in text
        assert current_id(project) == first

        await pilot.press("ctrl+s")
        sessions = pilot.app.screen
        assert isinstance(sessions, SessionsScreen)
        assert [row[0] for row in rows(sessions)] == ["", "▶"]
        await pilot.press("d")  # the cursor is on the open session: it is kept
        assert any("open in the workspace" in toast for toast in toasts(pilot))
        await pilot.press("up", "d")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        assert [row[5] for row in rows(sessions)] == ["first prompt"]
        assert not session_dir(project, second).exists()
        assert session_dir(project, first).exists()


async def test_no_other_session_opens_while_the_agent_works(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    slow = Reply(blocks=[Text(text="Late.")], delay=20)  # still thinking when asked
    scripted_api.serve([Reply(blocks=[Text(text="Old.")]), Reply(blocks=[Text(text="New.")]), slow])
    await past_session(project, "old", hours_ago=2)
    latest = await past_session(project, "new", hours_ago=1)
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("think hard")
        await wait_until(pilot, lambda: screen.header.activity == "working…")
        await pilot.press("ctrl+s", "down", "enter")
        assert any("The agent is working" in toast for toast in toasts(pilot))
        assert screen.session is not None and screen.session.record.id == latest
        assert screen.working
