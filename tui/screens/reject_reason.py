"""Ask for an optional reason: before rejecting changes, or when sending rejections back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from airlock.review.state import Rejection


class RejectReasonScreen(ModalScreen[str | None]):
    """Dismissed with the reason ("" for none) on enter, or None when cancelled with Esc."""

    CSS_PATH = "reject_reason.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reject-reason.cancel"),
    ]

    def __init__(self, title: str, placeholder: str = "Reason for the agent (optional)") -> None:
        super().__init__()
        self._title = title
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="reject-reason"):
            yield Static(Content(self._title), id="reject-reason-title")
            yield Input(placeholder=self._placeholder, id="reject-reason-input")
            yield Static(Content("enter confirms · esc cancels"), id="reject-reason-hint")

    @on(Input.Submitted)
    def _confirm(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def rejection_prompt(rejections: Sequence[Rejection], message: str) -> str:
    """The user's turn that gives rejections (and an optional message) back to the agent."""
    lines = ["I rejected these changes in review; they were reverted in the sandbox:"]
    lines += [f"- {rejection.describe()}" for rejection in rejections]
    if message:
        lines += ["", message]
    lines += ["", "Take this into account and propose a revised change."]
    return "\n".join(lines)
