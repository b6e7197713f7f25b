"""The workspace's top line: project, sandbox, model, tokens and cost, pending changes."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from airlock.events import ChangesUpdated, Event, Usage


class WorkspaceHeader(Widget):
    """One line of facts about the workspace; the screen sets them, events update the rest."""

    DEFAULT_CSS = """
    WorkspaceHeader { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    project = reactive("")
    sandbox = reactive("not started")
    model = reactive("")
    activity = reactive("idle")
    tokens = reactive(0)
    cost = reactive(0.0)
    pending = reactive(0)

    def show(self, event: Event) -> None:
        """Take the events the header counts; others are ignored."""
        if isinstance(event, Usage):
            self.tokens = event.session_input_tokens + event.session_output_tokens
            self.cost = event.session_cost_usd
        elif isinstance(event, ChangesUpdated):
            self.pending = len(event.changes)

    def render(self) -> Content:
        sep = ("  │  ", "$text-muted")
        pending = f"{self.pending} pending" if self.pending else "no changes"
        return Content.assemble(
            (self.project, "bold $primary"),
            sep,
            self.sandbox,
            sep,
            self.model,
            sep,
            f"{_count(self.tokens)} tokens · ${self.cost:.4f}",
            sep,
            (pending, "bold $warning" if self.pending else "$text-muted"),
            sep,
            (self.activity, "italic $text-muted"),
        )


def _count(tokens: int) -> str:
    return f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)
