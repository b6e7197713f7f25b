"""Line hunks between two texts (the line diff of `linediff`), and applying some of them.

Lines keep their exact endings internally, so CRLF files and a missing final
newline survive every round trip; `Hunk.lines` shows them without the `\\n`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import repeat

from airlock.review.linediff import LineDiff, diff_lines
from airlock.review.models import DiffOp, Hunk

CONTEXT = 3
SNIFF_BYTES = 8192
OPS: dict[int, DiffOp] = {0: " ", -1: "-", 1: "+"}


def decode_text(data: bytes) -> str | None:
    """The text of `data`, or None if it is binary (a NUL byte early on, or invalid UTF-8)."""
    if b"\0" in data[:SNIFF_BYTES]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its `\\n` (the last one may lack it)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def line_diff(old: str, new: str) -> list[tuple[DiffOp, str]]:
    """Every line of both texts (with its ending), marked kept, removed (`-`) or added (`+`)."""
    diff = diff_lines(old, new)
    old_lines, new_lines = split_lines(old), split_lines(new)
    ops: list[tuple[DiffOp, str]] = []
    at_old = at_new = 0
    for op, count in diff.runs:
        if op == 1:
            ops += [("+", line) for line in new_lines[at_new : at_new + count]]
            at_new += count
        else:
            ops += [(OPS[op], line) for line in old_lines[at_old : at_old + count]]
            at_old += count
            at_new += count if op == 0 else 0
    return ops


def make_hunks(old: str, new: str, context: int = CONTEXT) -> list[Hunk]:
    """The hunks turning `old` into `new`; hunks whose contexts touch are merged."""
    diff = diff_lines(old, new)
    hunks: list[Hunk] = []
    lines: list[tuple[DiffOp, str]] | None = None  # of the hunk being gathered
    first_old = first_new = 0  # where that hunk starts in each text
    at_old = at_new = 0  # lines of each text before the run
    last = len(diff.runs) - 1
    for number, (op, count) in enumerate(diff.runs):
        if op != 0:
            if lines is None:  # a change starts a hunk, with the lines before it
                lead = min(context, at_old, at_new)
                first_old, first_new = at_old - lead, at_new - lead
                lines = list(zip(repeat(" "), diff.old[first_old:at_old]))
            if op == 1:
                lines += zip(repeat("+"), diff.new[at_new : at_new + count])
            else:
                lines += zip(repeat("-"), diff.old[at_old : at_old + count])
        elif lines is not None:
            ends = count > 2 * context or number == last  # no change within reach
            kept = min(count, context) if ends else count
            lines += zip(repeat(" "), diff.old[at_old : at_old + kept])
            if ends:
                spans = (first_old, at_old + kept, first_new, at_new + kept)
                hunks.append(_hunk(len(hunks), diff, lines, *spans))
                lines = None
        at_old += count if op != 1 else 0
        at_new += count if op != -1 else 0
    if lines is not None:
        hunks.append(_hunk(len(hunks), diff, lines, first_old, at_old, first_new, at_new))
    return hunks


def _hunk(
    index: int,
    diff: LineDiff,
    lines: list[tuple[DiffOp, str]],
    old_from: int,
    old_to: int,
    new_from: int,
    new_to: int,
) -> Hunk:
    """The hunk of `lines`: old lines `old_from:old_to`, new lines `new_from:new_to`."""
    old_count, new_count = old_to - old_from, new_to - new_from
    return Hunk(
        index=index,
        old_start=old_from + 1 if old_count else old_from,
        old_count=old_count,
        new_start=new_from + 1 if new_count else new_from,
        new_count=new_count,
        lines=lines,
        old_no_newline=diff.old_no_newline and old_count > 0 and old_to == len(diff.old),
        new_no_newline=diff.new_no_newline and new_count > 0 and new_to == len(diff.new),
    )


def hunk_side(hunk: Hunk, new: bool) -> list[str]:
    """The hunk's old or new lines, with their exact endings."""
    skip, no_newline = ("-", hunk.new_no_newline) if new else ("+", hunk.old_no_newline)
    lines = [line + "\n" for op, line in hunk.lines if op != skip]
    if lines and no_newline:
        lines[-1] = lines[-1][:-1]
    return lines


def hunk_index(hunk: Hunk) -> int:
    """Where the hunk starts in the old text, 0-based."""
    return hunk.old_start - 1 if hunk.old_count else hunk.old_start


def apply_hunks(old: str, hunks: Sequence[Hunk], chosen: Collection[int]) -> str:
    """`old` with only the hunks whose index is in `chosen` applied."""
    lines = split_lines(old)
    out: list[str] = []
    position = 0
    for hunk in sorted(hunks, key=hunk_index):
        start = hunk_index(hunk)
        before = hunk_side(hunk, new=False)
        if start < position or lines[start : start + len(before)] != before:
            raise ValueError(f"hunk {hunk.header} does not match the text it was made from")
        out.extend(lines[position:start])
        out.extend(hunk_side(hunk, new=True) if hunk.index in chosen else before)
        position = start + len(before)
    out.extend(lines[position:])
    return "".join(out)
