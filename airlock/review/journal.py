"""The sync journal: each host change is recorded before it is made, so it survives a crash
and can be undone.

One JSON-lines file per project. A sync first makes every previous and new content
durable in the object store, then appends a fsynced `begin` record listing each target
path's state before and after, makes the changes, and appends `commit`. A `begin` with
no end is rolled back at the next start (`recover`). An undo is itself a journaled sync.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import secrets
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, Field, ValidationError

from airlock.atomic import fsync_dir
from airlock.errors import AirlockError
from airlock.review.errors import JournalError, SyncFailed, UndoRefused
from airlock.review.hoststate import ABSENT, Target, apply_states, read_state, sweep_temps
from airlock.review.store import ObjectStore
from airlock.safefs import SafeRoot

CRASH_ENV = "AIRLOCK_CRASH_AT"  # test hook: the process dies at this step of a sync
CRASH_EXIT = 75
Action = Literal["sync", "undo"]
Status = Literal["committed", "rolled_back", "interrupted"]
STATUS: dict[str, Status] = {"commit": "committed", "rolled_back": "rolled_back"}


class JournalRecord(BaseModel):
    """One line of the journal."""

    op: Literal["begin", "commit", "rolled_back"]
    id: str
    time: float = Field(default_factory=time.time)
    action: Action = "sync"
    undoes: str | None = None  # for an undo: the sync it reverts
    targets: list[Target] = Field(default_factory=list)  # `begin` only


class SyncRecord(BaseModel):
    """One sync or undo, as `airlock history` shows it."""

    id: str
    time: float
    action: Action
    undoes: str | None = None
    written: list[str]
    deleted: list[str]
    status: Status
    undone_by: str | None = None


class RecoveryReport(BaseModel):
    """What `recover` did at start."""

    rolled_back: list[str] = Field(default_factory=list)  # ids of interrupted syncs
    kept: list[str] = Field(default_factory=list)  # paths changed after the crash, left alone


def crash_point(step: str) -> None:
    """Die here if the test hook asks for it (no cleanup, like a kill)."""
    if os.environ.get(CRASH_ENV) == step:
        os._exit(CRASH_EXIT)


def new_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class Journal:
    """The journal of one project; every method holds the project's sync lock."""

    def __init__(self, path: Path, project_root: Path, store: ObjectStore) -> None:
        self.path = path
        self.root = SafeRoot(project_root)
        self.store = store

    def records(self) -> list[JournalRecord]:
        """Every record; a torn last line (a crash while appending it) is skipped."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        records: list[JournalRecord] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(JournalRecord.model_validate_json(line))
            except ValidationError as exc:
                if number == len(lines):
                    break
                raise JournalError(
                    f"the sync journal {self.path} is damaged at line {number}"
                ) from exc
        return records

    def run(
        self, targets: Sequence[Target], *, action: Action = "sync", undoes: str | None = None
    ) -> str:
        """Make the host match each target's `after`, journaled; returns the sync id."""
        with self._locked():
            return self._run(targets, action, undoes)

    def recover(self) -> RecoveryReport:
        """Roll back every sync a crash interrupted (idempotent, safe to call at each start)."""
        report = RecoveryReport()
        with self._locked():
            records = self.records()
            ended = {record.id for record in records if record.op != "begin"}
            for record in reversed(records):
                if record.op == "begin" and record.id not in ended:
                    report.kept += self._rollback(record)
                    report.rolled_back.append(record.id)
        return report

    def undo(self, sync_id: str | None = None) -> tuple[str, JournalRecord]:
        """Revert a sync (the last one not undone by default); returns the undo's id and the sync.

        Refused, naming the files, if any of them changed since that sync.
        """
        with self._locked():
            record = self._undoable(sync_id)
            changed = [
                target.path
                for target in record.targets
                if not read_state(self.root, target.path).exact(target.after)
            ]
            if changed:
                shown = ", ".join(changed[:5]) + (" …" if len(changed) > 5 else "")
                raise UndoRefused(
                    f"cannot undo sync {record.id}: changed since then: {shown}",
                    hint="undo later syncs first, or restore those files by hand",
                )
            reverse = [
                Target(path=target.path, before=target.after, after=target.before)
                for target in record.targets
            ]
            return self._run(reverse, "undo", record.id), record

    def history(self) -> list[SyncRecord]:
        """Every sync and undo, oldest first."""
        records = self.records()
        ends = {record.id: record.op for record in records if record.op != "begin"}
        begins = [record for record in records if record.op == "begin"]
        undone_by = {
            record.undoes: record.id
            for record in begins
            if record.undoes is not None and ends.get(record.id) == "commit"
        }
        return [
            SyncRecord(
                id=record.id,
                time=record.time,
                action=record.action,
                undoes=record.undoes,
                written=[t.path for t in record.targets if t.after.kind != "absent"],
                deleted=[t.path for t in record.targets if t.after.kind == "absent"],
                status=STATUS.get(ends.get(record.id, ""), "interrupted"),
                undone_by=undone_by.get(record.id),
            )
            for record in begins
        ]

    def _undoable(self, sync_id: str | None) -> JournalRecord:
        history = {record.id: record for record in self.history()}
        begins = {record.id: record for record in self.records() if record.op == "begin"}
        if sync_id is None:
            candidates = [
                record
                for record in history.values()
                if record.action == "sync" and record.status == "committed" and not record.undone_by
            ]
            if not candidates:
                raise UndoRefused("there is no sync to undo")
            sync_id = candidates[-1].id
        found = history.get(sync_id)
        if found is not None and found.action != "sync":
            raise UndoRefused(
                f"{sync_id} is an undo, not a sync: it cannot be undone itself",
                hint="approve and sync those changes again to redo them",
            )
        if found is None:
            raise UndoRefused(f"no sync with id {sync_id}", hint="see `airlock history`")
        if found.status != "committed":
            raise UndoRefused(f"sync {sync_id} was rolled back; there is nothing to undo")
        if found.undone_by:
            raise UndoRefused(f"sync {sync_id} was already undone (by {found.undone_by})")
        return begins[sync_id]

    def _run(self, targets: Sequence[Target], action: Action, undoes: str | None) -> str:
        digests = [
            state.digest
            for target in targets
            for state in (target.before, target.after)
            if state.kind == "file" and state.digest
        ]
        missing = [digest for digest in digests if not self.store.has(digest)]
        if missing:
            raise JournalError(f"{len(missing)} contents missing from the object store; not synced")
        self.store.sync(digests)
        crash_point("stored")
        record = JournalRecord(
            op="begin", id=new_id(), action=action, undoes=undoes, targets=list(targets)
        )
        self._append(record)
        crash_point("begun")
        steps = itertools.count(1)
        try:
            apply_states(
                self.root,
                [(target.path, target.after) for target in targets],
                self.store,
                lambda: crash_point(f"step-{next(steps)}"),
            )
        except (OSError, AirlockError) as exc:
            self._rollback(record)
            raise SyncFailed(f"the sync failed ({exc}); nothing was changed") from exc
        crash_point("applied")
        self._append(JournalRecord(op="commit", id=record.id))
        crash_point("committed")
        return record.id

    def _rollback(self, record: JournalRecord) -> list[str]:
        """Put every target back as it was; returns paths someone changed since, left alone."""
        sweep_temps(self.root, [target.path for target in record.targets])
        states, kept = [], []
        for target in record.targets:
            now = read_state(self.root, target.path)
            if now.kind == "blocked":  # below what is still a file or link: nothing there
                now = ABSENT
            if now.same(target.before) or now.same(target.after):
                states.append((target.path, target.before))
            else:
                kept.append(target.path)
        steps = itertools.count(1)
        try:
            apply_states(
                self.root, states, self.store, lambda: crash_point(f"rollback-{next(steps)}")
            )
        except (OSError, AirlockError) as exc:
            raise JournalError(
                f"could not roll back the interrupted sync {record.id}: {exc}",
                hint="fix the cause; Airlock retries at the next start",
            ) from exc
        self._append(JournalRecord(op="rolled_back", id=record.id))
        return kept

    def _append(self, record: JournalRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with self.path.open("a+b") as handle:
            _drop_torn_tail(handle)
            handle.write(record.model_dump_json().encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            fsync_dir(self.path.parent)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One sync at a time per project, across processes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_name(self.path.name + ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _drop_torn_tail(handle: BinaryIO) -> None:
    """Cut a last line left half-written by a crash (that record never took effect)."""
    if handle.seek(0, os.SEEK_END) == 0:
        return
    handle.seek(-1, os.SEEK_END)
    if handle.read(1) == b"\n":
        return
    handle.seek(0)
    handle.truncate(handle.read().rfind(b"\n") + 1)
