"""Unified-diff text of pending changes, for `airlock diff` (coloured on a terminal)."""

from __future__ import annotations

from airlock.commands.output import paint
from airlock.review.models import ChangeKind, EntryType, FileChange, display_path, move_note
from airlock.sanitize import sanitize

NO_NEWLINE = "\\ No newline at end of file"


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    if value < 1024:
        return f"{value} B"
    size = float(value)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.1f} {unit}"


def change_lines(change: FileChange) -> list[str]:
    """The diff of one change, lines without newlines, colour codes already applied."""
    path = sanitize(display_path(change.path))
    old = "/dev/null" if change.kind is ChangeKind.ADDED else f"a/{path}"
    new = "/dev/null" if change.kind is ChangeKind.DELETED else f"b/{path}"
    lines = [paint(f"diff --airlock {path} ({change.kind.value})", "bold")]
    for flag in change.flags:
        lines.append(paint(f"# never synced: {flag}", "yellow"))
    if change.conflict:
        lines.append(paint(f"# conflict: {change.conflict}", "yellow"))
    if moved := move_note(change.moved_from, change.moved_to, _shown):
        lines.append(f"{moved} (same content; approved or rejected together)")
    if change.old_mode != change.new_mode and None not in (change.old_mode, change.new_mode):
        lines.append(f"mode {change.old_mode:o} → {change.new_mode:o}")
    if change.entry_type is EntryType.SYMLINK or change.old_type is EntryType.SYMLINK:
        before = sanitize(change.old_target or "-")
        after = sanitize(change.new_target or "-")
        lines.append(f"symlink {path}: {before} → {after}")
    if change.binary:
        lines.append(
            f"binary or too large to diff {path}: "
            f"{_size(change.old_size)} → {_size(change.new_size)}"
            f" (sha256 {(change.new_digest or '-')[:12]})"
        )
    if not change.hunks:
        return lines
    lines += [paint(f"--- {old}", "bold"), paint(f"+++ {new}", "bold")]
    for hunk in change.hunks:
        lines.append(paint(hunk.header, "cyan"))
        for op, text in hunk.lines:
            line = op + sanitize(text)
            lines.append(
                paint(line, "red") if op == "-" else paint(line, "green") if op == "+" else line
            )
        if hunk.old_no_newline or hunk.new_no_newline:
            lines.append(NO_NEWLINE)
    return lines


def _shown(path: str) -> str:
    return sanitize(display_path(path))
