"""Rejections go back to the agent from the review screen, as a turn of the workspace."""

from __future__ import annotations

from pathlib import Path

from airlock.demo.messages_server import Reply, Text, ToolUse
from tests.scripted_api import ScriptedApi
from tests.tui_support import (
    SIZE,
    app_for,
    conversation_text,
    make_project,
    type_text,
    wait_until,
    workspace,
)
from tui.screens.reject_reason import RejectReasonScreen
from tui.screens.review import ReviewScreen


async def test_rejected_hunk_and_reason_reach_the_agent_as_a_turn(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    api = scripted_api.serve(
        [
            Reply(blocks=[ToolUse(name="bash", input={"command": "echo TWO >> notes.txt"})]),
            Reply(blocks=[Text(text="Added a line.")]),
            Reply(blocks=[Text(text="Understood: notes.txt stays as it is.")]),
        ]
    )
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("add a line")
        await wait_until(pilot, lambda: screen.header.pending == 1 and not screen.working)

        await pilot.press("ctrl+r")
        review = pilot.app.screen
        assert isinstance(review, ReviewScreen)
        await wait_until(pilot, lambda: not review.busy)
        await pilot.press("tab", "x")  # the diff has focus: reject its hunk
        assert isinstance(pilot.app.screen, RejectReasonScreen)
        await type_text(pilot, "no caps")
        await pilot.press("enter")
        await wait_until(pilot, lambda: review.gate.rejections() and not review.busy)

        await pilot.press("r")
        assert isinstance(pilot.app.screen, RejectReasonScreen)
        await type_text(pilot, "thanks")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "notes.txt stays as it is" in conversation_text(pilot))
        assert pilot.app.screen is screen  # back on the workspace, which shows the turn
        assert "› I rejected these changes in review" in conversation_text(pilot)
        await wait_until(pilot, lambda: not screen.working)
        assert screen.header.pending == 0

    sent = api.requests[-1].messages[-1]["content"][-1]["text"]
    assert sent.startswith("I rejected these changes in review")
    assert "- notes.txt (hunk @@ -1,1 +1,2 @@): no caps" in sent
    assert "\n\nthanks\n" in sent
    assert (project.path / "notes.txt").read_text() == "one\n"
