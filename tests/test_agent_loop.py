"""The agent loop against the scripted Messages API server (real SDK, real SSE, real bwrap)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from airlock.agent.dispatch import ToolRunner
from airlock.agent.loop import Agent, AgentSettings
from airlock.agent.prompt import PromptContext
from airlock.agent.transcript import INTERRUPTED, Transcript
from airlock.demo.messages_server import Reply, Request, Text, ToolUse
from airlock.events import (
    AgentError,
    AssistantText,
    Event,
    PlanUpdated,
    ShellOutput,
    ToolResult,
    TurnEnded,
    Usage,
)
from airlock.review.store import ObjectStore
from airlock.sandbox.bwrap import BwrapSandbox
from tests.scripted_api import ScriptedApi


class Harness:
    """An agent wired to a bwrap sandbox, collecting every event it emits."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.events: list[Event] = []
        self.notes: list[str] = []
        self.sandbox = BwrapSandbox(tmp_path / "sandbox")
        self.transcript = Transcript(tmp_path / "transcript.jsonl")
        self.runner = ToolRunner(self.sandbox, self.events.append, self.notes.append)
        settings.setdefault("retry_delay", 0.01)
        self.settings = AgentSettings(model="claude-test", **settings)
        self._agent: Agent | None = None

    @property
    def agent(self) -> Agent:
        """Built on first use, once the test has pointed ANTHROPIC_BASE_URL at its server."""
        if self._agent is None:
            client = anthropic.AsyncAnthropic(max_retries=2)
            self._agent = Agent(
                client,
                self.settings,
                self.runner,
                self.transcript,
                self.context,
                self.events.append,
            )
        return self._agent

    async def context(self) -> PromptContext:
        return PromptContext(project_name="notes", instructions="Use metric units.")

    async def start(self) -> None:
        await self.sandbox.start()
        await self.sandbox.load({}, ObjectStore(self.sandbox_root.parent / "objects"))

    @property
    def sandbox_root(self) -> Path:
        return self.sandbox.root

    async def close(self) -> None:
        if self._agent is not None:
            await self._agent.client.close()
        await self.sandbox.close()

    def of(self, kind: type[Event]) -> list[Any]:  # type: ignore[valid-type]
        return [event for event in self.events if isinstance(event, kind)]

    def text(self) -> str:
        return "".join(event.delta for event in self.of(AssistantText))


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    made = Harness(tmp_path)
    await made.start()
    yield made
    await made.close()


