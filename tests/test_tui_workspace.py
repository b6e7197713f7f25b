"""The workspace against the scripted Messages API and real bubblewrap: what the user sees."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from airlock.config import DEFAULT_MODEL, load_config
from airlock.demo.messages_server import Reply, Text, ToolUse
from airlock.events import ShellOutput
from airlock.session import Session
from airlock.sessions import load_record
from tests.scripted_api import ScriptedApi
from tests.tui_support import (
    SIZE,
    app_for,
    conversation_text,
    log_lines,
    make_project,
    toasts,
    type_text,
    wait_until,
    workspace,
)
from tui.screens.confirm import ConfirmScreen
from tui.widgets.tool_call import ToolCallView

SUMMARY_COMMAND = "cat notes.txt; echo oops >&2; echo 'sum: one' > summary.txt"
PLAN = {
    "items": [
        {"title": "Read the notes", "status": "done"},
        {
            "title": "Write the summary",
            "status": "in_progress",
            "children": [{"title": "Draft it", "status": "pending"}],
        },
    ]
}


def summary_script() -> list[Reply]:
    return [
        Reply(
            blocks=[
                Text(text="Let me **look** first."),
                ToolUse(name="update_plan", input=PLAN),
                ToolUse(name="bash", input={"command": SUMMARY_COMMAND}),
            ]
        ),
        Reply(blocks=[Text(text="Wrote `summary.txt`.")]),
    ]


async def test_a_prompt_shows_plan_log_reply_and_pending_changes(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    server = scripted_api.serve(summary_script())
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        await type_text(pilot, "summarise my notes")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.header.pending == 1 and not screen.working)

        assert screen.prompt.text == ""
        text = conversation_text(pilot)
        assert "› summarise my notes" in text
        assert "Let me **look** first." in text and "Wrote `summary.txt`." in text
        assert f"$ {SUMMARY_COMMAND} ✓ exit 0" in text
        plan = [str(node.label) for node in screen.plan.root.children]
        assert plan == ["● Read the notes", "◐ Write the summary"]
        assert [str(node.label) for node in screen.plan.root.children[1].children] == ["○ Draft it"]
        lines = log_lines(pilot)
        start = lines.index(f"$ {SUMMARY_COMMAND}")
        assert lines[start + 1 : start + 4] == ["  one", "! oops", lines[start + 3]]
        assert lines[start + 3].startswith("✓ exit 0 · ")
        assert screen.header.tokens > 0 and screen.header.model == DEFAULT_MODEL
        assert screen.header.sandbox == "bwrap"
        assert any("1 change(s) wait for your review: press ^r" in toast for toast in toasts(pilot))
        assert server.requests[0].messages[0]["content"][0]["text"] == "summarise my notes"

        call = screen.conversation.query_one(ToolCallView)
        assert not call.query_one(".tool-detail").display
        call.focus()
        await pilot.press("enter")
        details = [str(detail.render()) for detail in call.query(".tool-detail")]
        assert call.query_one(".tool-detail").display
        assert '"command": "cat notes.txt;' in details[0] and "<stderr>\noops" in details[1]
    assert not (project.path / "summary.txt").exists()  # nothing reached the host


async def test_ctrl_j_adds_a_line_and_enter_sends_both(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    server = scripted_api.serve([Reply(blocks=[Text(text="Both lines read.")])])
    async with app_for(project).run_test(size=SIZE) as pilot:
        await pilot.press("a", "ctrl+j", "b")
        assert workspace(pilot).prompt.text == "a\nb"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Both lines read." in conversation_text(pilot))
        assert server.requests[0].messages[0]["content"][0]["text"] == "a\nb"


async def test_ctrl_r_opens_the_review_screen_on_the_session(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    review = pytest.importorskip("tui.screens.review")
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    scripted_api.serve(summary_script())
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        await type_text(pilot, "go")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.header.pending == 1 and not screen.working)
        await pilot.press("ctrl+r")
        assert isinstance(pilot.app.screen, review.ReviewScreen)
        await pilot.press("ctrl+r")  # again: stays on the one review screen
        assert len(pilot.app.screen_stack) == 2


async def test_ctrl_r_before_any_session_says_there_is_nothing_to_review(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+r")
        assert pilot.app.screen is workspace(pilot)
        assert any("Nothing to review yet" in toast for toast in toasts(pilot))


async def test_a_prompt_that_could_not_be_sent_is_given_back(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})  # and no API key
    async with app_for(project).run_test(size=SIZE) as pilot:
        await type_text(pilot, "sum it up")
        await pilot.press("enter")
        screen = workspace(pilot)
        await wait_until(pilot, lambda: "ANTHROPIC_API_KEY is not set" in conversation_text(pilot))
        await wait_until(pilot, lambda: screen.prompt.text == "sum it up")


async def test_escape_interrupts_the_agent_and_the_next_prompt_works(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    slow = Reply(blocks=[Text(text="word " * 400)], event_delay=0.05, chunk=5)
    server = scripted_api.serve([slow, Reply(blocks=[Text(text="Second answer.")])])
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        await type_text(pilot, "first")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "word word" in conversation_text(pilot))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.working)
        assert screen.header.activity == "interrupted"
        assert "(turn ended: interrupted)" in conversation_text(pilot)
        assert screen.session is not None and screen.session.record.status == "interrupted"

        await type_text(pilot, "second")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Second answer." in conversation_text(pilot))
        assert server.requests[-1].messages[-1]["content"][-1]["text"] == "second"


async def test_a_resumed_session_shows_its_conversation_and_plan(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    scripted_api.serve(summary_script())
    config = load_config()
    session = Session.create(project, config)
    await session.start()
    await session.run_prompt("summarise my notes")
    await session.close()

    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        await wait_until(pilot, lambda: screen.header.sandbox == "bwrap")
        text = conversation_text(pilot)
        assert "› summarise my notes" in text
        assert "Wrote `summary.txt`." in text
        assert f"$ {SUMMARY_COMMAND} ✓ done" in text
        assert [str(node.label) for node in screen.plan.root.children][1] == "◐ Write the summary"
        assert screen.header.pending == 1


async def test_a_prompt_sent_while_the_sandbox_starts_waits_for_it(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    scripted_api.serve([Reply(blocks=[Text(text="Hello.")])])
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("hi")
        screen.send("again")  # the first turn is still running: refused, kept for later
        assert "› hi" in conversation_text(pilot)
        await wait_until(pilot, lambda: "Hello." in conversation_text(pilot))
        assert conversation_text(pilot).count("› hi") == 1
        assert any("still working" in toast for toast in toasts(pilot))
        await asyncio.sleep(0)


async def test_quitting_mid_turn_closes_the_session_as_interrupted(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    scripted_api.serve([Reply(blocks=[Text(text="word " * 400)], event_delay=0.05, chunk=5)])
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        screen = workspace(pilot)
        screen.send("write a lot")
        await wait_until(pilot, lambda: "word word" in conversation_text(pilot))
        session = screen.session
        await pilot.press("ctrl+q")  # asks first while the agent works
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        assert screen.working
        await pilot.press("ctrl+q", "y")
    assert session is not None
    assert load_record(project, session.record.id).status == "interrupted"


async def test_the_shell_log_follows_the_tail_until_the_user_scrolls_up(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    async with app_for(project).run_test(size=SIZE) as pilot:
        shell = workspace(pilot).shell

        def output(first: int, count: int) -> None:
            text = "".join(f"line {n}\n" for n in range(first, first + count))
            shell.show(ShellOutput(call_id="c1", stream="stdout", text=text))

        output(0, 100)
        await wait_until(pilot, lambda: len(shell.lines) == 100)
        await pilot.pause()
        assert shell.is_vertical_scroll_end
        shell.focus()
        await pilot.press("home")
        output(100, 100)
        await wait_until(pilot, lambda: len(shell.lines) == 200)
        assert shell.scroll_y == 0  # the user reads the top: the log stays there
        await pilot.press("end")
        output(200, 100)
        await wait_until(pilot, lambda: len(shell.lines) == 300)
        await pilot.pause()
        assert shell.is_vertical_scroll_end
