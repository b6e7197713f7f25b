"""Confirm a sync: what will be written to and deleted from the host project."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from airlock.review.models import ChangeKind, Decision, FileChange
from airlock.review.report import SyncReport
from airlock.sanitize import sanitize
from tui.widgets.diff_model import shown_path


@dataclass
class SyncPreview:
    """The approved changes a sync will try, grouped by what they do to the host."""

    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # "old → new": a write plus a delete
    conflicts: list[str] = field(default_factory=list)  # merged if they apply, else left alone
    refused: list[str] = field(default_factory=list)  # approved but never synced

    @property
    def empty(self) -> bool:
        return not (self.written or self.deleted or self.moved or self.conflicts or self.refused)

    def sections(self) -> list[tuple[str, list[str]]]:
        """(heading, lines) for each non-empty group."""
        groups = [
            ("Write", self.written),
            ("Delete", self.deleted),
            ("Move", self.moved),
            ("Host changed since the session started (merged only if it applies)", self.conflicts),
            ("Never synced", self.refused),
        ]
        return [(f"{title} ({len(lines)})", lines) for title, lines in groups if lines]


def sync_preview(changes: Sequence[FileChange]) -> SyncPreview:
    """What syncing the approved part of `changes` would do."""
    preview = SyncPreview()
    by_path = {change.path: change for change in changes}
    for change in changes:
        approved = [hunk for hunk in change.hunks if hunk.decision is Decision.APPROVED]
        whole = change.decision is Decision.APPROVED
        if not (whole or approved):
            continue
        path = shown_path(change.path)
        if not change.syncable:
            preview.refused.append(f"{path}: {sanitize('; '.join(change.flags))}")
        elif change.conflict is not None:
            preview.conflicts.append(f"{path}: {sanitize(change.conflict)}")
        elif (ends := _move(change, by_path)) is not None:
            if change.moved_to is not None:
                preview.moved.append(" → ".join(shown_path(end.path) for end in ends))
        elif change.kind is ChangeKind.DELETED:
            preview.deleted.append(path)
        elif whole:
            preview.written.append(path)
        else:
            preview.written.append(f"{path} ({len(approved)} of {len(change.hunks)} hunks)")
    return preview


def _move(
    change: FileChange, by_path: dict[str, FileChange]
) -> tuple[FileChange, FileChange] | None:
    """(old end, new end) of the move `change` is part of, if both ends will land."""
    other = by_path.get(change.moved_to or change.moved_from or "")
    if other is None or other.conflict is not None or not other.syncable:
        return None
    return (change, other) if change.moved_to is not None else (other, change)


def report_lines(report: SyncReport, verbs: tuple[str, str] = ("wrote", "deleted")) -> list[str]:
    """What a sync (or, with other `verbs`, an undo) did, a line per kind of outcome."""
    lines = [
        f"{verb} {_names(paths)}"
        for verb, paths in zip(verbs, (report.written, report.deleted), strict=True)
        if paths
    ] or ["nothing on the host changed"]
    lines += [f"conflict: {sanitize(i.path)}: {sanitize(i.reason)}" for i in report.conflicts]
    lines += [f"not synced: {sanitize(i.path)}: {sanitize(i.reason)}" for i in report.refused]
    return lines


def _names(paths: list[str], most: int = 5) -> str:
    shown = ", ".join(sanitize(path) for path in paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


class SyncConfirmScreen(ModalScreen[bool]):
    """Dismissed with True (y / enter) to sync, False (Esc / n) to cancel."""

    CSS_PATH = "sync_confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "confirm", "Sync", id="sync-confirm.yes"),
        Binding("escape,n", "cancel", "Cancel", id="sync-confirm.no"),
    ]

    def __init__(self, preview: SyncPreview, project: str) -> None:
        super().__init__()
        self.preview = preview
        self.project = project

    def compose(self) -> ComposeResult:
        with Vertical(id="sync-confirm"):
            yield Static(Content(f"Sync to {self.project}?"), id="sync-confirm-title")
            with VerticalScroll(id="sync-confirm-list"):
                for heading, lines in self.preview.sections():
                    yield Static(Content(heading), classes="sync-confirm-heading")
                    yield Static(Content("\n".join(lines)), classes="sync-confirm-paths")
            yield Static(Content("y / enter syncs · esc cancels"), id="sync-confirm-hint")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
