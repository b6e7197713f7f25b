"""Hunks: line diffs split into approvable pieces that reassemble byte for byte."""

from __future__ import annotations

import random

import pytest

from airlock.review.hunks import apply_hunks, decode_text, make_hunks
from airlock.review.merge import merge_hunks

OLD = "".join(f"line {n}\n" for n in range(1, 31))


def edit(text: str, *replacements: tuple[str, str]) -> str:
    for before, after in replacements:
        assert before in text
        text = text.replace(before, after, 1)
    return text


def test_distant_edits_make_separate_hunks_with_three_lines_of_context() -> None:
    new = edit(OLD, ("line 5\n", "LINE 5\n"), ("line 20\n", "LINE 20\n"))
    hunks = make_hunks(OLD, new)
    assert [h.header for h in hunks] == ["@@ -2,7 +2,7 @@", "@@ -17,7 +17,7 @@"]
    assert hunks[0].lines == [
        (" ", "line 2"),
        (" ", "line 3"),
        (" ", "line 4"),
        ("-", "line 5"),
        ("+", "LINE 5"),
        (" ", "line 6"),
        (" ", "line 7"),
        (" ", "line 8"),
    ]


def test_edits_whose_contexts_touch_are_one_hunk() -> None:
    new = edit(OLD, ("line 5\n", "LINE 5\n"), ("line 12\n", "LINE 12\n"))
    assert len(make_hunks(OLD, new)) == 1
    new = edit(OLD, ("line 5\n", "LINE 5\n"), ("line 13\n", "LINE 13\n"))
    assert len(make_hunks(OLD, new)) == 2


def test_each_subset_of_hunks_applies_exactly() -> None:
    new = edit(OLD, ("line 2\n", ""), ("line 15\n", "fifteen\nand a half\n"), ("line 30\n", "end"))
    hunks = make_hunks(OLD, new)
    assert len(hunks) == 3
    assert apply_hunks(OLD, hunks, {0, 1, 2}) == new
    assert apply_hunks(OLD, hunks, set()) == OLD
    assert apply_hunks(OLD, hunks, {1}) == edit(OLD, ("line 15\n", "fifteen\nand a half\n"))
    assert apply_hunks(OLD, hunks, {0, 2}) == edit(OLD, ("line 2\n", ""), ("line 30\n", "end"))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"),
        ("no newline", "no newline at all"),
        ("x\n", "x"),
        ("x", "x\n"),
        ("", "fresh\r\nfile"),
        ("gone\nfile\n", ""),
        ("a\rb\rc\n", "a\rB\rc\n"),
        ("tab\tand\x0bvt\x0c\n", "tab\tand\x0bVT\x0c\n"),
    ],
)
def test_line_endings_and_missing_final_newline_survive(old: str, new: str) -> None:
    hunks = make_hunks(old, new)
    assert apply_hunks(old, hunks, {h.index for h in hunks}) == new
    assert apply_hunks(old, hunks, set()) == old


def test_missing_final_newline_is_marked_on_the_hunk() -> None:
    (hunk,) = make_hunks("a\nb\n", "a\nb")
    assert hunk.lines == [(" ", "a"), ("-", "b"), ("+", "b")]
    assert (hunk.old_no_newline, hunk.new_no_newline) == (False, True)


def test_random_edits_round_trip() -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "", "beta"]
    for _ in range(200):
        old_lines = [rng.choice(words) for _ in range(rng.randint(0, 40))]
        new_lines = list(old_lines)
        for _ in range(rng.randint(1, 6)):
            spot = rng.randint(0, len(new_lines))
            if new_lines and rng.random() < 0.5:
                del new_lines[min(spot, len(new_lines) - 1)]
            else:
                new_lines.insert(spot, rng.choice(words) + "!")
        ending = rng.choice(["\n", "\r\n"])
        old = ending.join(old_lines) + rng.choice(["", ending])
        new = ending.join(new_lines) + rng.choice(["", ending])
        hunks = make_hunks(old, new)
        every = {h.index for h in hunks}
        assert apply_hunks(old, hunks, every) == new
        assert apply_hunks(old, hunks, set()) == old
        assert merge_hunks(old, hunks) == (new, [])
        for hunk in hunks:  # each hunk alone, then the rest, gives the whole
            part = apply_hunks(old, hunks, {hunk.index})
            rest = make_hunks(part, new)
            assert apply_hunks(part, rest, {h.index for h in rest}) == new


def test_merge_onto_text_edited_elsewhere_keeps_both_edits() -> None:
    ours = edit(OLD, ("line 20\n", "LINE 20\n"))
    theirs = edit(OLD, ("line 3\n", "host line 3\nanother host line\n"))
    merged, failed = merge_hunks(theirs, make_hunks(OLD, ours))
    assert failed == []
    assert merged == edit(theirs, ("line 20\n", "LINE 20\n"))


def test_merge_refuses_a_hunk_whose_lines_were_edited() -> None:
    ours = edit(OLD, ("line 20\n", "LINE 20\n"), ("line 5\n", "LINE 5\n"))
    theirs = edit(OLD, ("line 20\n", "host twenty\n"))
    hunks = make_hunks(OLD, ours)
    merged, failed = merge_hunks(theirs, hunks)
    assert [h.index for h in failed] == [1]
    assert merged == edit(theirs, ("line 5\n", "LINE 5\n"))


def test_merge_finds_hunks_moved_far_by_host_lines_and_keeps_file_ends_anchored() -> None:
    ours = edit(OLD, ("line 1\n", "#!/bin/sh\nline 1\n"), ("line 20\n", "LINE 20\n"))
    header = "".join(f"host {n}\n" for n in range(500))
    merged, failed = merge_hunks(header + OLD, make_hunks(OLD, ours))
    assert [h.header for h in failed] == ["@@ -1,3 +1,4 @@"]  # no longer the file's start
    assert merged == header + edit(OLD, ("line 20\n", "LINE 20\n"))


def test_merge_refuses_a_hunk_whose_context_was_edited() -> None:
    ours = edit(OLD, ("line 20\n", "LINE 20\n"))
    theirs = edit(OLD, ("line 18\n", "line eighteen\n"))
    _, failed = merge_hunks(theirs, make_hunks(OLD, ours))
    assert len(failed) == 1


def test_binary_detection() -> None:
    assert decode_text(b"plain\n") == "plain\n"
    assert decode_text("héllo".encode()) == "héllo"
    assert decode_text(b"\x00\x01\x02") is None
    assert decode_text(b"caf\xe9\n") is None
