"""Merging approved hunks onto a host text that changed since they were made.

The hunks become diff-match-patch patches in line mode (one character a line) and go
through its `patch_apply`, which finds each patch nearest to where it is expected and
carries the offset of earlier ones. Its match is made exact: a patch applies only
where its lines, context included, are all found unchanged, so a hunk touching lines
the host edited is reported as failed, never applied fuzzily over the host's edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from diff_match_patch import diff_match_patch
from diff_match_patch.diff_match_patch import patch_obj

from airlock.review.hunks import hunk_index, hunk_side, split_lines
from airlock.review.models import Hunk

FIRST_CODE = 0x100  # line codes start above dmp's padding character (1)
OPS = {
    " ": diff_match_patch.DIFF_EQUAL,
    "-": diff_match_patch.DIFF_DELETE,
    "+": diff_match_patch.DIFF_INSERT,
}


class LineCodes:
    """One character for each distinct line, and back."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.lines: list[str] = []

    def encode(self, lines: Sequence[str]) -> str:
        return "".join(map(self._code, lines))

    def decode(self, text: str) -> str:
        return "".join(self.lines[ord(code) - FIRST_CODE] for code in text)

    def _code(self, line: str) -> str:
        """The line's character (ValueError past the last one Unicode has)."""
        code = self.codes.get(line)
        if code is None:
            code = self.codes[line] = chr(FIRST_CODE + len(self.lines))
            self.lines.append(line)
        return code


def merge_hunks(text: str, hunks: Sequence[Hunk]) -> tuple[str, list[Hunk]]:
    """Apply every hunk onto `text`; returns the result and the hunks that did not apply."""
    lines = split_lines(text)
    ordered: list[Hunk] = []
    failed: list[Hunk] = []
    for hunk in sorted(hunks, key=hunk_index):
        # a hunk made from an empty text has nothing to anchor it in another one
        unanchored = bool(text) and not hunk_side(hunk, new=False)
        (failed if unanchored else ordered).append(hunk)
    codes = LineCodes()
    try:
        encoded = codes.encode(lines)
        patches = [_patch(hunk, codes) for hunk in ordered]
    except ValueError:  # more distinct lines than characters: nothing can be placed
        return text, sorted(hunks, key=hunk_index)
    merged, applied = _exact_dmp(encoded, patches).patch_apply(patches, encoded)
    failed += [hunk for hunk, ok in zip(ordered, applied, strict=True) if not ok]
    return codes.decode(merged), sorted(failed, key=hunk_index)


def _patch(hunk: Hunk, codes: LineCodes) -> patch_obj:
    """The dmp patch of a hunk: its runs of kept, removed and added lines, as codes."""
    old, new = hunk_side(hunk, new=False), hunk_side(hunk, new=True)
    at_old = at_new = 0
    patch = patch_obj()
    for op, run in groupby(hunk.lines, key=lambda line: line[0]):
        count = len(list(run))
        if op == "+":
            taken, at_new = new[at_new : at_new + count], at_new + count
        else:
            taken, at_old = old[at_old : at_old + count], at_old + count
            at_new += count if op == " " else 0
        patch.diffs.append((OPS[op], codes.encode(taken)))
    patch.start1 = hunk_index(hunk)
    patch.start2 = hunk.new_start - 1 if hunk.new_count else hunk.new_start
    patch.length1, patch.length2 = len(old), len(new)
    return patch


def _exact_dmp(text: str, patches: Sequence[patch_obj]) -> diff_match_patch:
    """A dmp whose patch match accepts only an exact one, anywhere in `text`.

    A match's score is its errors per pattern character plus its distance from where
    it is expected over `Match_Distance`: the threshold lies below one error in the
    longest pattern, and the distance term stays below the threshold. Patterns are
    never split (`Match_MaxBits` above every pattern; Python's bitap has no limit).
    """
    dmp = diff_match_patch()
    dmp.Patch_Margin = 1  # only pads a hunk without context at an end of the text there
    longest = 2 * dmp.Patch_Margin + max((patch.length1 for patch in patches), default=0)
    dmp.Match_MaxBits = longest + 1
    dmp.Match_Threshold = 1 / (2 * longest)
    dmp.Match_Distance = 4 * longest * (len(text) + longest)
    dmp.Patch_DeleteThreshold = 0.0
    return dmp
