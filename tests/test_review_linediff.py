"""The line diff: as short as dmp's, fast on big files, and right whatever path it takes."""

from __future__ import annotations

import random

import pytest

from airlock.review import linediff
from airlock.review.hunks import apply_hunks, line_diff, make_hunks


def lines(*names: str) -> str:
    return "".join(f"{name}\n" for name in names)


def kept(old: str, new: str) -> list[str]:
    return [line for op, line in line_diff(old, new) if op == " "]


def round_trips(old: str, new: str) -> None:
    hunks = make_hunks(old, new)
    assert apply_hunks(old, hunks, [hunk.index for hunk in hunks]) == new
    assert apply_hunks(old, hunks, []) == old
    ops = line_diff(old, new)
    assert "".join(line for op, line in ops if op != "+") == old
    assert "".join(line for op, line in ops if op != "-") == new


def test_lines_only_one_side_holds_are_removed_and_added_around_what_stays() -> None:
    old = lines("a", "b", "c", "d")
    new = lines("a", "B", "c", "d", "e")
    assert line_diff(old, new) == [
        (" ", "a\n"),
        ("-", "b\n"),
        ("+", "B\n"),
        (" ", "c\n"),
        (" ", "d\n"),
        ("+", "e\n"),
    ]


def test_moved_lines_keep_the_longest_run_in_order() -> None:
    old = lines("a", "b", "c", "d", "e", "f")
    new = lines("e", "f", "a", "b", "c", "d")
    assert kept(old, new) == ["a\n", "b\n", "c\n", "d\n"]
    round_trips(old, new)


def test_repeated_lines_between_anchors_are_diffed_by_dmp() -> None:
    old = lines("start", "x", "y", "x", "y", "end")
    new = lines("start", "y", "x", "y", "x", "y", "end")
    assert len(kept(old, new)) == 6  # start, end and four of the repeated lines
    round_trips(old, new)


def test_a_missing_final_newline_makes_a_line_differ() -> None:
    assert line_diff("a\nb", "a\nb\n") == [(" ", "a\n"), ("-", "b"), ("+", "b\n")]


def test_too_many_distinct_lines_replace_the_whole_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linediff, "MAX_CODES", 3)
    old, new = lines("a", "b", "c", "d"), lines("a", "b", "c", "e")
    assert [op for op, _ in line_diff(old, new)] == ["-"] * 4 + ["+"] * 4
    round_trips(old, new)


def test_random_edits_of_big_texts_with_repeats_round_trip() -> None:
    rng = random.Random(7)
    for _ in range(30):
        vocabulary = [f"line {n}" for n in range(rng.choice([5, 50, 5000]))]
        old = [rng.choice(vocabulary) for _ in range(rng.randint(0, 3000))]
        new = list(old)
        for _ in range(rng.randint(0, 300)):
            at = rng.randint(0, len(new))
            action = rng.random()
            if action < 0.3 and new:
                new[min(at, len(new) - 1)] = f"changed {rng.random()}"
            elif action < 0.5 and new:
                del new[min(at, len(new) - 1)]
            elif action < 0.8:
                new.insert(at, rng.choice(vocabulary))
            else:
                new[at:at] = new[rng.randint(0, len(new)) :][:20]  # a moved or copied block
        round_trips("\n".join(old), "\n".join(new) + rng.choice(["", "\n"]))
