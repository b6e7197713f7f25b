"""A sync of many files at once: written in parallel, all or nothing, and undone exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.review import hoststate
from airlock.review.apply import Want, plan_sync
from airlock.review.baseline import snapshot_host
from airlock.review.errors import SyncFailed
from airlock.review.hoststate import Target
from airlock.review.journal import Journal
from airlock.review.store import ObjectStore
from airlock.safefs import SafeRoot
from tests.review_support import tree_state, write_tree

COUNT = 4 * hoststate.WRITERS


def plan(root: Path, store: ObjectStore) -> list[Target]:
    """Edit, delete and add many files, some in new nested folders."""
    write_tree(root, {f"old/f{n}.txt": f"old {n}\n" for n in range(COUNT)})
    baseline = snapshot_host(root, store)
    wants = [
        Want(path=f"old/f{n}.txt", kind="file", digest=store.put_bytes(f"new {n}\n".encode()))
        for n in range(0, COUNT, 2)
    ]
    wants += [Want(path=f"old/f{n}.txt", kind="absent") for n in range(1, COUNT, 2)]
    wants += [
        Want(path=f"new/{n % 3}/deep/f{n}.txt", kind="file", digest=store.put_bytes(b"x\n" * n))
        for n in range(COUNT)
    ]
    made = plan_sync(SafeRoot(root), store, [(baseline.get(w.path), w) for w in wants], keep=True)
    assert not made.conflicts
    return list(made.targets.values())


def test_many_files_sync_and_undo_exactly(tmp_path: Path) -> None:
    root, store = tmp_path / "project", ObjectStore(tmp_path / "objects")
    targets = plan(root, store)
    before = tree_state(root)
    journal = Journal(tmp_path / "journal.jsonl", root, store)
    journal.run(targets)
    after = tree_state(root)
    assert after["old/f0.txt"] == ("file", b"new 0\n", 0o644)
    assert "old/f1.txt" not in after
    last = COUNT - 1
    assert after[f"new/{last % 3}/deep/f{last}.txt"][1] == b"x\n" * last
    journal.undo()
    assert tree_state(root) == before


def test_a_write_failing_among_many_rolls_the_whole_sync_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, store = tmp_path / "project", ObjectStore(tmp_path / "objects")
    targets = plan(root, store)
    before = tree_state(root)
    real_put = hoststate._put

    def put(root_: SafeRoot, path: str, state: hoststate.PathState, store_: ObjectStore) -> None:
        if path == "new/2/deep/f5.txt":
            raise OSError(28, "No space left on device")
        real_put(root_, path, state, store_)

    monkeypatch.setattr(hoststate, "_put", put)
    journal = Journal(tmp_path / "journal.jsonl", root, store)
    with pytest.raises(SyncFailed, match="No space left"):
        journal.run(targets)
    assert tree_state(root) == before
    assert [record.status for record in journal.history()] == ["rolled_back"]
