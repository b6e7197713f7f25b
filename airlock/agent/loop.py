"""The tool-use loop: stream a reply, run its tools in the sandbox, repeat until done."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
from anthropic.types import Message
from pydantic import BaseModel

from airlock.agent.dispatch import ToolRunner
from airlock.agent.failures import (
    AgentFailure,
    StreamCut,
    describe,
    is_retryable_stream_error,
)
from airlock.agent.pricing import TokenCount, cost_usd
from airlock.agent.prompt import PromptContext, system_blocks
from airlock.agent.tools import ToolTypes, tool_definitions
from airlock.agent.transcript import Transcript
from airlock.events import AgentError, AssistantText, Event, Status, TurnEnded, Usage, UserPrompt


class AgentSettings(BaseModel):
    model: str
    max_tokens: int = 8192
    tool_types: ToolTypes = "anthropic"
    max_steps: int = 100  # model calls in one turn before the agent stops itself
    stream_retries: int = 3  # tries again after a stream cut mid-response
    retry_delay: float = 1.0  # first backoff delay (doubles)
    sdk_retries: int = 4  # the SDK's own retries of 429/5xx/529 before a stream starts


class Agent:
    """One session's agent; `run_turn` is cancellable at any point (the user's Esc)."""

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        settings: AgentSettings,
        runner: ToolRunner,
        transcript: Transcript,
        context: Callable[[], Awaitable[PromptContext]],
        emit: Callable[[Event], None],
        extra_tools: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.runner = runner
        self.transcript = transcript
        self.context = context
        self.emit = emit
        self.extra_tools = extra_tools or list
        self.tokens = TokenCount()

    @property
    def cost_usd(self) -> float:
        return cost_usd(self.settings.model, self.tokens)

    async def run_turn(self, prompt: str) -> str:
        """Send the user's prompt and work until the model ends its turn; returns why it ended."""
        self.emit(UserPrompt(text=prompt))
        self.transcript.close_open_tool_uses()
        self.transcript.add_user_text(prompt)
        done: list[dict[str, Any]] = []
        try:
            for _ in range(self.settings.max_steps):
                message = await self._call_model()
                content = [block for block in map(_block_param, message.content) if block]
                if content:
                    self.transcript.add_assistant(content)
                uses = [block for block in message.content if block.type == "tool_use"]
                if not uses:
                    return self._end(message.stop_reason or "end_turn")
                done = []
                for use in uses:
                    if message.stop_reason == "max_tokens":
                        done.append(_cut_tool_use(use.id))
                        continue
                    outcome = await self.runner.run(use.id, use.name, dict(use.input))
                    done.append(outcome.block())
                self.transcript.add_tool_results(done)
                done = []
            self.emit(
                AgentError(
                    kind="internal",
                    message=f"stopped after {self.settings.max_steps} model calls in one turn",
                )
            )
            return self._end("max_steps")
        except AgentFailure as failure:
            self.emit(failure.event)
            return self._end("error")
        except asyncio.CancelledError:
            self.transcript.close_open_tool_uses(done)
            self.emit(TurnEnded(stop_reason="interrupted"))
            raise

    def _end(self, reason: str) -> str:
        self.emit(TurnEnded(stop_reason=reason))
        return reason

    async def _call_model(self) -> Message:
        """One model call, retried when the stream breaks; no text is shown twice."""
        shown: dict[int, str] = {}
        retries = self.settings.stream_retries
        for attempt in range(retries + 1):
            try:
                return await self._stream(shown)
            except Exception as exc:
                if not is_retryable_stream_error(exc) or attempt == retries:
                    raise AgentFailure(self._describe(exc)) from exc
                self.emit(
                    AgentError(
                        kind="connection",
                        retrying=True,
                        message=f"the response stream broke ({_short(exc)}); retrying",
                    )
                )
                await asyncio.sleep(self.settings.retry_delay * 2**attempt)
        raise AssertionError("unreachable")

    def _describe(self, exc: BaseException) -> AgentError:
        return describe(
            exc, self.settings.model, str(self.client.base_url), self.settings.sdk_retries
        )

    async def _stream(self, shown: dict[int, str]) -> Message:
        context = await self.context()
        received: dict[int, str] = {}
        async with self.client.messages.stream(
            model=self.settings.model,
            max_tokens=self.settings.max_tokens,
            system=system_blocks(context),  # type: ignore[arg-type]
            tools=tool_definitions(self.settings.tool_types, self.extra_tools()),  # type: ignore[arg-type]
            messages=self.transcript.api_messages(),  # type: ignore[arg-type]
        ) as stream:
            async for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    self._show_text(event.index, event.delta.text, received, shown)
            message = await stream.get_final_message()
        if message.stop_reason is None:
            raise StreamCut("the stream ended before the reply was complete")
        self._count(message)
        return message

    def _show_text(
        self, index: int, delta: str, received: dict[int, str], shown: dict[int, str]
    ) -> None:
        """Emit only text not already shown by an earlier, broken attempt of this call."""
        text = received.get(index, "") + delta
        received[index] = text
        before = shown.get(index, "")
        if len(text) <= len(before) and before.startswith(text):
            return
        if text.startswith(before):
            shown[index] = text
            self.emit(AssistantText(delta=text[len(before) :]))
            return
        shown[index] = text
        self.emit(Status(message="the reply changed when it was retried; showing the new one"))
        self.emit(AssistantText(delta=text))

    def _count(self, message: Message) -> None:
        usage = message.usage
        call = TokenCount(
            input=usage.input_tokens,
            output=usage.output_tokens,
            cache_read=usage.cache_read_input_tokens or 0,
            cache_write=usage.cache_creation_input_tokens or 0,
        )
        for field in ("input", "output", "cache_read", "cache_write"):
            setattr(self.tokens, field, getattr(self.tokens, field) + getattr(call, field))
        self.emit(
            Usage(
                input_tokens=call.input,
                output_tokens=call.output,
                cache_read_tokens=call.cache_read,
                cache_write_tokens=call.cache_write,
                session_input_tokens=self.tokens.input
                + self.tokens.cache_read
                + self.tokens.cache_write,
                session_output_tokens=self.tokens.output,
                session_cost_usd=self.cost_usd,
            )
        )


def _block_param(block: Any) -> dict[str, Any]:
    """A response content block as a request block (empty text blocks are dropped)."""
    if block.type == "text":
        return {"type": "text", "text": block.text} if block.text else {}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    dumped: dict[str, Any] = block.model_dump(exclude_none=True)
    return dumped


def _cut_tool_use(call_id: str) -> dict[str, Any]:
    return {
        "type": "tool_result",
        "tool_use_id": call_id,
        "content": "Your reply hit max_tokens before this tool call was complete; send it again.",
        "is_error": True,
    }


def _short(exc: BaseException) -> str:
    return str(exc).split("\n")[0][:120] or type(exc).__name__
