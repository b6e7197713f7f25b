"""The journal: crash recovery at every step, exact undo, history."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from airlock.review import journal as journal_module
from airlock.review.apply import Want, plan_sync
from airlock.review.baseline import snapshot_host
from airlock.review.errors import UndoRefused
from airlock.review.hoststate import Target
from airlock.review.journal import CRASH_ENV, CRASH_EXIT, Journal
from airlock.review.store import ObjectStore
from airlock.safefs import SafeRoot
from tests.review_support import Tree, numbered, tree_state, write_tree

TARGETS = TypeAdapter(list[Target])
RUNNER = """
import sys
from pathlib import Path
from pydantic import TypeAdapter
from airlock.review.hoststate import Target
from airlock.review.journal import Journal
from airlock.review.store import ObjectStore
root, journal, objects, plan, action = sys.argv[1:]
j = Journal(Path(journal), Path(root), ObjectStore(Path(objects)))
if action == "run":
    j.run(TypeAdapter(list[Target]).validate_json(Path(plan).read_bytes()))
else:
    j.recover()
"""


def make_project(root: Path) -> None:
    write_tree(
        root,
        {
            "a.txt": numbered(30),
            "gone.txt": "bye\n",
            "dir/b.txt": "b\n",
            "tool.sh": "#!/bin/sh\n",
            "swap": "file becoming a folder\n",
            "setuid-bin": b"\x7fELF",
        },
    )
    os.chmod(root / "a.txt", 0o640)
    os.chmod(root / "dir", 0o750)
    os.chmod(root / "setuid-bin", 0o4755)


def sync_targets(root: Path, store: ObjectStore) -> list[Target]:
    """A sync touching every kind of target: edits, deletions, new folders, links, modes."""
    baseline = snapshot_host(root, store)

    def file(path: str, data: bytes, exec_: bool | None = None) -> Want:
        return Want(path=path, kind="file", digest=store.put_bytes(data), exec=exec_)

    wants = [
        file("a.txt", numbered(30).replace("line 4\n", "four\n").encode()),
        Want(path="gone.txt", kind="absent"),
        Want(path="dir/b.txt", kind="absent"),
        Want(path="dir", kind="absent"),
        file("new/deep/c.txt", b"c\n"),
        Want(path="link", kind="symlink", target="a.txt"),
        file("tool.sh", b"#!/bin/sh\n", exec_=True),
        Want(path="swap", kind="dir"),
        file("swap/inside.txt", b"inside\n"),
        file("setuid-bin", b"\x7fELF patched"),
    ]
    items = [(baseline.get(want.path), want) for want in wants]
    plan = plan_sync(SafeRoot(root), store, items, keep=True)
    assert not plan.conflicts
    return list(plan.targets.values())


class Scenario:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp_path
        self.pristine = tmp_path / "pristine"
        make_project(self.pristine)
        self.store = ObjectStore(tmp_path / "objects")
        self.targets = sync_targets(self.pristine, self.store)
        self.plan_file = tmp_path / "plan.json"
        self.plan_file.write_bytes(TARGETS.dump_json(self.targets))
        self.before: Tree = tree_state(self.pristine)
        done = self.fresh("done")
        self.steps: list[str] = []  # every crash point a sync passes, in order
        with monkeypatch.context() as patch:
            patch.setattr(journal_module, "crash_point", self.steps.append)
            self.journal(done).run(self.targets)
        self.after: Tree = tree_state(done)

    def fresh(self, name: str) -> Path:
        root = self.tmp / name
        shutil.copytree(self.pristine, root, symlinks=True)
        return root

    def journal(self, root: Path) -> Journal:
        return Journal(root.with_suffix(".jsonl"), root, self.store)

    def start(self, root: Path, action: str, crash_at: str) -> subprocess.Popen[bytes]:
        """Run the sync (or a recovery) in a process that dies at `crash_at`."""
        env = {**os.environ, CRASH_ENV: crash_at}
        args = [root, root.with_suffix(".jsonl"), self.store.root, self.plan_file, action]
        return subprocess.Popen([sys.executable, "-c", RUNNER, *map(str, args)], env=env)

    def subprocess(self, root: Path, action: str, crash_at: str) -> int:
        return self.start(root, action, crash_at).wait()


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    return Scenario(tmp_path, monkeypatch)


def test_sync_then_undo_restores_every_byte_and_mode(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    journal = scenario.journal(root)
    sync_id = journal.run(scenario.targets)
    assert tree_state(root) == scenario.after
    assert scenario.after["setuid-bin"][2] == 0o755  # setuid never survives a synced write
    undo_id, undone = journal.undo()
    assert undone.id == sync_id
    assert tree_state(root) == scenario.before
    history = journal.history()
    assert [(h.id, h.action, h.status, h.undone_by) for h in history] == [
        (sync_id, "sync", "committed", undo_id),
        (undo_id, "undo", "committed", None),
    ]
    assert "gone.txt" in history[0].deleted and "new/deep/c.txt" in history[0].written
    with pytest.raises(UndoRefused, match="there is no sync to undo"):
        journal.undo()


def test_undo_refuses_when_a_file_changed_since_and_names_it(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    journal = scenario.journal(root)
    sync_id = journal.run(scenario.targets)
    (root / "new/deep/c.txt").write_text("user edit\n")
    os.chmod(root / "tool.sh", 0o700)
    changed = tree_state(root)
    with pytest.raises(UndoRefused) as refused:
        journal.undo(sync_id)
    assert refused.value.message == (
        f"cannot undo sync {sync_id}: changed since then: new/deep/c.txt, tool.sh"
    )
    assert tree_state(root) == changed


def test_undo_of_an_older_sync_overlapping_a_later_one_is_refused(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    journal = scenario.journal(root)
    first = journal.run(scenario.targets)
    store = scenario.store
    later = Want(path="a.txt", kind="file", digest=store.put_bytes(b"later\n"))
    baseline = snapshot_host(root, store)
    plan = plan_sync(SafeRoot(root), store, [(baseline["a.txt"], later)], keep=True)
    second = journal.run(list(plan.targets.values()))
    with pytest.raises(UndoRefused, match=r"changed since then: a\.txt\n"):
        journal.undo(first)
    journal.undo(second)
    journal.undo(first)
    assert tree_state(root) == scenario.before


def test_a_crash_at_any_step_is_rolled_back_exactly_at_next_start(scenario: Scenario) -> None:
    steps = [step for step in scenario.steps if step != "committed"]
    assert len(steps) >= len(scenario.targets) + 3
    roots = {step: scenario.fresh(f"crash-{step}") for step in steps}
    running = {step: scenario.start(root, "run", step) for step, root in roots.items()}
    for step, process in running.items():
        assert process.wait() == CRASH_EXIT
        report = scenario.journal(roots[step]).recover()
        assert tree_state(roots[step]) == scenario.before, step
        assert len(report.rolled_back) == (0 if step == "stored" else 1)
        assert report.kept == []
        assert scenario.journal(roots[step]).recover().rolled_back == []  # once, for good


def test_a_crash_after_commit_keeps_the_whole_sync(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    assert scenario.subprocess(root, "run", "committed") == CRASH_EXIT
    assert scenario.journal(root).recover().rolled_back == []
    assert tree_state(root) == scenario.after


def test_a_crash_during_recovery_is_recovered_next_time(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    assert scenario.subprocess(root, "run", "step-6") == CRASH_EXIT
    assert scenario.subprocess(root, "recover", "rollback-3") == CRASH_EXIT
    assert scenario.journal(root).recover().rolled_back
    assert tree_state(root) == scenario.before


def test_recovery_leaves_alone_a_file_the_user_changed_after_the_crash(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    assert scenario.subprocess(root, "run", "applied") == CRASH_EXIT
    (root / "a.txt").write_text("typed after the crash\n")
    report = scenario.journal(root).recover()
    assert report.kept == ["a.txt"]
    assert (root / "a.txt").read_text() == "typed after the crash\n"
    expected = {**scenario.before, "a.txt": tree_state(root)["a.txt"]}
    assert tree_state(root) == expected


def test_a_torn_last_journal_line_is_ignored(scenario: Scenario) -> None:
    root = scenario.fresh("project")
    journal = scenario.journal(root)
    sync_id = journal.run(scenario.targets)
    with journal.path.open("ab") as handle:
        handle.write(b'{"op": "begin", "id": "x", "targ')
    assert journal.recover().rolled_back == []
    assert [h.id for h in journal.history()] == [sync_id]
    undo_id, _ = journal.undo()  # appends after the torn line, on a line of its own
    assert [h.id for h in journal.history()] == [sync_id, undo_id]
