"""Change detection: two real trees, scanned, compared without following anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airlock.review import scan
from airlock.review.baseline import load_manifest, save_manifest, snapshot_host
from airlock.review.changes import MAX_TEXT_BYTES, compute_changes, symlink_problem
from airlock.review.ignore import IgnoreRules
from airlock.review.models import ChangeKind, EntryType, FileChange
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore
from tests.review_support import numbered, write_tree


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects")


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        write_tree(root, {"a.txt": numbered(20), "keep.txt": "same\n", "docs/readme.md": "hi\n"})
    return old, new


def changes_between(old: Path, new: Path, store: ObjectStore, **kw: object) -> list[FileChange]:
    return compute_changes(
        scan_tree(old, store=store),
        scan_tree(new, store=store),
        store=store,
        **kw,  # type: ignore[arg-type]
    )


def by_path(changes: list[FileChange]) -> dict[str, FileChange]:
    return {change.path: change for change in changes}


def test_untouched_tree_has_no_changes(trees: tuple[Path, Path], store: ObjectStore) -> None:
    assert changes_between(*trees, store) == []


def test_added_modified_deleted_files_sorted_by_path(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    (new / "a.txt").write_text(numbered(20).replace("line 7\n", "line seven\n"))
    (new / "b.txt").write_text("new\n")
    (new / "docs/readme.md").unlink()
    changes = changes_between(old, new, store)
    assert [(c.path, c.kind) for c in changes] == [
        ("a.txt", ChangeKind.MODIFIED),
        ("b.txt", ChangeKind.ADDED),
        ("docs/readme.md", ChangeKind.DELETED),
    ]
    assert [h.lines[3:5] for h in changes[0].hunks] == [[("-", "line 7"), ("+", "line seven")]]
    assert changes[1].hunks[0].lines == [("+", "new")]
    assert changes[2].hunks[0].lines == [("-", "hi")]  # what a deletion takes away shows


def test_a_file_moved_with_its_content_is_one_move_not_two_diffs(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    write_tree(old, {"x1": "twin\n", "x2": "twin\n", "empty": ""})
    write_tree(new, {"notes/a.txt": numbered(20), "y1": "twin\n", "y2": "twin\n", "void": ""})
    (new / "a.txt").unlink()
    changes = by_path(changes_between(old, new, store))
    gone, came = changes["a.txt"], changes["notes/a.txt"]
    assert (gone.moved_to, came.moved_from) == ("notes/a.txt", "a.txt")
    assert gone.hunks == came.hunks == []  # no line changed
    # Ambiguous (two files of one content) and empty files are plain deletions/additions.
    for path in ("x1", "x2", "y1", "y2", "empty", "void"):
        assert changes[path].moved_to is changes[path].moved_from is None
    assert changes["y1"].hunks[0].lines == [("+", "twin")]


def test_a_deleted_binary_file_shows_as_binary(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    write_tree(old, {"logo.png": b"\x89PNG\0\1"})
    (change,) = changes_between(old, new, store)
    assert (change.kind, change.binary, change.hunks) == (ChangeKind.DELETED, True, [])


def test_exec_bit_is_a_mode_change_and_other_bits_are_not(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    os.chmod(new / "a.txt", 0o755)
    os.chmod(new / "keep.txt", 0o600)
    (change,) = changes_between(old, new, store)
    assert (change.path, change.kind, change.old_mode, change.new_mode) == (
        "a.txt",
        ChangeKind.MODE,
        0o644,
        0o755,
    )
    assert change.syncable and not change.flags and not change.hunks


def test_setuid_is_flagged_and_alone_is_not_syncable(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    os.chmod(new / "keep.txt", 0o4644)
    (new / "a.txt").write_text("edited\n")
    os.chmod(new / "a.txt", 0o2755)
    changes = by_path(changes_between(old, new, store))
    assert changes["keep.txt"].flags == ["setuid bit is never synced"]
    assert not changes["keep.txt"].syncable
    assert changes["a.txt"].flags == ["setgid bit is never synced"]
    assert changes["a.txt"].syncable  # the content and exec bit still may sync


def test_symlinks_inside_sync_and_outside_are_flagged(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    links = {
        "in": "docs/readme.md",
        "docs/up": "../a.txt",
        "abs": "/etc/passwd",
        "parent": "..",
        "docs/out": "../../x",
        "via": "parent/etc",
    }
    for name, target in links.items():
        os.symlink(target, new / name)
    changes = by_path(changes_between(old, new, store))
    assert all(c.kind is ChangeKind.SYMLINK for c in changes.values())
    assert {p for p, c in changes.items() if c.syncable} == {"in", "docs/up"}
    assert changes["abs"].flags == ["symlink to /etc/passwd points outside the project"]
    assert changes["via"].new_target == "parent/etc"
    assert changes["via"].flags  # climbs out through another link


def test_symlink_check_is_lexical_and_strict() -> None:
    assert symlink_problem("a/b", "../c", {}) is None
    assert symlink_problem("a/b", "../../c", {}) is not None
    assert symlink_problem("a", "./b/../c", {}) is None
    assert symlink_problem("a", "b/../../c", {}) is not None
    assert symlink_problem("a", "/tmp", {}) is not None


def test_special_files_are_flagged_never_synced(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    os.mkfifo(new / "pipe")
    (change,) = changes_between(old, new, store)
    assert (change.kind, change.syncable) == (ChangeKind.SPECIAL, False)
    assert change.flags == ["fifo: special files are never synced"]


def test_binary_invalid_utf8_and_large_files_have_no_hunks(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    (new / "nul.bin").write_bytes(b"PK\x00\x03" * 10)
    (new / "latin1.txt").write_bytes(b"caf\xe9\n")
    (new / "big.txt").write_text("x" * (MAX_TEXT_BYTES + 1))
    changes = changes_between(old, new, store)
    assert [(c.path, c.binary, c.hunks) for c in changes] == [
        ("big.txt", True, []),
        ("latin1.txt", True, []),
        ("nul.bin", True, []),
    ]
    assert changes[0].new_size == MAX_TEXT_BYTES + 1


def test_only_empty_new_folders_and_deleted_folders_show(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    (new / "empty").mkdir()
    write_tree(new, {"full/deep/file.txt": "x\n"})
    (new / "docs/readme.md").unlink()
    (new / "docs").rmdir()
    changes = changes_between(old, new, store)
    assert [(c.path, c.kind, c.entry_type) for c in changes] == [
        ("docs", ChangeKind.DELETED, EntryType.DIR),
        ("docs/readme.md", ChangeKind.DELETED, EntryType.FILE),
        ("empty", ChangeKind.ADDED, EntryType.DIR),
        ("full/deep/file.txt", ChangeKind.ADDED, EntryType.FILE),
    ]


def test_folder_replaced_by_symlink_is_a_type_change(
    trees: tuple[Path, Path], store: ObjectStore
) -> None:
    old, new = trees
    (new / "docs/readme.md").unlink()
    (new / "docs").rmdir()
    os.symlink("/etc", new / "docs")
    changes = by_path(changes_between(old, new, store))
    assert changes["docs"].kind is ChangeKind.SYMLINK
    assert changes["docs"].old_type is EntryType.DIR
    assert not changes["docs"].syncable
    assert changes["docs/readme.md"].kind is ChangeKind.DELETED


def test_ignored_paths_are_never_changes(trees: tuple[Path, Path], store: ObjectStore) -> None:
    old, new = trees
    write_tree(new, {".git/hooks/pre-commit": "evil\n", "build/out.o": b"\0", "x.log": "l\n"})
    rules = IgnoreRules(["build/", "*.log"])
    assert changes_between(old, new, store, ignore=rules) == []


def test_snapshot_stores_content_once_and_rehashes_nothing_when_unchanged(
    tmp_path: Path, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    write_tree(project, {"a.txt": "same\n", "b/c.txt": "same\n", ".git/HEAD": "ref\n"})
    (project / ".airlockignore").write_text("*.tmp\n")
    (project / "scratch.tmp").write_text("x\n")
    monkeypatch.setattr(scan, "RACY_NS", 0)  # files written above count as settled
    first = snapshot_host(project, store)
    assert sorted(first) == [".airlockignore", "a.txt", "b", "b/c.txt"]
    assert store.read(first["a.txt"].digest or "") == b"same\n"
    assert len(list((tmp_path / "objects").glob("*/*"))) == 2  # "same\n" stored once
    save_manifest(tmp_path / "snap.json", first)
    previous = load_manifest(tmp_path / "snap.json")
    assert previous == first
    hashed: list[str] = []
    real_hash = scan.hash_file
    monkeypatch.setattr(
        scan, "hash_file", lambda fd, name, st: hashed.append(name) or real_hash(fd, name, st)
    )
    assert snapshot_host(project, store, previous) == first
    assert hashed == []