async def test_multi_turn_tool_use_sends_real_command_output_back(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    server = scripted_api.serve(
        [
            Reply(
                blocks=[
                    Text(text="Let me write a file."),
                    ToolUse(
                        id="toolu_1",
                        name="bash",
                        input={"command": "echo hi > a.txt; echo out; echo err >&2; exit 3"},
                    ),
                ]
            ),
            Reply(blocks=[Text(text="All done.")]),
        ]
    )
    assert await harness.agent.run_turn("make a.txt") == "end_turn"
    results = server.requests[1].tool_results()
    assert results[0]["tool_use_id"] == "toolu_1"
    assert "exit code: 3" in results[0]["content"]
    assert "<stdout>\nout\n</stdout>" in results[0]["content"]
    assert "<stderr>\nerr\n</stderr>" in results[0]["content"]
    assert (harness.sandbox_root / "workspace" / "a.txt").read_text() == "hi\n"
    shell = [(event.stream, event.text) for event in harness.of(ShellOutput)]
    assert ("stdout", "out\n") in shell and ("stderr", "err\n") in shell
    assert harness.text() == "Let me write a file.All done."
    assert harness.of(TurnEnded)[-1].stop_reason == "end_turn"


async def test_system_prompt_and_tools_are_cached_and_carry_instructions(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    server = scripted_api.serve([Reply(blocks=[Text(text="ok")])])
    await harness.agent.run_turn("hi")
    body = server.requests[0].body
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Use metric units." in body["system"][0]["text"]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert {"type": "bash_20250124", "name": "bash"} in body["tools"]
    assert any(tool.get("type") == "text_editor_20250728" for tool in body["tools"])
    headers = server.requests[0].headers
    assert "test-key-not-real" in (headers.get("x-api-key", "") + headers.get("authorization", ""))


async def test_json_schema_tool_switch_sends_plain_tools(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    made = Harness(tmp_path, tool_types="json-schema")
    await made.start()
    server = scripted_api.serve([Reply(blocks=[Text(text="ok")])])
    await made.agent.run_turn("hi")
    tools = server.requests[0].body["tools"]
    assert all("type" not in tool for tool in tools)
    assert {tool["name"] for tool in tools} >= {"bash", "str_replace_based_edit_tool"}
    await made.close()


async def test_editor_tool_creates_views_and_replaces_with_helpful_errors(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    def edit(**arguments: Any) -> ToolUse:
        return ToolUse(name="str_replace_based_edit_tool", input=arguments)

    server = scripted_api.serve(
        [
            Reply(
                blocks=[
                    edit(command="create", path="/workspace/n.txt", file_text="one\ntwo\ntwo\n"),
                    edit(
                        command="str_replace", path="/workspace/n.txt", old_str="two", new_str="2"
                    ),
                    edit(
                        command="str_replace", path="/workspace/n.txt", old_str="six", new_str="6"
                    ),
                    edit(
                        command="str_replace", path="/workspace/n.txt", old_str="one", new_str="1"
                    ),
                    edit(command="insert", path="/workspace/n.txt", insert_line=0, new_str="zero"),
                    edit(command="view", path="/workspace/n.txt", view_range=[1, 2]),
                    edit(command="view", path="/etc/passwd"),
                    edit(command="view", path="/workspace/../etc/passwd"),
                    edit(command="view", path="/workspace"),
                ]
            ),
            Reply(blocks=[Text(text="done")]),
        ]
    )
    await harness.agent.run_turn("edit")
    results = server.requests[1].tool_results()
    assert results[0]["is_error"] is False
    assert results[1]["is_error"] and "occurs 2 times" in results[1]["content"]
    assert results[2]["is_error"] and "was not found" in results[2]["content"]
    assert not results[3]["is_error"]
    assert not results[4]["is_error"]
    assert results[5]["content"] == "     1\tzero\n     2\t1"
    assert results[6]["is_error"] and "only paths under /workspace" in results[6]["content"]
    assert results[7]["is_error"]
    assert "n.txt" in results[8]["content"]
    assert (harness.sandbox_root / "workspace" / "n.txt").read_text() == "zero\n1\ntwo\ntwo\n"


async def test_plan_and_memory_tools(harness: Harness, scripted_api: ScriptedApi) -> None:
    items = [
        {"title": "Look", "status": "done", "children": [{"title": "ls", "status": "done"}]},
        {"title": "Write", "status": "in_progress"},
    ]
    scripted_api.serve(
        [
            Reply(
                blocks=[
                    ToolUse(name="update_plan", input={"items": items}),
                    ToolUse(name="update_plan", input={"items": [{"title": ""}]}),
                    ToolUse(name="remember", input={"note": "The user likes tables."}),
                ]
            ),
            Reply(blocks=[Text(text="ok")]),
        ]
    )
    await harness.agent.run_turn("plan")
    plans = harness.of(PlanUpdated)
    assert len(plans) == 1
    assert plans[0].items[0].children[0].title == "ls"
    assert harness.of(ToolResult)[1].is_error
    assert harness.notes == ["The user likes tables."]


async def test_529_is_retried_then_succeeds(harness: Harness, scripted_api: ScriptedApi) -> None:
    server = scripted_api.serve(
        [Reply(status=529, retry_after=0.01), Reply(blocks=[Text(text="recovered")])]
    )
    assert await harness.agent.run_turn("hi") == "end_turn"
    assert harness.text() == "recovered"
    assert len(server.requests) == 2


async def test_rate_limit_exhausted_is_one_clear_error(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    scripted_api.serve([Reply(status=429, retry_after=0.01)] * 5)
    assert await harness.agent.run_turn("hi") == "error"
    errors = harness.of(AgentError)
    assert errors[-1].kind == "rate_limit" and "429" in errors[-1].message


async def test_bad_key_gives_one_clear_line(harness: Harness, scripted_api: ScriptedApi) -> None:
    scripted_api.serve([Reply(status=401)])
    assert await harness.agent.run_turn("hi") == "error"
    (error,) = harness.of(AgentError)
    assert error.kind == "auth"
    assert "ANTHROPIC_API_KEY" in error.message and "\n" not in error.message


async def test_stream_cut_mid_message_is_retried_without_duplicates(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    full = Reply(blocks=[Text(text="The quick brown fox jumps over the lazy dog.")], chunk=5)
    cut = full.model_copy(update={"cut_after_events": 6})
    server = scripted_api.serve([cut, full])
    assert await harness.agent.run_turn("hi") == "end_turn"
    assert harness.text() == "The quick brown fox jumps over the lazy dog."
    assert [e.retrying for e in harness.of(AgentError)] == [True]
    assert len(server.requests) == 2
    assistant = [m for m in harness.transcript.messages if m.role == "assistant"]
    assert len(assistant) == 1


async def test_overloaded_error_event_mid_stream_is_retried(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    scripted_api.serve(
        [
            Reply(blocks=[Text(text="part")], stream_error="overloaded_error"),
            Reply(blocks=[Text(text="partial and whole")]),
        ]
    )
    assert await harness.agent.run_turn("hi") == "end_turn"
    assert harness.text().endswith("whole")


async def test_interrupt_during_command_kills_it_and_keeps_transcript_valid(
    harness: Harness, scripted_api: ScriptedApi
) -> None:
    server = scripted_api.serve(
        [
            Reply(blocks=[ToolUse(id="toolu_slow", name="bash", input={"command": "sleep 60"})]),
            Reply(blocks=[Text(text="back")]),
        ]
    )
    task = asyncio.create_task(harness.agent.run_turn("wait"))
    for _ in range(200):
        if any(event.type == "tool_call" for event in harness.events):
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert harness.of(TurnEnded)[-1].stop_reason == "interrupted"
    last = harness.transcript.messages[-1]
    assert last.role == "user"
    assert last.content[0]["tool_use_id"] == "toolu_slow"
    assert last.content[0]["content"] == INTERRUPTED
    # The session goes on: the next prompt is sent after the interrupted result.
    assert await harness.agent.run_turn("go on") == "end_turn"
    sent: Request = server.requests[-1]
    assert sent.messages[-1]["content"][0]["type"] == "tool_result"
    assert sent.messages[-1]["content"][-1] == {"type": "text", "text": "go on"}


async def test_interrupt_mid_stream_stops_it(harness: Harness, scripted_api: ScriptedApi) -> None:
    scripted_api.serve([Reply(blocks=[Text(text="x" * 200)], chunk=2, event_delay=0.05)])
    task = asyncio.create_task(harness.agent.run_turn("talk"))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 0 < len(harness.text()) < 200
    assert [m.role for m in harness.transcript.messages] == ["user"]


async def test_usage_and_cost_accumulate(harness: Harness, scripted_api: ScriptedApi) -> None:
    scripted_api.serve(
        [
            Reply(
                blocks=[ToolUse(name="bash", input={"command": "true"})],
                input_tokens=1000,
                output_tokens=100,
            ),
            Reply(blocks=[Text(text="ok")], input_tokens=2000, output_tokens=50),
        ]
    )
    await harness.agent.run_turn("hi")
    last = harness.of(Usage)[-1]
    assert last.session_input_tokens == 3000 and last.session_output_tokens == 150
    assert last.session_cost_usd == pytest.approx((3000 * 3 + 150 * 15) / 1e6)


async def test_transcript_survives_a_restart(tmp_path: Path, scripted_api: ScriptedApi) -> None:
    first = Harness(tmp_path)
    await first.start()
    scripted_api.serve([Reply(blocks=[Text(text="first answer")]), Reply(blocks=[Text(text="2")])])
    await first.agent.run_turn("one")
    again = Harness(tmp_path)
    assert [m.role for m in again.transcript.messages] == ["user", "assistant"]
    await again.agent.run_turn("two")
    sent = scripted_api.servers[0].requests[-1].messages
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    await first.close()
    await again.close()
