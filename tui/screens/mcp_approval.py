"""Approve an MCP tool call of an `ask` server: once, always for this session, or deny."""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from airlock.mcp.approval import McpVerdict
from airlock.sanitize import sanitize
from tui.mcp_approvals import McpAsk

ARGUMENTS_SHOWN = 20_000  # characters of pretty-printed arguments; the rest is cut


class McpApprovalScreen(ModalScreen[None]):
    """Shows the call; the keys resolve its future, and it closes once the future is done
    (answered here, or withdrawn by the engine)."""

    CSS_PATH = "mcp_approval.tcss"
    AUTO_FOCUS = "#mcp-arguments"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o,enter", "answer('once')", "Allow once", id="mcp-approval.once"),
        Binding("a", "answer('always')", "Always (this session)", id="mcp-approval.always"),
        Binding("d,escape", "answer('deny')", "Deny", id="mcp-approval.deny"),
    ]

    def __init__(self, ask: McpAsk) -> None:
        super().__init__()
        self.ask = ask
        self._dismissed = False

    def compose(self) -> ComposeResult:
        request = self.ask.request
        with Vertical(id="mcp-approval"):
            yield Static(
                Content.assemble(
                    (sanitize(self.ask.project), "bold"),
                    ": the agent wants to run a tool of the MCP server ",
                    (sanitize(request.server), "bold"),
                ),
                id="mcp-approval-title",
            )
            yield Static(Content(sanitize(request.name)), id="mcp-tool")
            with VerticalScroll(id="mcp-arguments"):
                yield Static(Content(arguments_text(request.arguments)), id="mcp-arguments-text")
            yield Static(
                Content("o/enter once · a always for this session · d/esc deny"),
                id="mcp-approval-hint",
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#mcp-approval").border_title = "MCP tool call"
        self.query_one("#mcp-arguments").border_title = "Arguments"
        self.ask.answer.add_done_callback(self._settled)

    def on_screen_resume(self) -> None:
        self._close()  # in case it was settled while another screen was on top

    def action_answer(self, verdict: str) -> None:
        if not self.ask.answer.done():
            self.ask.answer.set_result(McpVerdict(verdict))
        self._close()

    def _settled(self, _: asyncio.Future[McpVerdict]) -> None:
        self.call_later(self._close)  # on the screen's own queue, like a key's action

    def _close(self) -> None:
        if self.ask.answer.done() and not self._dismissed and self.is_attached and self.is_active:
            self._dismissed = True
            self.dismiss()


def arguments_text(arguments: dict[str, object]) -> str:
    """The call's arguments as indented JSON, sanitised and cut to a readable size."""
    text = sanitize(json.dumps(arguments, indent=2, ensure_ascii=False, default=str))
    if len(text) > ARGUMENTS_SHOWN:
        text = f"{text[:ARGUMENTS_SHOWN]}\n… ({len(text) - ARGUMENTS_SHOWN} more characters)"
    return text
