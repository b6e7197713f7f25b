"""What the app shows before any project is open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.keys import key_for

WELCOME = """\
[b $primary]Airlock[/]

An AI coworker that works on a copy of your folder inside a sandbox.
Nothing reaches your files until you approve the diff.

[b]$projects[/]  open a project, or add one ([b]n[/] in the list)
[b]$quit[/]  quit, then try [b]airlock demo[/] for a guided sample
[b]$help[/]  every key
"""


class WelcomeScreen(Screen[None]):
    """The empty state: how to add a project or try the demo."""

    DEFAULT_CSS = """
    WelcomeScreen #welcome { width: auto; padding: 1 4; border: round $primary; }
    """

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(id="welcome")
        yield Footer()

    def on_mount(self) -> None:
        keys = {name: key_for(self, name) for name in ("projects", "quit", "help")}
        width = max(len(key) for key in keys.values())
        padded = {name: key.ljust(width) for name, key in keys.items()}
        self.query_one("#welcome", Static).update(Content.from_markup(WELCOME, **padded))
