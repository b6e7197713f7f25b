"""The line diff behind hunks: diff-match-patch, searched only where lines can still match.

Each line becomes one character (as in dmp's line mode). Lines only one text holds can
never be kept, so they are left out of the search (as git's xdiff does); of the rest,
lines found once in each text, in the same order, are kept as anchors (as patience diff
does), and dmp searches only the gaps between them. Its search grows with the size of a
text times its edits, so this keeps it small; the passes over every line run in C
(`map`, `zip`, `compress`), Python loops only over the places where the texts differ.
"""

from __future__ import annotations

import bisect
import operator
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress, repeat

from diff_match_patch import diff_match_patch

DIFF_TIMEOUT = 2.0  # seconds; past it the diff is still correct, only less minimal
MAX_CODES = 0x10FFFF  # one character a distinct line: past that the texts are replaced whole

# (op, line count): op 0 keeps lines, -1 removes lines of the old text, 1 adds new ones.
Run = list[int]


@dataclass(frozen=True)
class LineDiff:
    """The runs turning one text into another, and the lines of both (without newlines)."""

    runs: list[Run]
    old: list[str]
    new: list[str]
    old_no_newline: bool  # the old text's last line has no newline
    new_no_newline: bool


def split(text: str) -> tuple[list[str], bool]:
    """The lines of `text` without their newlines, and whether the last one lacks it."""
    lines = text.split("\n")
    last = lines.pop()
    if last:
        lines.append(last)
    return lines, bool(last)


def diff_lines(old: str, new: str) -> LineDiff:
    """The line diff of two texts."""
    old_lines, old_open = split(old)
    new_lines, new_open = split(new)
    old_keys, new_keys = _keys(old_lines, old_open), _keys(new_lines, new_open)
    shared = set(old_keys) & set(new_keys)
    if len(shared) >= MAX_CODES:
        runs = _runs(len(old_lines), len(new_lines), [], [])
        return LineDiff(runs, old_lines, new_lines, old_open, new_open)
    codes = dict(zip(shared, map(chr, range(1, len(shared) + 1)), strict=True))
    in_old, in_new = (
        list(map(shared.__contains__, old_keys)),
        list(map(shared.__contains__, new_keys)),
    )
    kept_old = list(compress(range(len(old_keys)), in_old))
    kept_new = list(compress(range(len(new_keys)), in_new))
    match_old, match_new = _matches(
        "".join(map(codes.__getitem__, compress(old_keys, in_old))),
        "".join(map(codes.__getitem__, compress(new_keys, in_new))),
    )
    runs = _runs(
        len(old_lines),
        len(new_lines),
        list(map(kept_old.__getitem__, match_old)),
        list(map(kept_new.__getitem__, match_new)),
    )
    return LineDiff(runs, old_lines, new_lines, old_open, new_open)


def _keys(lines: list[str], open_end: bool) -> list[str | tuple[str]]:
    """What makes two lines equal: their text, and for a last line whether it has a newline."""
    keys: list[str | tuple[str]] = list(lines)
    if open_end:
        keys[-1] = (lines[-1],)
    return keys


def _matches(old: str, new: str) -> tuple[list[int], list[int]]:
    """Indexes in old and in new of the lines kept: the anchors, and dmp's matches between.

    Every line of these coded texts is in both of them.
    """
    if old == new:  # the edits only removed or added lines of one side: all the rest is kept
        return list(range(len(old))), list(range(len(new)))
    dmp = diff_match_patch()
    deadline = time.time() + DIFF_TIMEOUT
    starts, ends = _anchors(old, new)
    starts, ends = [-1, *starts, len(old)], [-1, *ends, len(new)]
    match_old: list[int] = []
    match_new: list[int] = []
    taken = 1  # the anchors before this one are in the matches
    for k in _jumps(starts, ends):
        match_old += starts[taken : k + 1]
        match_new += ends[taken : k + 1]
        taken = k + 1
        at_old, at_new = starts[k] + 1, ends[k] + 1
        between_old, between_new = old[at_old : starts[k + 1]], new[at_new : ends[k + 1]]
        if between_old == between_new:  # the same lines on both sides, as often around edits
            match_old += range(at_old, starts[k + 1])
            match_new += range(at_new, ends[k + 1])
            continue
        if not between_old or not between_new:
            continue
        for op, text in dmp.diff_main(between_old, between_new, False, deadline):
            if op == 0:
                match_old += range(at_old, at_old + len(text))
                match_new += range(at_new, at_new + len(text))
            at_old += len(text) if op != 1 else 0
            at_new += len(text) if op != -1 else 0
    match_old += starts[taken:-1]
    match_new += ends[taken:-1]
    return match_old, match_new


def _anchors(old: str, new: str) -> tuple[list[int], list[int]]:
    """Indexes in old and in new of the lines unique to both texts, the longest ordered run.

    Every line of these coded texts is in both of them: twice in all is once in each.
    """
    counts = Counter(old)
    counts.update(new)
    unique = set(compress(counts, map(operator.eq, counts.values(), repeat(2))))
    in_old, in_new = list(map(unique.__contains__, old)), list(map(unique.__contains__, new))
    starts = list(compress(range(len(old)), in_old))
    ends = list(compress(range(len(new)), in_new))
    if "".join(compress(old, in_old)) == "".join(compress(new, in_new)):
        return starts, ends  # in the same order on both sides: all of them
    where = dict(zip(new, range(len(new)), strict=True))
    ends = [where[old[start]] for start in starts]
    chosen = _longest_increasing(ends)  # some lines moved: keep the longest ordered run
    return [starts[k] for k in chosen], [ends[k] for k in chosen]


def _longest_increasing(values: list[int]) -> list[int]:
    """Positions of a longest strictly increasing subsequence of `values` (patience sorting)."""
    tails: list[int] = []  # the smallest value ending an increasing run of each length
    tail_at: list[int] = []  # its position
    before = [-1] * len(values)  # the position preceding each one in its best run
    for position, value in enumerate(values):
        length = bisect.bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(position)
        else:
            tails[length] = value
            tail_at[length] = position
        before[position] = tail_at[length - 1] if length else -1
    chain: list[int] = []
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        chain.append(position)
        position = before[position]
    return chain[::-1]


def _jumps(starts: list[int], ends: list[int]) -> Iterator[int]:
    """The `k` where the pairs `starts[k]` ~ `ends[k]` and the next ones are not adjacent."""
    steps = zip(
        map(operator.sub, starts[1:], starts), map(operator.sub, ends[1:], ends), strict=True
    )
    return compress(range(len(starts) - 1), map(operator.ne, steps, repeat((1, 1))))


def _runs(old_count: int, new_count: int, match_old: list[int], match_new: list[int]) -> list[Run]:
    """The runs keeping the matched lines: between two matches, removals, then additions."""
    starts, ends = [-1, *match_old, old_count], [-1, *match_new, new_count]
    runs: list[Run] = []
    done = 0  # the old lines before this index are in `runs`
    for k in _jumps(starts, ends):
        first = starts[k] + 1
        if first > done:
            runs.append([0, first - done])
        if starts[k + 1] > first:
            runs.append([-1, starts[k + 1] - first])
        if ends[k + 1] > ends[k] + 1:
            runs.append([1, ends[k + 1] - ends[k] - 1])
        done = starts[k + 1]
    if old_count > done:
        runs.append([0, old_count - done])
    return runs
