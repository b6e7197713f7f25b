"""MCP tools in a real session: a streamable-HTTP (and SSE) server on loopback, the scripted
Messages API calling its tools through the agent loop, under each approval policy."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from airlock.commands.common import started
from airlock.config import AirlockConfig, McpPolicy, McpServerConfig, ProjectConfig
from airlock.demo.messages_server import MessagesServer, Reply, Text, ToolUse
from airlock.events import Event, McpServerStatus, ToolResult, TurnEnded
from airlock.mcp.approval import McpApprover, McpCallRequest, McpVerdict
from airlock.session import Session
from tests.mcp_servers.loopback import serve_notes
from tests.scripted_api import ScriptedApi


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    with serve_notes("http") as url:
        yield url


def project_for(tmp_path: Path, url: str, policy: McpPolicy, **server: Any) -> ProjectConfig:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    port = urlsplit(url).port
    return ProjectConfig(
        name="notes",
        path=folder,
        allowlist=[f"127.0.0.1:{port}"],
        mcp=[McpServerConfig(name="web", url=url, policy=policy, **server)],
    )


def calls(*inputs: dict[str, Any], tool: str = "mcp__web__count_words") -> list[Reply]:
    """A script calling `tool` once per input, then ending its turn."""
    uses = [Reply(blocks=[ToolUse(name=tool, input=given)]) for given in inputs]
    return [*uses, Reply(blocks=[Text(text="Done.")])]


async def run(project: ProjectConfig, approver: McpApprover | None = None) -> list[Event]:
    session = Session.create(project, AirlockConfig(), sandbox_choice="bwrap")
    events: list[Event] = []
    session.listeners.append(events.append)
    session.mcp.approver = approver
    async with started(session):
        await session.run_prompt("count the words")
    return events


def results(server: MessagesServer) -> list[tuple[str, bool]]:
    """Every tool_result the model received, in order."""
    return [
        (block["content"], block["is_error"])
        for request in server.requests
        for block in request.tool_results()
    ]


def offered(server: MessagesServer) -> set[str]:
    return {tool["name"] for tool in server.requests[0].body["tools"]}


async def test_agent_calls_an_http_servers_tool_through_the_loop(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(calls({"text": "one two three"}))
    events = await run(project_for(tmp_path, web, "auto"))
    schema = next(t for t in api.requests[0].body["tools"] if t["name"] == "mcp__web__count_words")
    assert schema["input_schema"]["properties"]["text"]["type"] == "string"
    assert results(api) == [('{\n  "words": 3\n}', False)]
    statuses = [(e.status, e.transport) for e in events if isinstance(e, McpServerStatus)]
    assert statuses == [("starting", "http"), ("ready", "http"), ("stopped", "http")]
    assert [e.stop_reason for e in events if isinstance(e, TurnEnded)] == ["end_turn"]


async def test_server_off_the_allowlist_fails_clearly_and_the_session_goes_on(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(calls({"text": "a"}))
    project = project_for(tmp_path, web, "auto")
    project.allowlist = []
    events = await run(project)
    failed = next(e for e in events if isinstance(e, McpServerStatus) and e.status == "failed")
    port = urlsplit(web).port
    assert failed.message == (
        f"127.0.0.1:{port} is not allowed (IP address not in allowlist): "
        f"add it with `airlock allow {project.path} 127.0.0.1:{port}`"
    )
    assert not any(name.startswith("mcp__") for name in offered(api))
    assert results(api) == [("Unknown tool 'mcp__web__count_words'.", True)]
    assert [e.stop_reason for e in events if isinstance(e, TurnEnded)] == ["end_turn"]


async def test_ask_policy_is_refused_when_nobody_can_be_asked(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(calls({"text": "a"}))
    await run(project_for(tmp_path, web, "ask"))
    assert results(api) == [
        (
            "The user did not approve mcp__web__count_words: the server web has policy ask "
            "and nobody can be asked here (run with --yes-mcp, or use the TUI).",
            True,
        )
    ]


async def test_ask_policy_once_always_and_deny(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    asked: list[McpCallRequest] = []
    answers = [McpVerdict.ONCE, McpVerdict.ALWAYS, McpVerdict.DENY]

    async def user(request: McpCallRequest) -> McpVerdict:
        """The TUI's way: a Future the modal resolves a little later."""
        asked.append(request)
        answer: asyncio.Future[McpVerdict] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, answer.set_result, answers.pop(0))
        return await answer

    api = scripted_api.serve(calls({"text": "a"}, {"text": "a b"}, {"text": "a b c"}))
    await run(project_for(tmp_path, web, "ask"), user)
    assert [content for content, _ in results(api)] == [
        '{\n  "words": 1\n}',
        '{\n  "words": 2\n}',
        '{\n  "words": 3\n}',  # approved "always" for the session: not asked again
    ]
    assert asked[0] == McpCallRequest(
        server="web", tool="count_words", name="mcp__web__count_words", arguments={"text": "a"}
    )
    assert len(asked) == 2

    answers[:] = [McpVerdict.DENY]
    denied = scripted_api.serve(calls({"text": "a"}))
    await run(project_for(tmp_path, web, "ask"), user)
    assert results(denied) == [("The user denied this call of mcp__web__count_words.", True)]


async def test_deny_policy_tools_are_never_offered_nor_run(
    tmp_path: Path, web: str, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(calls({"text": "a"}))
    events = await run(project_for(tmp_path, web, "deny"))
    ready = next(e for e in events if isinstance(e, McpServerStatus) and e.status == "ready")
    assert "count_words" in ready.tools  # the user still sees what it has
    assert not any(name.startswith("mcp__") for name in offered(api))
    assert results(api) == [("The MCP server web may not run tools (its policy is deny).", True)]


async def test_older_servers_are_reached_over_sse(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(calls({"text": "x y"}))
    with serve_notes("sse") as url:
        events = await run(project_for(tmp_path, url, "auto", transport="sse"))
    assert results(api) == [('{\n  "words": 2\n}', False)]
    ready = next(e for e in events if isinstance(e, McpServerStatus) and e.status == "ready")
    assert ready.transport == "sse"
    assert [e.is_error for e in events if isinstance(e, ToolResult)] == [False]
