"""What a sync or an undo did, as the CLI (`--json`), the TUI and the session report it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from airlock.review.apply import Conflict
from airlock.review.hoststate import Target
from airlock.review.journal import JournalRecord
from airlock.review.models import FileChange, display_path


class SyncIssue(BaseModel):
    """A change that was not synced, and why."""

    path: str
    reason: str
    hunks: list[int] = Field(default_factory=list)  # the hunks in conflict, if known

    @classmethod
    def of_conflict(cls, change: FileChange, conflict: Conflict) -> SyncIssue:
        """The conflict of a change, naming its hunks that did not apply."""
        failed = {(hunk.old_start, hunk.old_count) for hunk in conflict.hunks}
        hunks = [h.index for h in change.hunks if (h.old_start, h.old_count) in failed]
        return cls(path=display_path(change.path), reason=conflict.reason, hunks=hunks)


class SyncReport(BaseModel):
    """What a sync (or an undo) did to the host project."""

    sync_id: str | None = None  # None when nothing on the host had to change
    written: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    conflicts: list[SyncIssue] = Field(default_factory=list)
    refused: list[SyncIssue] = Field(default_factory=list)  # flagged: never synced

    def record(self, sync_id: str | None, targets: list[Target]) -> None:
        """Note the host paths a journaled sync changed."""
        self.sync_id = sync_id
        self.written = [t.path for t in targets if t.after.kind != "absent"]
        self.deleted = [t.path for t in targets if t.after.kind == "absent"]

    @classmethod
    def of_undo(cls, undo_id: str, undone: JournalRecord) -> SyncReport:
        """The report of an undo (`undone` is the sync it reverted)."""
        return cls(
            sync_id=undo_id,
            written=[t.path for t in undone.targets if t.before.kind != "absent"],
            deleted=[t.path for t in undone.targets if t.before.kind == "absent"],
        )
