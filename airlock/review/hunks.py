"""Line hunks between two texts (diff-match-patch in line mode), and applying some of them.

Lines keep their exact endings internally, so CRLF files and a missing final
newline survive every round trip; `Hunk.lines` shows them without the `\\n`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from diff_match_patch import diff_match_patch

from airlock.review.models import DiffOp, Hunk

CONTEXT = 3
SNIFF_BYTES = 8192
DIFF_TIMEOUT = 2.0  # seconds; past it the diff is still correct, only less minimal
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
    """Every line of both texts, marked kept (` `), removed (`-`) or added (`+`)."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    chars_old, chars_new, lines = dmp.diff_linesToChars(old, new)
    diffs = dmp.diff_main(chars_old, chars_new, False)
    dmp.diff_charsToLines(diffs, lines)
    return [(OPS[op], line) for op, chunk in diffs for line in split_lines(chunk)]


def make_hunks(old: str, new: str, context: int = CONTEXT) -> list[Hunk]:
    """The hunks turning `old` into `new`; hunks whose contexts touch are merged."""
    ops = line_diff(old, new)
    changed = [index for index, (op, _) in enumerate(ops) if op != " "]
    groups: list[list[int]] = []
    for index in changed:
        if groups and index - groups[-1][-1] - 1 <= 2 * context:
            groups[-1].append(index)
        else:
            groups.append([index])
    hunks: list[Hunk] = []
    for group in groups:
        start, end = max(0, group[0] - context), min(len(ops), group[-1] + context + 1)
        hunks.append(_hunk(len(hunks), ops, start, end))
    return hunks


def _hunk(index: int, ops: Sequence[tuple[DiffOp, str]], start: int, end: int) -> Hunk:
    old_before = sum(op != "+" for op, _ in ops[:start])
    new_before = sum(op != "-" for op, _ in ops[:start])
    span = ops[start:end]
    old_lines = [line for op, line in span if op != "+"]
    new_lines = [line for op, line in span if op != "-"]
    return Hunk(
        index=index,
        old_start=old_before + 1 if old_lines else old_before,
        old_count=len(old_lines),
        new_start=new_before + 1 if new_lines else new_before,
        new_count=len(new_lines),
        lines=[(op, line.removesuffix("\n")) for op, line in span],
        old_no_newline=bool(old_lines) and not old_lines[-1].endswith("\n"),
        new_no_newline=bool(new_lines) and not new_lines[-1].endswith("\n"),
    )


def _side(hunk: Hunk, new: bool) -> list[str]:
    """The hunk's old or new lines, with their exact endings."""
    skip, no_newline = ("-", hunk.new_no_newline) if new else ("+", hunk.old_no_newline)
    lines = [line + "\n" for op, line in hunk.lines if op != skip]
    if lines and no_newline:
        lines[-1] = lines[-1][:-1]
    return lines


def _old_index(hunk: Hunk) -> int:
    return hunk.old_start - 1 if hunk.old_count else hunk.old_start


def apply_hunks(old: str, hunks: Sequence[Hunk], chosen: Collection[int]) -> str:
    """`old` with only the hunks whose index is in `chosen` applied."""
    lines = split_lines(old)
    out: list[str] = []
    position = 0
    for hunk in sorted(hunks, key=_old_index):
        start = _old_index(hunk)
        before = _side(hunk, new=False)
        if start < position or lines[start : start + len(before)] != before:
            raise ValueError(f"hunk {hunk.header} does not match the text it was made from")
        out.extend(lines[position:start])
        out.extend(_side(hunk, new=True) if hunk.index in chosen else before)
        position = start + len(before)
    out.extend(lines[position:])
    return "".join(out)


def merge_hunks(text: str, hunks: Sequence[Hunk]) -> tuple[str, list[Hunk]]:
    """Apply every hunk onto a text that changed since the hunks were made.

    A hunk applies only where its old lines (context included) are found exactly,
    nearest to where it is expected; returns the result and the hunks that did not.
    """
    lines = split_lines(text)
    failed: list[Hunk] = []
    drift, floor = 0, 0
    for hunk in sorted(hunks, key=_old_index):
        before, after = _side(hunk, new=False), _side(hunk, new=True)
        found = _find(lines, before, _old_index(hunk) + drift, floor)
        if found is None:
            failed.append(hunk)
            continue
        lines[found : found + len(before)] = after
        drift = found - _old_index(hunk) + len(after) - len(before)
        floor = found + len(after)
    return "".join(lines), failed


def _find(lines: list[str], block: list[str], expected: int, floor: int) -> int | None:
    """The start of `block` in `lines` at or after `floor`, nearest to `expected`."""
    if not block:  # only a hunk made from an empty text, which applies to an empty one
        return 0 if not lines else None
    size = len(block)
    starts = [
        index
        for index in range(floor, len(lines) - size + 1)
        if lines[index] == block[0] and lines[index : index + size] == block
    ]
    return min(starts, key=lambda index: abs(index - expected), default=None)
