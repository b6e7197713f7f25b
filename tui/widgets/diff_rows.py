"""The rows of a diff, one per screen line, in the unified or the side-by-side layout.

Rows are named tuples, cheap to build (a 20,000-line diff is 20,000 rows); drawing
them (highlighting, styles) happens only for the rows on screen, in `DiffView`.
"""

from __future__ import annotations

import textwrap
from typing import Literal, NamedTuple

from airlock.commands.diffs import NO_NEWLINE
from airlock.review.models import DiffOp, Hunk
from tui.widgets.diff_model import DiffModel, Note

TextKind = Literal["info", "warn", "error", "hunk", "eof", "titles"]


class Cell(NamedTuple):
    """One side of a diff line: its number in that version, its mark and text."""

    op: DiffOp
    number: int
    text: str


class LineRow(NamedTuple):
    """A diff line: unified rows have one side (or both for context), split rows pair them."""

    hunk: int
    old: Cell | None
    new: Cell | None


class TextRow(NamedTuple):
    """A full-width row: a note, a hunk header, an end-of-file marker or column titles."""

    kind: TextKind
    text: str
    hunk: int | None = None
    right: str = ""  # the right column's title (`titles` rows)


Row = LineRow | TextRow


def note_rows(notes: list[Note], width: int) -> list[Row]:
    """The notes, wrapped to `width`."""
    return [
        TextRow(note.level, line)
        for note in notes
        for line in textwrap.wrap(note.text, max(10, width), subsequent_indent="  ")
    ]


def build_rows(model: DiffModel, split: bool) -> list[Row]:
    """Every row of the model's hunks in one layout (the notes go above them)."""
    rows: list[Row] = []
    if split and model.hunks:
        rows.append(TextRow("titles", model.labels[0], right=model.labels[1]))
    for hunk in model.hunks:
        if not model.comparison:
            rows.append(TextRow("hunk", hunk.header, hunk.index))
        rows += _split(hunk) if split else _unified(hunk)
        if hunk.old_no_newline or hunk.new_no_newline:
            rows.append(TextRow("eof", NO_NEWLINE, hunk.index))
    return rows


def hunk_spans(rows: list[Row]) -> dict[int, tuple[int, int]]:
    """Hunk index -> (first row, last row) of its rows."""
    spans: dict[int, tuple[int, int]] = {}
    for y, row in enumerate(rows):
        if row.hunk is not None:
            first = spans.get(row.hunk, (y, y))[0]
            spans[row.hunk] = (first, y)
    return spans


def _unified(hunk: Hunk) -> list[Row]:
    rows: list[Row] = []
    old_no, new_no = hunk.old_start, hunk.new_start
    for op, text in hunk.lines:
        old = Cell(op, old_no, text) if op != "+" else None
        new = Cell(op, new_no, text) if op != "-" else None
        rows.append(LineRow(hunk.index, old, new))
        old_no += op != "+"
        new_no += op != "-"
    return rows


def _split(hunk: Hunk) -> list[Row]:
    """Context on both sides; a run of removals is paired with the additions after it."""
    rows: list[Row] = []
    removed: list[Cell] = []
    added: list[Cell] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            old = removed[k] if k < len(removed) else None
            new = added[k] if k < len(added) else None
            rows.append(LineRow(hunk.index, old, new))
        removed.clear()
        added.clear()

    old_no, new_no = hunk.old_start, hunk.new_start
    for op, text in hunk.lines:
        if op == " ":
            flush()
            rows.append(LineRow(hunk.index, Cell(op, old_no, text), Cell(op, new_no, text)))
        elif op == "-":
            if added:
                flush()
            removed.append(Cell(op, old_no, text))
        else:
            added.append(Cell(op, new_no, text))
        old_no += op != "+"
        new_no += op != "-"
    flush()
    return rows
