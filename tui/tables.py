"""What the screens that list things in a `DataTable` share: j/k like the review's file
list, coloured status words and the key of the row under the cursor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable


class RowTable(DataTable[Any]):
    """A row-cursor table that also moves with j and k."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


def status_text(app: App[Any], status: str, colours: Mapping[str, str]) -> Text:
    """`status` bold in the theme colour `colours` names for it, or dimmed if none."""
    colour = colours.get(status)
    if colour is None:
        return Text(status, style=Style(dim=True))
    return Text(status, style=Style(color=app.theme_variables.get(colour), bold=True))


def cursor_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor (None for an empty table)."""
    if not table.row_count:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
