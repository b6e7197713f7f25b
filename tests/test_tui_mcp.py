"""MCP in the TUI: `ask` calls approved in a modal, and the MCP screen with a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from airlock.config import McpServerConfig, ProjectConfig, load_config
from airlock.demo.messages_server import Reply, Text, ToolUse
from airlock.mcp.approval import McpCallRequest, McpVerdict
from airlock.projects import update_project
from tests.mcp_servers.loopback import serve_notes
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
from tui.screens.mcp import McpScreen
from tui.screens.mcp_approval import McpApprovalScreen


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    with serve_notes("http") as url:
        yield url


def project_with(tmp_path: Path, *servers: McpServerConfig, allow: str = "") -> ProjectConfig:
    """A registered project whose config holds `servers` (and allows `allow`)."""
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    update = {"mcp": list(servers), "allowlist": [allow] if allow else []}
    update_project(project.model_copy(update=update))
    return load_config().projects[0]


def loopback(url: str) -> str:
    return f"127.0.0.1:{urlsplit(url).port}"


def call(tool: str, **arguments: Any) -> Reply:
    return Reply(blocks=[ToolUse(name=f"mcp__web__{tool}", input=arguments)])


def modal_text(pilot: Pilot[None]) -> str:
    screen = pilot.app.screen
    assert isinstance(screen, McpApprovalScreen)
    return "\n".join(str(static.render()) for static in screen.query(Static))


def row(table: DataTable[Any], key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


async def asked(pilot: Pilot[None], tool: str) -> str:
    """Wait for the modal about `tool`; what it shows."""

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, McpApprovalScreen) and screen.ask.request.tool == tool

    await wait_until(pilot, lambda: shown() and pilot.app.screen.query("#mcp-arguments-text"))
    return modal_text(pilot)


async def test_ask_calls_wait_in_a_modal_once_always_and_deny(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    server = McpServerConfig(name="web", url=web, policy="ask")
    project = project_with(tmp_path, server, allow=loopback(web))
    api = scripted_api.serve(
        [
            call("count_words", text="one two three"),
            call("count_words", text="a b"),
            call("count_words", text="x"),  # approved always before: not asked
            call("echo", text="[b]bold?[/b] \x9b31mred"),
            Reply(blocks=[Text(text="Done.")]),
        ]
    )
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("count")
        shown = await asked(pilot, "count_words")
        assert "notes: the agent wants to run a tool of the MCP server web" in shown
        assert "mcp__web__count_words" in shown
        assert '{\n  "text": "one two three"\n}' in shown
        await pilot.press("o")
        await wait_until(pilot, lambda: len(api.requests) >= 2)
        assert '"text": "a b"' in await asked(pilot, "count_words")
        await pilot.press("a")
        shown = await asked(pilot, "echo")
        assert '"text": "[b]bold?[/b] red"' in shown  # shown as written, escapes removed
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.working)
        assert pilot.app.screen is screen
    results = [block["content"] for r in api.requests for block in r.tool_results()]
    assert results == [
        '{\n  "words": 3\n}',
        '{\n  "words": 2\n}',
        '{\n  "words": 1\n}',
        "The user denied this call of mcp__web__echo.",
    ]


async def test_a_call_the_engine_withdraws_closes_its_modal(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    server = McpServerConfig(name="web", url=web, policy="ask")
    project = project_with(tmp_path, server, allow=loopback(web))
    scripted_api.serve([call("count_words", text="one")])
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("count")
        await asked(pilot, "count_words")
        screen.action_interrupt()  # the engine withdraws the question (the turn ends)

        def closed() -> bool:
            return not screen.working and pilot.app.screen is screen

        await wait_until(pilot, closed)
        assert screen.header.activity == "interrupted"


async def test_calls_waiting_together_are_asked_one_after_the_other(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    async with app_for(project).run_test(size=SIZE) as pilot:
        approve = pilot.app.mcp_calls.approver("notes")  # type: ignore[attr-defined]
        requests = [
            McpCallRequest(server="web", tool=tool, name=f"mcp__web__{tool}", arguments={})
            for tool in ("first", "second")
        ]
        answers = [asyncio.ensure_future(approve(request)) for request in requests]
        await asked(pilot, "first")
        await pilot.press("ctrl+o", "ctrl+s")  # other screens wait for the answer
        assert isinstance(pilot.app.screen, McpApprovalScreen)
        await pilot.press("d")
        await asked(pilot, "second")
        await pilot.press("enter")
        await wait_until(pilot, lambda: all(answer.done() for answer in answers))
        assert [answer.result() for answer in answers] == [McpVerdict.DENY, McpVerdict.ONCE]
        assert pilot.app.screen is workspace(pilot)


async def test_the_mcp_screen_shows_servers_live_and_changes_and_saves_a_policy(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    servers = [
        McpServerConfig(name="web", url=web, policy="ask"),
        McpServerConfig(name="elsewhere", url="http://127.0.0.1:9/mcp", policy="auto"),
    ]
    project = project_with(tmp_path, *servers, allow=loopback(web))
    scripted_api.serve([Reply(blocks=[Text(text="Hello.")])])
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f2")
        mcp = pilot.app.screen
        assert isinstance(mcp, McpScreen)
        table = mcp.query_one(DataTable)
        assert row(table, "web")[:5] == ["web", "http", "ask", "not started", "–"]
        await pilot.press("escape")

        screen = workspace(pilot)
        screen.send("hello")
        await wait_until(pilot, lambda: "Hello." in conversation_text(pilot))
        await wait_until(pilot, lambda: not screen.working)
        await pilot.press("f2")
        mcp = pilot.app.screen
        assert isinstance(mcp, McpScreen)
        table = mcp.query_one(DataTable)
        assert row(table, "web")[:5] == ["web", "http", "ask", "ready", "9"]
        failed = row(table, "elsewhere")
        assert failed[3] == "failed" and "127.0.0.1:9 is not allowed" in failed[5]
        detail = str(mcp.query_one("#server-detail", Static).render())
        assert f"web: {web}" in detail and "Tools: add_note, count_words, whoami" in detail

        await pilot.press("p")  # ask → deny, for this session: the bridge says so, live
        await wait_until(pilot, lambda: row(table, "web")[2] == "deny (not saved)")
        assert screen.session is not None
        assert [s.policy for s in screen.session.mcp.statuses() if s.server == "web"] == ["deny"]
        assert load_config().projects[0].mcp[0].policy == "ask"
        await pilot.press("s")
        assert load_config().projects[0].mcp[0].policy == "deny"
        assert row(table, "web")[2] == "deny"
        assert any("web: policy deny saved" in toast for toast in toasts(pilot))
