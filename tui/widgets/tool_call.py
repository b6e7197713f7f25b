"""One tool call in the conversation: a compact line that expands to its input and result."""

from __future__ import annotations

import json
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from airlock.commands.printer import describe_call
from airlock.events import ToolCall, ToolResult
from airlock.sanitize import sanitize

RESULT_CHARS = 4_000  # the rest is in the shell log and the transcript


class ToolCallView(Vertical, can_focus=True):
    """`▶ $ ls -la  ✓ exit 0 · 0.1s`; enter (or a click) shows what went in and came out."""

    DEFAULT_CSS = """
    ToolCallView { height: auto; }
    ToolCallView > .tool-line { color: $text-secondary; }
    ToolCallView.-failed > .tool-line { color: $text-warning; }
    ToolCallView:focus > .tool-line { background: $boost; text-style: bold; }
    ToolCallView > .tool-detail { display: none; color: $text-muted; padding: 0 0 0 2; }
    ToolCallView.-open > .tool-detail { display: block; }
    """
    BINDINGS = [Binding("enter,space", "details", "Details", id="tool-call.details")]

    open = reactive(False)
    outcome = reactive("")

    def __init__(self, call: ToolCall) -> None:
        super().__init__()
        self.call_id = call.call_id
        self.summary = sanitize(describe_call(call))
        self._line = Static(classes="tool-line")
        self._input = Static(Content(_pretty(call.input)), classes="tool-detail")
        self._result = Static(Content("(running…)"), classes="tool-detail")

    def compose(self) -> ComposeResult:
        yield self._line
        yield self._input
        yield self._result

    def watch_open(self, open_: bool) -> None:
        self.set_class(open_, "-open")
        self._show_line()

    def watch_outcome(self) -> None:
        self._show_line()

    def _show_line(self) -> None:
        mark = "▼ " if self.open else "▶ "
        self._line.update(Content.assemble(mark, self.summary, ("  " + self.outcome, "bold")))

    def action_details(self) -> None:
        self.open = not self.open

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_details()

    def show_result(self, result: ToolResult) -> None:
        """Mark the call finished and keep (the start of) what it returned."""
        failed = result.is_error or bool(result.exit_code)
        if result.exit_code is not None:
            detail = f"exit {result.exit_code} · {result.duration or 0:.1f}s"
        else:
            detail = "failed" if result.is_error else "done"
        self.set_class(failed, "-failed")
        self.outcome = f"{'✗' if failed else '✓'} {detail}"
        content = sanitize(result.content)
        if len(content) > RESULT_CHARS:
            rest = len(content) - RESULT_CHARS
            content = f"{content[:RESULT_CHARS]}\n… ({rest} more characters)"
        self._result.update(Content(content))


def _pretty(arguments: dict[str, Any]) -> str:
    return sanitize(json.dumps(arguments, indent=2, ensure_ascii=False))
