"""The help screen (`?`): every key that works where the user was, with what it does."""

from __future__ import annotations

from typing import Any, NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Markdown

from tui.keys import user_actions
from tui.tables import RowTable

INTRO = """\
# Airlock

The agent works on a **copy** of your folder inside a sandbox. Nothing reaches your real
files until you review the changes (**ctrl+r**), approve them hunk by hunk, and sync.
Every sync can be undone. All actions are also in the command palette (**ctrl+p**), and
keys can be remapped in `config.toml` under `[keymap]` with the ids below.
"""


class HelpRow(NamedTuple):
    key: str
    description: str
    binding_id: str


def binding_rows(screen: Screen[Any]) -> list[HelpRow]:
    """The keys that work on `screen` (its focused widget, the screen, the app), described."""
    return [
        HelpRow(
            screen.app.get_key_display(active.binding),
            active.binding.tooltip or active.binding.description,
            active.binding.id or "",
        )
        for active in user_actions(screen)
    ]


class HelpScreen(ModalScreen[None]):
    """Keys of the screen underneath; esc closes."""

    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="help.close")]

    def __init__(self, rows: list[HelpRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(INTRO)
            yield RowTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Keymap id")
        for row in self.rows:
            table.add_row(*row)
        self.query_one("#help").border_title = "Help"
