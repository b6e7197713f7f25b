"""The review gate over a real bubblewrap sandbox: decisions, sync, conflicts, undo, resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airlock.review.errors import NoSuchChange
from airlock.review.journal import CRASH_ENV, CRASH_EXIT
from airlock.review.models import ChangeInfo, ChangeKind, Decision
from tests.review_support import GateEnv, needs_bwrap, numbered, tree_state

pytestmark = needs_bwrap

TEXT = numbered(40)
AGENT = TEXT.replace("line 5\n", "agent 5\n").replace("line 30\n", "agent 30\n")


@pytest.fixture
async def env(tmp_path: Path) -> GateEnv:
    return await GateEnv.create(
        tmp_path, {"a.txt": TEXT, "notes/todo.md": "- one\n", "old.txt": "old\n"}
    )


async def test_approving_one_hunk_syncs_only_that_hunk(env: GateEnv) -> None:
    await env.run("sed -i 's/^line 5$/agent 5/; s/^line 30$/agent 30/' a.txt")
    (change,) = await env.gate.refresh()
    assert len(change.hunks) == 2
    env.gate.approve("a.txt", hunk=1)
    report = await env.gate.sync()
    assert report.written == ["a.txt"] and report.sync_id
    assert (env.project / "a.txt").read_text() == TEXT.replace("line 30\n", "agent 30\n")
    (pending,) = env.gate.changes
    assert [h.lines[3] for h in pending.hunks] == [("-", "line 5")]
    assert pending.decision is Decision.PENDING


async def test_rejecting_a_hunk_reverts_it_in_the_sandbox_and_keeps_other_approvals(
    env: GateEnv,
) -> None:
    await env.run("sed -i 's/^line 5$/agent 5/; s/^line 30$/agent 30/' a.txt")
    await env.gate.refresh()
    env.gate.approve("a.txt", hunk=1)
    await env.gate.reject("a.txt", hunk=0, reason="keep line 5")
    assert env.sandbox_bytes("a.txt") == TEXT.replace("line 30\n", "agent 30\n").encode()
    (change,) = await env.gate.refresh()
    assert change.decision is Decision.APPROVED  # its one remaining hunk was approved
    (rejection,) = env.gate.rejections()
    assert rejection.describe() == "a.txt (hunk @@ -2,7 +2,7 @@): keep line 5"


async def test_rejecting_whole_changes_puts_the_sandbox_back(env: GateEnv) -> None:
    await env.run("echo new > new.txt && rm old.txt && echo more >> notes/todo.md")
    await env.gate.refresh()
    await env.gate.reject("new.txt")
    await env.gate.reject("old.txt", reason="still needed")
    assert [c.path for c in env.gate.changes] == ["notes/todo.md"]
    await env.gate.reject_all()
    assert await env.gate.refresh() == []
    assert not (env.sandbox.workspace / "new.txt").exists()
    assert env.sandbox_bytes("old.txt") == b"old\n"
    assert env.sandbox_bytes("notes/todo.md") == b"- one\n"
    assert [r.describe() for r in env.gate.rejections()] == [
        "new.txt (added)",
        "old.txt (deleted): still needed",
        "notes/todo.md (modified)",
    ]


async def test_edited_proposal_is_written_to_the_sandbox_approved_and_synced(
    env: GateEnv,
) -> None:
    await env.run("echo 'agent draft' > notes/todo.md")
    await env.gate.refresh()
    assert await env.gate.proposed("notes/todo.md") == b"agent draft\n"
    await env.gate.set_edited("notes/todo.md", b"- one\n- user fixed draft\n")
    assert env.sandbox_bytes("notes/todo.md") == b"- one\n- user fixed draft\n"
    assert env.gate.changes[0].decision is Decision.APPROVED
    await env.gate.sync()
    assert (env.project / "notes/todo.md").read_bytes() == b"- one\n- user fixed draft\n"
    assert await env.gate.refresh() == []


async def test_decisions_survive_a_restart_and_go_stale_when_the_agent_edits_again(
    env: GateEnv,
) -> None:
    await env.run("echo a >> old.txt && echo b >> notes/todo.md")
    await env.gate.refresh()
    env.gate.approve("old.txt")
    env.gate.approve("notes/todo.md")
    await env.run("echo again >> notes/todo.md")
    gate = env.reopen()
    changes = {c.path: c.decision for c in await gate.refresh()}
    assert changes == {"notes/todo.md": Decision.PENDING, "old.txt": Decision.APPROVED}
    assert [ChangeInfo.of(c).model_dump()["decision"] for c in gate.changes] == [
        "pending",
        "approved",
    ]


async def test_host_edit_elsewhere_is_merged(env: GateEnv) -> None:
    await env.run("sed -i 's/^line 30$/agent 30/' a.txt")
    (env.project / "a.txt").write_text(TEXT.replace("line 2\n", "host 2\n"))
    (change,) = await env.gate.refresh()
    assert change.conflict is None
    env.gate.approve_all()
    report = await env.gate.sync()
    assert report.conflicts == []
    expected = TEXT.replace("line 2\n", "host 2\n").replace("line 30\n", "agent 30\n")
    assert (env.project / "a.txt").read_text() == expected
    assert await env.gate.refresh() == []  # the sandbox keeps its version; nothing pending


async def test_overlapping_host_edit_is_a_conflict_and_the_host_stays_untouched(
    env: GateEnv,
) -> None:
    await env.run("sed -i 's/^line 5$/agent 5/; s/^line 30$/agent 30/' a.txt")
    (env.project / "a.txt").write_text(TEXT.replace("line 30\n", "host 30\n"))
    before = tree_state(env.project)
    (change,) = await env.gate.refresh()
    assert change.conflict is not None and "lines 27-33" in change.conflict
    assert ChangeInfo.of(change).conflict
    env.gate.approve_all()
    report = await env.gate.sync()
    (conflict,) = report.conflicts
    assert (conflict.path, conflict.hunks) == ("a.txt", [1])
    assert report.written == [] and report.sync_id is None
    assert tree_state(env.project) == before
    assert env.gate.changes[0].decision is Decision.APPROVED  # still there to resolve


async def test_host_deleted_file_and_host_added_path_are_conflicts(env: GateEnv) -> None:
    await env.run("echo agent >> old.txt && echo agent > both.txt && echo same > twin.txt")
    (env.project / "old.txt").unlink()
    (env.project / "both.txt").write_text("host\n")
    (env.project / "twin.txt").write_text("same\n")
    assert len(await env.gate.refresh()) == 3
    env.gate.approve_all()
    report = await env.gate.sync()
    assert {c.path: c.reason for c in report.conflicts} == {
        "both.txt": "created on the host since the session started",
        "old.txt": "deleted on the host since the session started",
    }
    assert not (env.project / "old.txt").exists()
    assert (env.project / "both.txt").read_text() == "host\n"
    assert [c.path for c in env.gate.changes] == ["both.txt", "old.txt"]  # twin settled


async def test_undo_restores_the_host_and_makes_the_changes_pending_again(env: GateEnv) -> None:
    os.chmod(env.project / "old.txt", 0o600)
    await env.run("chmod +x old.txt && echo x >> old.txt && rm -r notes && printf 'caf\\xe9' > b")
    before = tree_state(env.project)
    await env.gate.refresh()
    env.gate.approve_all()
    report = await env.gate.sync()
    assert sorted(report.written) == ["b", "old.txt"]
    assert (env.project / "b").read_bytes() == b"caf\xe9"
    assert (env.project / "old.txt").stat().st_mode & 0o777 == 0o700
    undo = await env.gate.undo()
    assert undo.sync_id and sorted(undo.deleted) == ["b"]
    assert tree_state(env.project) == before
    kinds = {c.path: (c.kind, c.decision) for c in env.gate.changes}
    assert kinds == {
        "b": (ChangeKind.ADDED, Decision.PENDING),
        "notes": (ChangeKind.DELETED, Decision.PENDING),
        "notes/todo.md": (ChangeKind.DELETED, Decision.PENDING),
        "old.txt": (ChangeKind.MODIFIED, Decision.PENDING),
    }
    assert [h.action for h in env.gate.history()] == ["sync", "undo"]


CRASHING_SYNC = """
import asyncio, sys
from pathlib import Path
from airlock.review.store import ObjectStore
from airlock.sandbox.bwrap import BwrapSandbox
from tests.review_support import GateEnv

