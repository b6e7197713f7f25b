"""What the diff view shows for one change: notes explaining it, and its hunks with marks.

Pure functions of the engine's `FileChange`; paths and link targets come from the
agent, so they are sanitised here (hunk text is sanitised when a line is drawn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from airlock.review.hunks import decode_text, make_hunks
from airlock.review.models import (
    ChangeKind,
    EntryType,
    FileChange,
    Hunk,
    display_path,
    move_note,
)
from airlock.sanitize import sanitize
from tui.widgets.diff_highlight import clean_line

NoteLevel = Literal["info", "warn", "error"]
WHOLE_FILE = 1 << 62  # hunk context that keeps every line: a whole-file comparison


@dataclass(frozen=True)
class Note:
    """One line above the hunks saying what the change is, or why it is special."""

    level: NoteLevel
    text: str


@dataclass(frozen=True)
class DiffModel:
    """A file's diff as the view shows it."""

    path: str  # the change's path in the engine (a key, not for display)
    title: str  # the path as shown (sanitised)
    content: str = ""  # identifies the hunks' text, so rows are reused ("": always rebuilt)
    hunks: list[Hunk] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    conflicts: frozenset[int] = frozenset()  # hunks that did not apply at the last sync
    labels: tuple[str, str] = ("baseline", "proposed")  # the split layout's column titles
    comparison: bool = False  # host vs proposal: read-only, always side by side


NOTHING = DiffModel("", "", notes=[Note("info", "Nothing to review here.")])


def shown_path(path: str) -> str:
    """An engine path made safe to draw, on one line."""
    return clean_line(display_path(path)).replace("\n", "␤")


def change_model(
    change: FileChange, conflicts: frozenset[int] = frozenset(), compare_key: str = "c"
) -> DiffModel:
    """The diff model of a pending change, with notes for what hunks cannot show.

    `compare_key` is the key that compares a conflict with the host (for the note).
    """
    return DiffModel(
        path=change.path,
        title=shown_path(change.path),
        content=f"{change.old_digest}:{change.new_digest}",
        hunks=change.hunks,
        notes=change_notes(change, compare_key),
        conflicts=conflicts,
    )


def comparison_model(
    change: FileChange, host: bytes | None, proposed: bytes, back_key: str = "c"
) -> DiffModel:
    """The host's current text of a conflicting file beside the proposal (read-only)."""
    title = shown_path(change.path)
    beside = "The host's current text (left) beside the proposal (right)"
    notes = [Note("info", f"{beside}; {back_key} goes back to the review diff.")]
    host_text = "" if host is None else decode_text(host)
    new_text = decode_text(proposed)
    if host is None:
        notes.append(Note("warn", "The file is not on the host any more."))
    if host_text is None or new_text is None:
        notes.append(Note("warn", "One side is binary: there is no text to compare."))
        return DiffModel(change.path, title, notes=notes, comparison=True)
    hunks = make_hunks(host_text, new_text, context=WHOLE_FILE)
    if not hunks:
        notes.append(Note("info", "The host already holds exactly the proposed text."))
    labels = ("host now", "proposed")
    return DiffModel(change.path, title, "", hunks, notes, labels=labels, comparison=True)


def change_notes(change: FileChange, compare_key: str = "c") -> list[Note]:
    """Why a change is what it is: flags, conflict, type, mode, link and binary details."""
    notes = [Note("warn", f"Never synced: {sanitize(flag)}") for flag in change.flags]
    if change.flags and not change.syncable:
        notes.append(Note("warn", "It cannot be approved: reject it, or leave it pending."))
    if change.conflict is not None:
        see = f"{compare_key} shows the host's version beside the proposal"
        notes.append(Note("error", f"Conflict: {sanitize(change.conflict)} ({see})."))
    notes += _kind_notes(change)
    if not notes and not change.hunks:
        notes.append(Note("info", "No text changes."))
    return notes


def _kind_notes(change: FileChange) -> list[Note]:
    notes: list[Note] = []
    old, new = change.old_type, change.entry_type
    if change.kind is ChangeKind.ADDED and new is EntryType.DIR:
        notes.append(Note("info", "New empty folder."))
    elif change.kind is ChangeKind.DELETED and old is EntryType.DIR:
        notes.append(Note("info", "Folder deleted, with everything it held."))
    elif moved := move_note(change.moved_from, change.moved_to, shown_path):
        together = "approving or rejecting either side decides both"
        notes.append(Note("info", f"{moved[0].upper()}{moved[1:]}, content unchanged: {together}."))
    elif change.kind is ChangeKind.DELETED and not change.hunks:
        notes.append(Note("info", "File deleted."))
    elif old is not None and old is not new and change.kind is not ChangeKind.DELETED:
        notes.append(Note("info", f"Was a {old.value}, now a {new.value}."))
    if new is EntryType.SYMLINK or old is EntryType.SYMLINK:
        before = sanitize(change.old_target) if change.old_target is not None else None
        after = sanitize(change.new_target) if change.new_target is not None else None
        link = f"Symbolic link → {after}" if after is not None else "Symbolic link removed"
        notes.append(Note("info", link + (f" (was → {before})" if before is not None else "")))
    if _mode_changed(change):
        notes.append(Note("info", f"Permissions {change.old_mode:o} → {change.new_mode:o}."))
    if change.binary:
        sizes = f"{_bytes(change.old_size)} → {_bytes(change.new_size)}"
        notes.append(
            Note("info", f"Binary or too large to show ({sizes}): approve or reject it whole.")
        )
    return notes


def _mode_changed(change: FileChange) -> bool:
    old, new = change.old_mode, change.new_mode
    both_files = change.old_type is EntryType.FILE and change.entry_type is EntryType.FILE
    return both_files and old is not None and new is not None and old != new


def _bytes(size: int | None) -> str:
    return "nothing" if size is None else f"{size:,} bytes"
