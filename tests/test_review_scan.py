"""Scans: an unchanged path keeps its entry, and storing in parallel loses or leaks nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airlock.review import scan
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore
from tests.review_support import write_tree


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def many_files(root: Path, count: int) -> dict[str, str]:
    files = {f"d{n % 7}/f{n}.txt": f"content {n % 50}\n" * (n % 5 + 1) for n in range(count)}
    write_tree(root, files)
    return files


def test_an_unchanged_path_keeps_the_very_entry_of_the_previous_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan, "RACY_NS", 0)
    write_tree(tmp_path, {"a.txt": "a\n", "d/b.txt": "b\n"})
    first = scan_tree(tmp_path)
    (tmp_path / "d/b.txt").write_text("changed\n")
    second = scan_tree(tmp_path, previous=first)
    assert second["a.txt"] is first["a.txt"]
    assert second["d"] is first["d"]  # rewriting a file in place leaves its folder as it was
    assert second["d/b.txt"].digest != first["d/b.txt"].digest


def test_a_parallel_store_scan_equals_the_plain_one_in_order_and_content(tmp_path: Path) -> None:
    files = many_files(tmp_path / "tree", 3 * scan.IN_FLIGHT)
    store = ObjectStore(tmp_path / "objects")
    before = open_fds()
    stored = scan_tree(tmp_path / "tree", store=store)
    assert open_fds() == before
    plain = scan_tree(tmp_path / "tree")
    assert list(stored) == list(plain)
    assert {path: entry.digest for path, entry in stored.items()} == {
        path: entry.digest for path, entry in plain.items()
    }
    for path, text in files.items():
        assert store.read(stored[path].digest or "") == text.encode()


def test_a_file_that_vanishes_while_stored_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many_files(tmp_path / "tree", 100)
    real_hash = scan.hash_file

    def vanishing(dir_fd: int, name: str, store: ObjectStore | None) -> str | None:
        return None if name == "f42.txt" else real_hash(dir_fd, name, store)

    monkeypatch.setattr(scan, "hash_file", vanishing)
    manifest = scan_tree(tmp_path / "tree", store=ObjectStore(tmp_path / "objects"))
    assert "d0/f42.txt" not in manifest
    assert "d1/f43.txt" in manifest


def test_a_store_failure_is_raised_and_leaks_no_file_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many_files(tmp_path / "tree", 2 * scan.IN_FLIGHT)  # in 7 folders: some still wait, open
    hashed: list[str] = []

    def failing(dir_fd: int, name: str, store: ObjectStore | None) -> str | None:
        hashed.append(name)
        if len(hashed) == 1:
            raise OSError(28, "No space left on device")
        return real_hash(dir_fd, name, store)

    real_hash = scan.hash_file
    monkeypatch.setattr(scan, "hash_file", failing)
    before = open_fds()
    with pytest.raises(OSError, match="No space left"):
        scan_tree(tmp_path / "tree", store=ObjectStore(tmp_path / "objects"))
    assert open_fds() == before
    assert len(hashed) < 2 * scan.IN_FLIGHT  # it stopped before the end of the walk
