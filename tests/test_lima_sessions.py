"""Sessions of one project take turns in its Lima VM without seeing or losing each other's work."""

from __future__ import annotations

from pathlib import Path

from airlock.config import ProjectConfig
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore
from airlock.sandbox.lima import LimaSandbox
from airlock.sandbox.lima_claim import store as claim_store
from tests.fakes.lima import FakeLima


async def test_two_sessions_alternate_in_one_vm(fake_limactl: FakeLima, tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "shared.txt").write_text("base\n")
    project = ProjectConfig(name="notes", path=folder)
    store: ObjectStore = claim_store()
    baseline = scan_tree(folder, store=store)
    first = LimaSandbox(project, tmp_path / "s1" / "sandbox")
    second = LimaSandbox(project, tmp_path / "s2" / "sandbox")
    for box in (first, second):
        box.root.mkdir(parents=True)
    await first.start()
    await first.load(baseline, store)
    await first.exec("echo one > mine.txt; echo edited > shared.txt")
    await second.load(baseline, store)  # parks the first session's work
    await second.exec("echo two > theirs.txt")

    first_tree = await first.scan()  # the first session gets its own tree back
    assert "mine.txt" in first_tree and "theirs.txt" not in first_tree
    assert (await first.read(["shared.txt"]))["shared.txt"] == b"edited\n"

    second_tree = await second.scan()
    assert "theirs.txt" in second_tree and "mine.txt" not in second_tree
    assert (await second.read(["shared.txt"]))["shared.txt"] == b"base\n"
    # Whoever holds the VM, the guest's /workspace has exactly one session's files.
    guest = sorted(p.name for p in fake_limactl.workspace(first.name).iterdir())
    assert guest == ["shared.txt", "theirs.txt"]
    for box in (first, second):
        await box.close()
