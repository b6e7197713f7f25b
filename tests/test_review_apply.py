"""Applying approved changes to the host: exact writes, merges, conflicts, never a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airlock.review.apply import Plan, Want, plan_sync
from airlock.review.baseline import snapshot_host
from airlock.review.errors import SyncFailed
from airlock.review.journal import Journal
from airlock.review.models import Manifest
from airlock.review.store import ObjectStore
from airlock.safefs import SafeRoot
from tests.review_support import numbered, tree_state, write_tree

TEXT = numbered(40)


class Host:
    """A project with its baseline, and a way to sync approved states onto it."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "project"
        self.outside = tmp_path / "outside"
        write_tree(self.outside, {"secret.txt": "do not touch\n"})
        write_tree(self.root, {"a.txt": TEXT, "keep.txt": "keep\n", "dir/b.txt": "b\n"})
        os.chmod(self.root / "a.txt", 0o600)
        self.store = ObjectStore(tmp_path / "objects")
        self.journal = Journal(tmp_path / "journal.jsonl", self.root, self.store)
        self.baseline: Manifest = snapshot_host(self.root, self.store)

    def file(self, path: str, data: str | bytes, exec_: bool | None = None) -> Want:
        raw = data.encode() if isinstance(data, str) else data
        return Want(path=path, kind="file", digest=self.store.put_bytes(raw), exec=exec_)

    def plan(self, *wants: Want) -> Plan:
        items = [(self.baseline.get(want.path), want) for want in wants]
        return plan_sync(SafeRoot(self.root), self.store, items, keep=True)

    def sync(self, *wants: Want) -> Plan:
        plan = self.plan(*wants)
        if plan.targets:
            self.journal.run(list(plan.targets.values()))
        return plan


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return Host(tmp_path)


def test_unchanged_host_gets_the_approved_bytes_and_keeps_its_mode(host: Host) -> None:
    new = TEXT.replace("line 9\n", "nine\r\n") + "no newline"
    host.sync(host.file("a.txt", new))
    assert (host.root / "a.txt").read_bytes() == new.encode()
    assert (host.root / "a.txt").stat().st_mode & 0o7777 == 0o600


def test_exec_bit_follows_the_read_bits_and_new_files_get_standard_modes(host: Host) -> None:
    host.sync(
        host.file("a.txt", TEXT, exec_=True),
        host.file("new/deep/tool.sh", "#!/bin/sh\n", exec_=True),
        host.file("new/plain.txt", "p\n", exec_=False),
    )
    state = tree_state(host.root)
    assert state["a.txt"][2] == 0o700
    assert state["new/deep/tool.sh"][2] == 0o755
    assert state["new/plain.txt"] == ("file", b"p\n", 0o644)
    assert state["new/deep"][0] == "dir"


def test_host_edit_elsewhere_is_merged_with_the_approved_edit(host: Host) -> None:
    (host.root / "a.txt").write_text(TEXT.replace("line 2\n", "host line 2\n"))
    plan = host.sync(host.file("a.txt", TEXT.replace("line 30\n", "agent line 30\n")))
    assert plan.conflicts == {}
    assert (host.root / "a.txt").read_text() == TEXT.replace("line 2\n", "host line 2\n").replace(
        "line 30\n", "agent line 30\n"
    )


def test_overlapping_host_edit_is_a_conflict_and_the_host_file_stays(host: Host) -> None:
    edited = TEXT.replace("line 30\n", "host line 30\n")
    (host.root / "a.txt").write_text(edited)
    before = tree_state(host.root)
    wanted = TEXT.replace("line 5\n", "agent 5\n").replace("line 30\n", "agent line 30\n")
    plan = host.sync(host.file("a.txt", wanted))
    assert plan.conflicts["a.txt"].reason == (
        "changed on the host since the session started, and both sides edited lines 27-33"
    )
    assert tree_state(host.root) == before


def test_file_deleted_on_the_host_is_a_conflict(host: Host) -> None:
    (host.root / "a.txt").unlink()
    plan = host.sync(host.file("a.txt", "agent\n"))
    assert plan.conflicts["a.txt"].reason == "deleted on the host since the session started"
    assert not (host.root / "a.txt").exists()


def test_path_created_on_the_host_too_is_a_conflict_unless_identical(host: Host) -> None:
    write_tree(host.root, {"same.txt": "same\n", "other.txt": "host\n"})
    plan = host.sync(host.file("same.txt", "same\n"), host.file("other.txt", "agent\n"))
    assert plan.settled == ["same.txt"]
    assert plan.conflicts["other.txt"].reason == "created on the host since the session started"
    assert (host.root / "other.txt").read_text() == "host\n"


def test_deleting_a_file_changed_on_the_host_is_a_conflict(host: Host) -> None:
    (host.root / "keep.txt").write_text("host edit\n")
    plan = host.sync(Want(path="keep.txt", kind="absent"))
    assert "not deleted" in plan.conflicts["keep.txt"].reason
    assert (host.root / "keep.txt").read_text() == "host edit\n"


def test_symlinked_host_folder_is_never_written_through(host: Host) -> None:
    (host.root / "dir/b.txt").unlink()
    (host.root / "dir").rmdir()
    os.symlink(host.outside, host.root / "dir")
    outside = tree_state(host.outside)
    plan = host.sync(host.file("dir/b.txt", "agent\n"), host.file("dir/secret.txt", "pwned\n"))
    assert set(plan.conflicts) == {"dir/b.txt", "dir/secret.txt"}
    assert "symlink" in plan.conflicts["dir/secret.txt"].reason
    assert tree_state(host.outside) == outside


def test_host_file_swapped_for_a_symlink_is_not_followed(host: Host) -> None:
    (host.root / "keep.txt").unlink()
    os.symlink(host.outside / "secret.txt", host.root / "keep.txt")
    plan = host.sync(host.file("keep.txt", "agent\n"))
    assert "keep.txt" in plan.conflicts
    assert (host.outside / "secret.txt").read_text() == "do not touch\n"


def test_symlink_planted_after_planning_rolls_the_sync_back(host: Host) -> None:
    before = tree_state(host.root)
    plan = host.plan(host.file("a.txt", "agent a\n"), host.file("dir/b.txt", "agent b\n"))
    os.rename(host.root / "dir", host.root / "moved")
    os.symlink(host.outside, host.root / "dir")
    with pytest.raises(SyncFailed):
        host.journal.run(list(plan.targets.values()))
    os.unlink(host.root / "dir")
    os.rename(host.root / "moved", host.root / "dir")
    assert tree_state(host.root) == before
    assert tree_state(host.outside) == {"secret.txt": ("file", b"do not touch\n", 0o644)}


def test_removing_a_folder_that_keeps_host_files_is_a_conflict(host: Host) -> None:
    write_tree(host.root, {"dir/host-only.txt": "mine\n"})
    plan = host.sync(Want(path="dir/b.txt", kind="absent"), Want(path="dir", kind="absent"))
    assert plan.conflicts["dir"].reason == "the folder holds files on the host that stay"
    assert sorted(os.listdir(host.root / "dir")) == ["host-only.txt"]


def test_file_replaced_by_a_folder_and_back(host: Host) -> None:
    host.sync(
        Want(path="keep.txt", kind="dir"),
        host.file("keep.txt/inner.txt", "inner\n"),
        Want(path="dir/b.txt", kind="absent"),
        host.file("dir", "now a file\n"),
    )
    state = tree_state(host.root)
    assert state["keep.txt"][0] == "dir"
    assert state["keep.txt/inner.txt"][1] == b"inner\n"
    assert state["dir"][:2] == ("file", b"now a file\n")
