"""The review gate of one session: pending changes, decisions, sync, undo.

Used alike by the session, the CLI and the TUI, and talks to the sandbox only
through the `Sandbox` protocol. The host project changes only in `sync` (and
`undo`), through the journal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from airlock.review.apply import Want, parent_paths, plan_sync, want_of
from airlock.review.baseline import advance, load_manifest, restore, save_manifest, snapshot_host
from airlock.review.changes import MAX_TEXT_BYTES, compute_changes, text_candidates
from airlock.review.errors import NoSuchChange
from airlock.review.hunks import apply_hunks, decode_text, make_hunks
from airlock.review.ignore import IgnoreRules
from airlock.review.journal import Journal, SyncRecord
from airlock.review.models import (
    ChangeKind,
    Decision,
    EntryType,
    FileChange,
    Hunk,
    Manifest,
    display_path,
)
from airlock.review.report import SyncIssue, SyncReport
from airlock.review.state import FileReview, Rejection, ReviewState
from airlock.review.store import ObjectStore, sha256_bytes
from airlock.safefs import SafeRoot
from airlock.sandbox.base import Sandbox, SandboxError

BASELINE_FILE = "baseline.json"
REVIEW_FILE = "review.json"
READ_BATCH = 64 << 20  # bytes asked of the sandbox in one round trip
STALE = "changed in the sandbox since the last refresh; review it again"


class ReviewGate:
    """Review and sync of one session's sandbox against its project.

    On creation an interrupted sync is recovered, then the baseline is loaded from
    `state_dir` (resume) or snapshotted from the project (`snapshot_cache`, the
    project's previous snapshot, spares re-hashing unchanged files).
    """

    def __init__(
        self,
        project_root: Path,
        sandbox: Sandbox,
        store: ObjectStore,
        state_dir: Path,
        journal_path: Path,
        *,
        snapshot_cache: Path | None = None,
    ) -> None:
        self.project_root = project_root
        self.sandbox = sandbox
        self.store = store
        self.state_dir = state_dir
        self.journal = Journal(journal_path, project_root, store)
        self.recovery = self.journal.recover()
        self.ignore = IgnoreRules.for_project(project_root)
        baseline = load_manifest(state_dir / BASELINE_FILE)
        if baseline is None:
            previous = load_manifest(snapshot_cache) if snapshot_cache else None
            baseline = snapshot_host(project_root, store, previous)
            if snapshot_cache is not None:
                save_manifest(snapshot_cache, baseline)
            save_manifest(state_dir / BASELINE_FILE, baseline)
        self._baseline = baseline
        self._state = ReviewState.load(state_dir / REVIEW_FILE)
        self._changes: list[FileChange] = []
        self._lock = asyncio.Lock()

    @property
    def baseline(self) -> Manifest:
        """The project as the sandbox started from it, plus what was synced since (read-only)."""
        return self._baseline

    @property
    def changes(self) -> list[FileChange]:
        """The changes as of the last `refresh` (or review action)."""
        return self._changes

    def rejections(self) -> list[Rejection]:
        """Everything rejected in this session, to tell the agent (`Rejection.describe`)."""
        return list(self._state.rejections)

    def history(self) -> list[SyncRecord]:
        """The project's syncs and undos, oldest first."""
        return self.journal.history()

    async def refresh(self) -> list[FileChange]:
        """Scan the sandbox and recompute the changes, decisions and host conflicts."""
        async with self._lock:
            return await self._refresh()

    async def proposed(self, path: str) -> bytes:
        """The sandbox's content of a changed file (what the agent proposes)."""
        change = self._find(path)
        if change.new_digest is None:
            raise NoSuchChange(f"{display_path(path)} has no new content (it is not a file)")
        if not (await self._fetch({path: change.new_digest}))[path]:
            raise NoSuchChange(f"{display_path(path)} {STALE}")
        return self.store.read(change.new_digest)

    def approve(self, path: str, hunk: int | None = None) -> None:
        """Approve a whole change (a deleted folder with what it held, both sides of a
        move), or one hunk of it."""
        change = self._find(path)
        if hunk is None:
            for member in self._family(change):
                self._state.review(member).decision = Decision.APPROVED
        else:
            self._hunk(change, hunk)
            review = self._state.review(change)
            _approve_hunks(change, review, [*review.hunks, hunk])
        self._decided()

    def approve_all(self) -> None:
        """Approve every pending change (flagged ones are still refused at sync)."""
        for change in self._changes:
            self._state.review(change).decision = Decision.APPROVED
        self._decided()

    async def reject(self, path: str, hunk: int | None = None, reason: str | None = None) -> None:
        """Reject a change (reverted in the sandbox) or one hunk of it; the agent is told."""
        async with self._lock:
            change = self._find(path)
            target = self._hunk(change, hunk) if hunk is not None else None
            keep = [h.index for h in change.hunks if h.index != hunk]
            if target is None or (not keep and change.old_type is not EntryType.FILE):
                await self._revert(self._family(change), reason)  # nothing would be left
                return
            review = self._state.review(change)
            approved = [
                h.lines
                for h in change.hunks
                if h.index in review.hunks or review.decision is Decision.APPROVED
            ]
            text = apply_hunks(self._base_text(path) or "", change.hunks, keep)
            await self.sandbox.write({path: text.encode()})
            self._state.reject(change, target.header, reason)
            self._rediff(change, text.encode())
            carried = [h.index for h in change.hunks if h.lines in approved]
            _approve_hunks(change, self._state.review(change), carried)
            self._decided()

    async def reject_all(self, reason: str | None = None) -> None:
        """Reject every change: the sandbox is put back to the baseline."""
        async with self._lock:
            await self._revert(list(self._changes), reason)

    async def set_edited(self, path: str, content: bytes) -> None:
        """Replace the proposal by the user's edit: written to the sandbox and approved."""
        async with self._lock:
            change = self._find(path)
            if change.entry_type is not EntryType.FILE or change.kind is ChangeKind.DELETED:
                raise NoSuchChange(f"{display_path(path)} is not a changed file")
            await self.sandbox.write({path: content})
            self._rediff(change, content)
            self._state.review(change).decision = Decision.APPROVED
            self._decided()

    async def sync(self) -> SyncReport:
        """Write every approved change to the host project (journaled, atomic per file)."""
        async with self._lock:
            report = SyncReport()
            items = self._approved(await self._refresh(), report)
            fetched = await self._fetch(
                {w.path: w.digest for _, w in items if w.kind == "file" and w.digest}
            )
            stale = {path for path, ok in fetched.items() if not ok}
            report.conflicts += [SyncIssue(path=display_path(p), reason=STALE) for p in stale]
            items = [(change, want) for change, want in items if change.path not in stale]
            wants = [(self._baseline.get(change.path), want) for change, want in items]
            root = SafeRoot(self.project_root)
            plan = await asyncio.to_thread(plan_sync, root, self.store, wants, keep=True)
            report.conflicts += [
                SyncIssue.of_conflict(change, plan.conflicts[change.path])
                for change, _ in items
                if change.path in plan.conflicts
            ]
            targets = list(plan.targets.values())
            sync_id = await asyncio.to_thread(self.journal.run, targets) if targets else None
            report.record(sync_id, targets)
            replaced = advance(self._baseline, items, plan, self.store)
            if sync_id is not None:
                self._state.synced[sync_id] = replaced
            self._save()
            await self._refresh()
            return report

    async def undo(self, sync_id: str | None = None) -> SyncReport:
        """Revert the last sync (or `sync_id`) on the host; its changes become pending again."""
        async with self._lock:
            undo_id, record = await asyncio.to_thread(self.journal.undo, sync_id)
            restore(self._baseline, self._state.synced.pop(record.id, {}))
            self._save()
            await self._refresh()
            return SyncReport.of_undo(undo_id, record)

    def _approved(
        self, changes: Sequence[FileChange], report: SyncReport
    ) -> list[tuple[FileChange, Want]]:
        """What the user approved, as wants; flagged parts go to `report.refused`."""
        items: list[tuple[FileChange, Want]] = []
        for change in changes:
            review = self._state.review(change)
            if not review.approves_something:
                continue
            shown = display_path(change.path)
            report.refused += [SyncIssue(path=shown, reason=flag) for flag in change.flags]
            if change.syncable:
                items.append((change, self._want(change, review)))
        return items

    async def _refresh(self) -> list[FileChange]:
        current = await self.sandbox.scan()
        wanted = text_candidates(self._baseline, current, self.ignore)
        missing = {p: current[p].size for p, digest in wanted.items() if not self.store.has(digest)}
        for path, data in (await self._read(missing)).items():
            digest = self.store.put_bytes(data)
            if digest != current[path].digest:  # changed between scan and read
                current[path] = replace(current[path], digest=digest, size=len(data))
        changes = compute_changes(self._baseline, current, store=self.store, ignore=self.ignore)
        known = {change.path for change in changes}
        self._state.files = {p: r for p, r in self._state.files.items() if p in known}
        self._changes = changes
        self._decided(save=False)
        await asyncio.to_thread(self._preview_conflicts, changes)
        return changes

    def _preview_conflicts(self, changes: Sequence[FileChange]) -> None:
        """Mark changes that could not land on the host as it is now."""
        wants = [(self._baseline.get(c.path), self._want(c, None)) for c in changes if c.syncable]
        plan = plan_sync(SafeRoot(self.project_root), self.store, wants, keep=False)
        for change in changes:
            conflict = plan.conflicts.get(change.path)
            change.conflict = conflict.reason if conflict is not None else None

    def _want(self, change: FileChange, review: FileReview | None) -> Want:
        """What syncing `change` means; with no `review`, the whole change."""
        if review is None or review.decision is Decision.APPROVED:
            return want_of(change, None, "", self.store)
        return want_of(change, review.hunks, self._base_text(change.path) or "", self.store)

    async def _revert(self, changes: Sequence[FileChange], reason: str | None) -> None:
        if not changes:
            return
        await self.sandbox.revert({c.path: self._baseline.get(c.path) for c in changes}, self.store)
        gone = {change.path for change in changes}
        for change in changes:
            self._state.reject(change, None, reason)
            self._state.files.pop(change.path, None)
        self._changes = [change for change in self._changes if change.path not in gone]
        self._state.save(self.state_dir / REVIEW_FILE)
        await self._drop_emptied_folders(gone)

    async def _drop_emptied_folders(self, gone: set[str]) -> None:
        """Remove the new folders that held only what was just reverted (`mkdir -p` for a
        rejected file), so they do not turn up as changes of their own."""
        made = {
            parent for path in gone for parent in parent_paths(path) if parent not in self._baseline
        }
        if not made:
            return
        current = await self.sandbox.scan()
        only_folders = {
            folder
            for folder in made
            if folder in current and all(p in made for p in current if p.startswith(folder + "/"))
        }
        outermost = {f for f in only_folders if not any(p in only_folders for p in parent_paths(f))}
        if outermost:
            await self.sandbox.revert(dict.fromkeys(outermost), self.store)

    def _rediff(self, change: FileChange, data: bytes) -> None:
        """Update a file change for new sandbox content written by the gate itself."""
        change.new_digest = self.store.put_bytes(data)
        change.new_size = len(data)
        new_text = decode_text(data) if len(data) <= MAX_TEXT_BYTES else None
        old_text = self._base_text(change.path)
        change.binary = new_text is None or old_text is None
        change.hunks = (
            [] if new_text is None or old_text is None else make_hunks(old_text, new_text)
        )

    def _base_text(self, path: str) -> str | None:
        """The baseline text of `path`: empty if it was no file, None if binary or large."""
        entry = self._baseline.get(path)
        if entry is None or entry.type is not EntryType.FILE or entry.digest is None:
            return ""
        if entry.size > MAX_TEXT_BYTES:
            return None
        return decode_text(self.store.read(entry.digest))

    async def _read(self, sizes: dict[str, int]) -> dict[str, bytes]:
        """Contents of sandbox files (path -> expected size), a batch per round trip.

        Files that cannot be read (gone, or no longer regular files) are left out.
        """
        found: dict[str, bytes] = {}
        for batch in _batches(sizes):
            try:
                found.update(await self.sandbox.read(batch))
            except SandboxError:
                for path in batch:  # one vanished or became something else: read the rest
                    try:
                        found.update(await self.sandbox.read([path]))
                    except SandboxError:
                        continue
        return found

    async def _fetch(self, wanted: dict[str, str]) -> dict[str, bool]:
        """Bring sandbox contents into the store; per path, whether it had the expected digest."""
        missing = {path: digest for path, digest in wanted.items() if not self.store.has(digest)}
        result = {path: True for path in wanted}
        contents = await self._read({path: self._find(path).new_size or 0 for path in missing})
        for path, digest in missing.items():
            data = contents.get(path)
            result[path] = data is not None and sha256_bytes(data) == digest
            if result[path] and data is not None:
                self.store.put_bytes(data)
        return result

    def _find(self, path: str) -> FileChange:
        for change in self._changes:
            if change.path == path:
                return change
        raise NoSuchChange(f"no pending change at {display_path(path)}", hint="refresh the review")

    def _hunk(self, change: FileChange, index: int) -> Hunk:
        for hunk in change.hunks:
            if hunk.index == index:
                return hunk
        raise NoSuchChange(f"{display_path(change.path)} has no hunk {index}")

    def _family(self, change: FileChange) -> list[FileChange]:
        """A change, the deletions below it when it removes a folder, and the other
        side of every move among them: what is decided together."""
        members = [change]
        removed = change.kind is ChangeKind.DELETED or change.entry_type is not EntryType.DIR
        if change.old_type is EntryType.DIR and removed:
            prefix = change.path + "/"
            below = [c for c in self._changes if c.path.startswith(prefix)]
            members += [c for c in below if c.kind is ChangeKind.DELETED]
        partners = {m.moved_to or m.moved_from for m in members}
        partners -= {None, *(m.path for m in members)}
        return members + [c for c in self._changes if c.path in partners]

    def _decided(self, save: bool = True) -> None:
        """Show the stored decisions on the changes (and persist them)."""
        for change in self._changes:
            review = self._state.review(change)
            change.decision = review.decision
            for hunk in change.hunks:
                whole = review.decision is Decision.APPROVED
                approved = whole or hunk.index in review.hunks
                hunk.decision = Decision.APPROVED if approved else Decision.PENDING
        if save:
            self._state.save(self.state_dir / REVIEW_FILE)

    def _save(self) -> None:
        """Persist the baseline (after a sync or undo moved it) and the decisions."""
        save_manifest(self.state_dir / BASELINE_FILE, self._baseline)
        self._state.save(self.state_dir / REVIEW_FILE)


def _approve_hunks(change: FileChange, review: FileReview, hunks: list[int]) -> None:
    """Approve these hunks; approving every one of them approves the whole change."""
    review.hunks = sorted(set(hunks))
    if change.hunks and {h.index for h in change.hunks} <= set(review.hunks):
        review.decision = Decision.APPROVED


def _batches(sizes: dict[str, int]) -> list[list[str]]:
    """Paths grouped so that each group's total size stays under `READ_BATCH` (or is one file)."""
    batches: list[list[str]] = [[]]
    total = 0
    for path in sizes:
        if batches[-1] and total + sizes[path] > READ_BATCH:
            batches.append([])
            total = 0
        batches[-1].append(path)
        total += sizes[path]
    return [batch for batch in batches if batch]
