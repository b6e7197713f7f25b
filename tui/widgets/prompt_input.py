"""The prompt box: a small TextArea where enter sends and ctrl+j (or shift+enter) adds a line."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    """Where the user writes to the agent."""

    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 8; }
    """
    BINDINGS = [
        Binding("enter", "send", "Send", priority=True, id="prompt.send"),
        Binding(
            "ctrl+j,shift+enter", "newline", "New line", show=False, id="prompt.newline"
        ),  # the placeholder says so; the footer keeps room for help
    ]

    class Submitted(Message):
        """The user sent `text`."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            placeholder="Ask the agent…  (enter sends, ctrl+j adds a line)",
        )

    def action_send(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(text))

    def action_newline(self) -> None:
        self.insert("\n")
