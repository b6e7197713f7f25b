"""Review decisions: tied to the exact change, persisted, stale when the agent edits again."""

from __future__ import annotations

import os
from pathlib import Path

from airlock.review.models import ChangeKind, Decision, EntryType, FileChange
from airlock.review.state import ReviewState


def change(path: str = "a.txt", new_digest: str = "n1") -> FileChange:
    return FileChange(
        path=path,
        kind=ChangeKind.MODIFIED,
        entry_type=EntryType.FILE,
        old_digest="o",
        new_digest=new_digest,
    )


def test_a_decision_survives_saving_and_loading(tmp_path: Path) -> None:
    state = ReviewState()
    state.review(change()).decision = Decision.APPROVED
    state.reject(change("b.txt"), "@@ -1,2 +1,2 @@", "no")
    state.save(tmp_path / "review.json")
    loaded = ReviewState.load(tmp_path / "review.json")
    assert loaded.review(change()).decision is Decision.APPROVED
    assert [r.describe() for r in loaded.rejections] == ["b.txt (hunk @@ -1,2 +1,2 @@): no"]


def test_a_decision_goes_stale_when_the_change_changes() -> None:
    state = ReviewState()
    state.review(change()).decision = Decision.APPROVED
    assert state.review(change(new_digest="n2")).decision is Decision.PENDING
    assert state.review(change()).decision is Decision.PENDING  # dropped, not kept aside


def test_undecodable_names_are_decided_in_memory_only(tmp_path: Path) -> None:
    state = ReviewState()
    odd = os.fsdecode(b"bad\xff")
    state.review(change(odd)).decision = Decision.APPROVED
    state.reject(change(odd), None, None)
    state.save(tmp_path / "review.json")
    loaded = ReviewState.load(tmp_path / "review.json")
    assert loaded.files == {}
    assert loaded.rejections[0].path == "bad\\xff"
    assert state.review(change(odd)).decision is Decision.APPROVED
