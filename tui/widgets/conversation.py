"""The conversation: prompts, the assistant's streamed Markdown, and compact tool calls."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from airlock.agent.transcript import TranscriptMessage
from airlock.events import (
    AgentError,
    AssistantText,
    Event,
    ToolCall,
    ToolResult,
    TurnEnded,
    UserPrompt,
)
from airlock.sanitize import sanitize
from tui.widgets.tool_call import ToolCallView

HIDDEN_TOOLS = {"update_plan"}  # shown by the plan tree instead


class Conversation(VerticalScroll, can_focus=True):
    """Follows the newest message unless the user scrolled up."""

    DEFAULT_CSS = """
    Conversation > .prompt { color: $text-primary; text-style: bold; margin: 1 0 0 0; }
    Conversation > .prompt.-waiting { color: $text-muted; }
    Conversation > .note { color: $text-muted; text-style: italic; }
    Conversation > .note.-error { color: $text-error; text-style: none; }
    Conversation > Markdown { margin: 0; padding: 0; background: transparent; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._calls: dict[str, ToolCallView] = {}
        self._reply: MarkdownStream | None = None
        self._waiting: tuple[Static, str] | None = None

    def on_mount(self) -> None:
        self.border_title = "Conversation"
        self.anchor()

    async def show(self, event: Event) -> None:
        """Take the events the conversation shows; others are ignored."""
        if isinstance(event, AssistantText):
            await self._append_reply(sanitize(event.delta))
            return
        if isinstance(event, UserPrompt | ToolCall | TurnEnded | AgentError):
            await self._end_reply()
        if isinstance(event, UserPrompt):
            self._prompt_sent(sanitize(event.text))
        elif isinstance(event, ToolCall) and event.name not in HIDDEN_TOOLS:
            self._add_call(event)
        elif isinstance(event, ToolResult) and event.call_id in self._calls:
            self._calls[event.call_id].show_result(event)
        elif isinstance(event, AgentError):
            prefix = "retrying: " if event.retrying else "error: "
            self.note(prefix + event.message, error=not event.retrying)
        elif isinstance(event, TurnEnded) and event.stop_reason not in ("end_turn", "tool_use"):
            self.note(f"(turn ended: {event.stop_reason})")

    def waiting_prompt(self, text: str) -> None:
        """A prompt the user sent that waits for the sandbox; its `UserPrompt` confirms it."""
        text = sanitize(text)
        shown = Static(Content(f"› {text}"), classes="prompt -waiting")
        self._waiting = (shown, text)
        self.mount(shown)

    async def clear(self) -> None:
        """Show nothing (before another session is replayed)."""
        await self._end_reply()
        self._calls.clear()
        self._waiting = None
        await self.remove_children()

    def note(self, text: str, *, error: bool = False) -> None:
        """A line of Airlock's own: errors, interruptions."""
        self.mount(Static(Content(sanitize(text)), classes="note -error" if error else "note"))

    def show_transcript(self, messages: list[TranscriptMessage]) -> None:
        """Replay a resumed session's conversation."""
        for message in messages:
            for block in message.content:
                self._replay(message.role, block)

    def _replay(self, role: str, block: dict[str, Any]) -> None:
        kind = block.get("type")
        if kind == "text" and role == "user":
            self._prompt_sent(sanitize(str(block.get("text", ""))))
        elif kind == "text":
            self.mount(Markdown(sanitize(str(block.get("text", ""))), open_links=False))
        elif kind == "tool_use" and block.get("name") not in HIDDEN_TOOLS:
            arguments = block.get("input")
            call = ToolCall(
                call_id=str(block.get("id")),
                name=str(block.get("name")),
                input=arguments if isinstance(arguments, dict) else {},
            )
            self._add_call(call)
        elif kind == "tool_result" and block.get("tool_use_id") in self._calls:
            result = ToolResult(
                call_id=str(block["tool_use_id"]),
                name="",
                content=_result_text(block.get("content")),
                is_error=bool(block.get("is_error")),
            )
            self._calls[result.call_id].show_result(result)

    def _prompt_sent(self, text: str) -> None:
        waiting, self._waiting = self._waiting, None
        if waiting is not None and waiting[1] == text:
            waiting[0].remove_class("-waiting")
            return
        self.mount(Static(Content(f"› {text}"), classes="prompt"))

    def _add_call(self, call: ToolCall) -> None:
        view = ToolCallView(call)
        self._calls[call.call_id] = view
        self.mount(view)

    async def _append_reply(self, text: str) -> None:
        if self._reply is None:
            markdown = Markdown(open_links=False)
            await self.mount(markdown)
            self._reply = Markdown.get_stream(markdown)
        await self._reply.write(text)

    async def _end_reply(self) -> None:
        reply, self._reply = self._reply, None
        if reply is not None:
            await reply.stop()


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")
