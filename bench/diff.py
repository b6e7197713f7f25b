"""diff: line hunks of one changed file, against `git diff --no-index` on the same two files."""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path

from airlock.review.hunks import decode_text, make_hunks
from bench.models import Result
from bench.timing import Case, Settings, command, measure
from bench.tools import GIT_ENV, need
from bench.trees import text_lines

NAME = "diff"
TITLE = "diff: hunks of one file (git diff --no-index on the same two files)"
SIZES = (2_000, 20_000)
CHANGED = (0.01, 0.30)


def changed_copy(lines: list[str], fraction: float, rng: random.Random) -> list[str]:
    """`lines` with `fraction` of them edited: mostly replaced, some removed, some inserted."""
    new = list(lines)
    for index in sorted(rng.sample(range(len(lines)), int(len(lines) * fraction)), reverse=True):
        roll = rng.random()
        if roll < 0.6:
            new[index] = "changed " + new[index]
        elif roll < 0.8:
            del new[index]
        else:
            new.insert(index, "inserted line\n")
    return new


def run(settings: Settings) -> list[Result]:
    need("git")
    results: list[Result] = []
    rng = random.Random(9)
    for size in SIZES:
        lines = text_lines(rng, size)
        for fraction in CHANGED:
            old, new = settings.workdir / "old.txt", settings.workdir / "new.txt"
            old.write_text("".join(lines))
            new.write_text("".join(changed_copy(lines, fraction, rng)))
            case = Case(NAME, f"{size // 1000}k lines, {fraction:.0%} changed")
            git_diff = command(
                ["git", "diff", "--no-index", "--no-color", str(old), str(new)],
                env=GIT_ENV,
                ok=(1,),
            )
            case.add("git diff --no-index", measure(git_diff, settings.runs), reference=True)
            case.add("airlock make_hunks", measure(partial(_hunks, old, new), settings.runs))
            results += case.results
    return results


def _hunks(old: Path, new: Path) -> None:
    """What the review does per changed file: decode both sides, then diff them."""
    make_hunks(decode_text(old.read_bytes()) or "", decode_text(new.read_bytes()) or "")
