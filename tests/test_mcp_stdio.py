"""stdio MCP servers run inside a real bubblewrap sandbox, spoken to with the SDK's Client."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from airlock.config import McpServerConfig, ProjectConfig
from airlock.events import Event, McpServerStatus
from airlock.mcp.bridge import McpBridge
from airlock.sandbox.bwrap import BwrapSandbox
from tests.mcp_servers.sandbox import (
    NOTES_SERVER,
    SERVER_ENV,
    require_sandbox_python,
    sdk_bind,
)


class Harness:
    """A project whose folder holds the notes server, a started sandbox, and the events."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path / "project"
        (self.folder / "tools").mkdir(parents=True)
        shutil.copy(NOTES_SERVER, self.folder / "tools" / "notes_server.py")
        self.sandbox = BwrapSandbox(tmp_path / "sandbox", binds=[sdk_bind()])
        self.events: list[Event] = []
        self.bridges: list[McpBridge] = []

    async def bridge(self, *servers: McpServerConfig, **options: Any) -> McpBridge:
        project = ProjectConfig(name="notes", path=self.folder, mcp=list(servers))
        bridge = McpBridge(project, self.events.append, **options)
        self.bridges.append(bridge)
        await bridge.start(self.sandbox)
        return bridge

    def statuses(self, server: str) -> list[McpServerStatus]:
        return [e for e in self.events if isinstance(e, McpServerStatus) and e.server == server]


def notes(**fields: Any) -> McpServerConfig:
    """The notes server as a user configures it: run from the project's copy in /workspace."""
    fields.setdefault("policy", "auto")
    fields.setdefault("name", "notes")
    return McpServerConfig(
        command="python3",
        args=["tools/notes_server.py"],
        env=SERVER_ENV,
        **fields,
    )


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    require_sandbox_python()
    made = Harness(tmp_path)
    await made.sandbox.start()
    # The sandbox holds the project as its baseline would: here, a plain copy.
    shutil.copytree(made.folder, made.sandbox.workspace, dirs_exist_ok=True)
    yield made
    for bridge in made.bridges:
        await bridge.close()
    await made.sandbox.close()


async def test_stdio_server_runs_in_the_sandbox_and_its_results_reach_the_model(
    harness: Harness,
) -> None:
    bridge = await harness.bridge(notes())
    ready = harness.statuses("notes")[-1]
    assert ready.status == "ready" and "add_note" in ready.tools
    offered = {tool["name"]: tool for tool in bridge.definitions()}
    assert offered["mcp__notes__add_note"]["input_schema"]["required"] == ["text"]
    assert offered["mcp__notes__add_note"]["description"].startswith("(MCP server notes)")

    whoami, _ = await bridge.call("mcp__notes__whoami", {})
    assert whoami == "uid=1000 cwd=/workspace python=/usr/bin/python3"
    assert await bridge.call("mcp__notes__add_note", {"text": "buy milk"}) == (
        "saved note in /workspace/notes.txt",
        False,
    )
    assert (harness.sandbox.workspace / "notes.txt").read_text() == "buy milk\n"
    assert not (harness.folder / "notes.txt").exists()  # the host project is untouched
    assert await bridge.call("mcp__notes__count_words", {"text": "a b c"}) == (
        '{\n  "words": 3\n}',
        False,
    )
    assert await bridge.call("mcp__notes__picture", {}) == ("[image: image/png, 70 B]", False)
    failed, is_error = await bridge.call("mcp__notes__fail", {})
    assert is_error and "the tool failed on purpose" in failed
    long, _ = await bridge.call("mcp__notes__echo", {"text": "word " * 200_000})  # 1 MB each way
    assert long.startswith("word word") and long.endswith("\n[… 900000 more characters cut]")


async def test_slow_call_times_out_and_a_crash_mid_call_withdraws_the_tools(
    harness: Harness,
) -> None:
    bridge = await harness.bridge(notes(timeout=0.5))
    assert await bridge.call("mcp__notes__sleep", {"seconds": 5}) == (
        "The MCP tool sleep did not answer within 0.5 s.",
        True,
    )
    assert await bridge.call("mcp__notes__count_words", {"text": "still here"}) == (
        '{\n  "words": 2\n}',
        False,
    )

    content, is_error = await bridge.call("mcp__notes__crash", {})
    assert is_error
    assert content.startswith("The MCP server notes stopped during the call")
    assert "exit code 3" in content and "crashing on request" in content
    failed = harness.statuses("notes")[-1]
    assert failed.status == "failed" and failed.tools == []
    assert "crashing on request" in failed.message
    assert bridge.definitions() == []
    after, is_error = await bridge.call("mcp__notes__count_words", {"text": "x"})
    assert is_error and after.startswith(
        "mcp__notes__count_words is not available: the MCP server notes has failed"
    )


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_a_server_adds_at_runtime_are_offered(harness: Harness, mode: str) -> None:
    """2026 servers announce changes on `subscriptions/listen`, older ones by notification."""
    bridge = await harness.bridge(notes(), mode=mode)
    assert "mcp__notes__shout" not in {tool["name"] for tool in bridge.definitions()}
    assert await bridge.call("mcp__notes__unlock", {}) == ("shout is available", False)
    await until(lambda: "shout" in harness.statuses("notes")[-1].tools)
    assert harness.statuses("notes")[-1].message == "its tools changed"
    assert "mcp__notes__shout" in {tool["name"] for tool in bridge.definitions()}
    assert await bridge.call("mcp__notes__shout", {"text": "hi"}) == ("HI", False)


async def test_servers_that_cannot_start_fail_with_their_stderr_and_others_go_on(
    harness: Harness,
) -> None:
    missing = McpServerConfig(name="missing", command="no-such-server")
    broken = McpServerConfig(
        name="broken", command="python3", args=["-c", "import sys; sys.exit('bad config')"]
    )
    disabled = notes(name="off", enabled=False)
    bridge = await harness.bridge(missing, broken, disabled, notes())
    assert harness.statuses("missing")[-1].status == "failed"
    assert "no-such-server: No such file or directory" in harness.statuses("missing")[-1].message
    assert harness.statuses("broken")[-1].message == (
        "the server exited while starting (exit code 1): bad config"
    )
    assert harness.statuses("off") == []
    assert [status.status for status in bridge.statuses()] == ["failed", "failed", "ready"]
    assert {tool["name"] for tool in bridge.definitions()} >= {"mcp__notes__add_note"}

    silent = McpServerConfig(name="silent", command="sleep", args=["30"])
    await harness.bridge(silent, startup_timeout=0.5)
    assert harness.statuses("silent")[-1].message == "did not start within 0.5 s"
