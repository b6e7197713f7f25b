"""A command printing a million lines: the log stays capped and the keyboard stays responsive."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import events

from airlock.demo.messages_server import Reply, Text, ToolUse
from tests.scripted_api import ScriptedApi
from tests.tui_support import (
    SIZE,
    app_for,
    conversation_text,
    log_lines,
    make_project,
    wait_until,
    workspace,
)
from tui.widgets.shell_log import MAX_LINES

# Seconds from a key press to its effect while the flood runs. Typical: under 0.1 s; the
# margin is for a loaded 2-core CI machine (the app shares it with bwrap and `seq`).
RESPONSIVENESS_BOUND = 1.0


async def test_a_million_lines_keep_input_responsive_and_the_log_capped(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "flood", {"README": "flood\n"})
    scripted_api.serve(
        [
            Reply(blocks=[ToolUse(name="bash", input={"command": "seq 1000000"})]),
            Reply(blocks=[Text(text="That was a lot.")]),
        ]
    )
    async with app_for(project).run_test(size=SIZE) as pilot:
        screen = workspace(pilot)
        screen.send("flood the log")
        await wait_until(pilot, lambda: "$ seq 1000000" in conversation_text(pilot))

        latencies: list[float] = []
        loop = asyncio.get_running_loop()
        while "✓ exit 0" not in conversation_text(pilot):
            typed = screen.prompt.text
            start = loop.time()
            pilot.app.post_message(events.Key("x", "x"))
            await wait_until(pilot, lambda typed=typed: screen.prompt.text == typed + "x")
            latencies.append(loop.time() - start)

        assert len(latencies) >= 3, "the flood ended before the keyboard was tried"
        assert max(latencies) < RESPONSIVENESS_BOUND, latencies
        await wait_until(pilot, lambda: log_lines(pilot)[-1].startswith("✓ exit 0"))
        lines = log_lines(pilot)
        assert len(lines) <= MAX_LINES
        assert lines[-2:] == ["  1000000", lines[-1]] and lines[-1].startswith("✓ exit 0")
        await pilot.pause()
        assert screen.shell.is_vertical_scroll_end  # the log followed the tail