async def main(base: Path) -> None:
    sandbox = BwrapSandbox(base / "sandbox")
    await sandbox.start()
    gate = GateEnv.open_gate(base, base / "project", ObjectStore(base / "objects"), sandbox)
    await gate.refresh()
    gate.approve_all()
    await gate.sync()

asyncio.run(main(Path(sys.argv[1])))
"""


async def test_sync_killed_midway_is_rolled_back_at_restart_and_nothing_is_lost(
    env: GateEnv,
) -> None:
    await env.run("sed -i 's/^line 5$/agent 5/' a.txt && mkdir -p n/e && echo new > n/e/w.txt")
    await env.run("rm old.txt")
    before = tree_state(env.project)
    await env.gate.refresh()
    command = [sys.executable, "-c", CRASHING_SYNC, str(env.base)]
    crash = subprocess.run(
        command, env={**os.environ, CRASH_ENV: "step-3"}, cwd=Path(__file__).parents[1], check=False
    )
    assert crash.returncode == CRASH_EXIT
    gate = env.reopen()  # the next start
    assert len(gate.recovery.rolled_back) == 1
    assert tree_state(env.project) == before
    assert len(await gate.refresh()) == 3
    gate.approve_all()
    await gate.sync()
    assert (env.project / "n/e/w.txt").read_text() == "new\n"
    assert not (env.project / "old.txt").exists()
    assert (env.project / "a.txt").read_text() == TEXT.replace("line 5\n", "agent 5\n")


async def test_rejecting_the_only_hunk_of_a_new_file_removes_it(env: GateEnv) -> None:
    await env.run("echo fresh > fresh.txt")
    await env.gate.refresh()
    await env.gate.reject("fresh.txt", hunk=0)
    assert not (env.sandbox.workspace / "fresh.txt").exists()
    assert await env.gate.refresh() == []


async def test_rejecting_a_new_file_takes_the_folders_made_for_it_too(env: GateEnv) -> None:
    await env.run("mkdir -p sub/deep new && echo n > sub/deep/n.txt && echo k > new/k.txt")
    await env.gate.refresh()
    await env.gate.reject("sub/deep/n.txt")
    await env.gate.reject("new/k.txt")
    assert await env.gate.refresh() == []  # no empty `sub/deep` or `new` left behind
    assert not (env.sandbox.workspace / "sub").exists()
    await env.run("mkdir -p notes/drafts && echo d > notes/drafts/d.txt && echo x > x.txt")
    await env.gate.refresh()
    await env.gate.reject("notes/drafts/d.txt")  # notes/ was there before: it stays
    assert [c.path for c in await env.gate.refresh()] == ["x.txt"]
    assert env.sandbox_bytes("notes/todo.md") == b"- one\n"


async def test_approving_a_deleted_folder_approves_what_it_held(env: GateEnv) -> None:
    await env.run("rm -r notes && ln -s a.txt alias")
    await env.gate.refresh()
    env.gate.approve("notes")
    env.gate.approve("alias")
    report = await env.gate.sync()
    assert sorted(report.deleted) == ["notes", "notes/todo.md"]
    assert not (env.project / "notes").exists()
    assert os.readlink(env.project / "alias") == "a.txt"


async def test_both_sides_of_a_move_are_decided_together(env: GateEnv) -> None:
    await env.run("mkdir done && mv old.txt done/ && mv notes/todo.md todo.md && rmdir notes")
    await env.gate.refresh()
    env.gate.approve("done/old.txt")  # approving where it went approves where it left
    assert {c.path: c.decision for c in env.gate.changes} == {
        "done/old.txt": Decision.APPROVED,
        "old.txt": Decision.APPROVED,
        "notes": Decision.PENDING,  # the folder the other move emptied
        "notes/todo.md": Decision.PENDING,
        "todo.md": Decision.PENDING,
    }
    report = await env.gate.sync()
    assert report.deleted == ["old.txt"]
    assert (env.project / "done/old.txt").read_text() == "old\n"
    await env.gate.reject("notes")  # rejecting a folder's deletion undoes the move out of it
    assert env.sandbox_bytes("notes/todo.md") == b"- one\n"
    assert not (env.sandbox.workspace / "todo.md").exists()
    assert await env.gate.refresh() == []


async def test_unknown_paths_and_hunks_are_clear_errors(env: GateEnv) -> None:
    await env.run("echo more >> old.txt")
    await env.gate.refresh()
    with pytest.raises(NoSuchChange, match=r"no pending change at nope\.txt"):
        env.gate.approve("nope.txt")
    with pytest.raises(NoSuchChange, match=r"old\.txt has no hunk 7"):
        await env.gate.reject("old.txt", hunk=7)
