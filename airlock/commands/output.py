"""Terminal output shared by the commands: colour when it is a terminal, JSON lines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

COLOURS = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "dim": "2", "bold": "1"}


def use_colour(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, colour: str, stream: Any = None) -> str:
    if not use_colour(stream):
        return text
    return f"\x1b[{COLOURS[colour]}m{text}\x1b[0m"


def print_json_array(items: Iterable[BaseModel]) -> None:
    """A JSON array of models (the `--json` contract of list-like commands)."""
    print(json.dumps([item.model_dump(mode="json") for item in items], indent=2))


def print_table(rows: list[list[str]], header: list[str]) -> None:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for index, row in enumerate([header, *rows]):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print(paint(line.rstrip(), "bold") if index == 0 else line.rstrip())
