"""What the review gate talks about: manifests of trees, and the changes between them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter


class EntryType(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"  # fifo, socket, device: never synced


@dataclass(frozen=True, slots=True)
class Entry:
    """One path of a tree as seen by `lstat` (a symlink is never followed).

    A plain slotted dataclass rather than a BaseModel: a scan builds tens of
    thousands of these, and pydantic validates them at the boundary (`MANIFEST`).
    """

    type: EntryType
    size: int = 0
    mode: int = 0o644  # permission bits including setuid/setgid/sticky (st_mode & 0o7777)
    mtime_ns: int = 0
    ctime_ns: int = 0  # change detection only; 0 where unknown
    digest: str | None = None  # sha256 hex of the content (files only)
    target: str | None = None  # symlink target, as written
    special: str | None = None  # for OTHER: fifo | socket | char-device | block-device


# Relative POSIX path ("dir/file.txt", never "./" or "/"-prefixed) -> entry.
Manifest = dict[str, Entry]
MANIFEST: TypeAdapter[Manifest] = TypeAdapter(Manifest)


def display_path(path: str) -> str:
    """A path safe to print and to put in JSON (undecodable bytes become `\\xNN`)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class ChangeKind(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    MODE = "mode"
    SYMLINK = "symlink"
    SPECIAL = "special"


class Decision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


DiffOp = Literal[" ", "-", "+"]


class Hunk(BaseModel):
    """A run of changed lines with context, approvable on its own."""

    index: int
    old_start: int  # 1-based first line in the baseline text
    old_count: int
    new_start: int  # 1-based first line in the proposed text
    new_count: int
    lines: list[tuple[DiffOp, str]]  # each line without its newline
    old_no_newline: bool = False  # the hunk's last old line ends the file without a newline
    new_no_newline: bool = False  # the hunk's last new line ends the file without a newline
    decision: Decision = Decision.PENDING

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


class FileChange(BaseModel):
    """One changed path of the sandbox workspace against the baseline."""

    path: str
    kind: ChangeKind
    entry_type: EntryType  # the new type, or the old one for a deletion
    old_type: EntryType | None = None  # the baseline type (None for an addition)
    binary: bool = False  # binary or too large to diff: approved or rejected whole
    old_size: int | None = None
    new_size: int | None = None
    old_digest: str | None = None
    new_digest: str | None = None
    old_mode: int | None = None
    new_mode: int | None = None
    old_target: str | None = None
    new_target: str | None = None
    hunks: list[Hunk] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)  # why (part of) this change is never synced
    syncable: bool = True
    conflict: str | None = None  # how the host differs from the baseline, if it does
    decision: Decision = Decision.PENDING
    moved_to: str | None = None  # a deleted file whose content was added at this path
    moved_from: str | None = None  # an added file whose content was deleted at this path


def move_note(
    moved_from: str | None, moved_to: str | None, show: Callable[[str], str] = str
) -> str:
    """ "moved from X" / "moved to X" for one side of a move, else ""; X as `show` makes it."""
    if moved_to is not None:
        return f"moved to {show(moved_to)}"
    return f"moved from {show(moved_from)}" if moved_from is not None else ""


class ChangeInfo(BaseModel):
    """The summary of a change printed by `airlock changes --json` and sent in events."""

    path: str
    kind: ChangeKind
    binary: bool
    conflict: bool
    hunks: int
    flags: list[str] = Field(default_factory=list)
    decision: Decision = Decision.PENDING
    moved_to: str | None = None
    moved_from: str | None = None

    @classmethod
    def of(cls, change: FileChange) -> ChangeInfo:
        return cls(
            path=display_path(change.path),
            kind=change.kind,
            binary=change.binary,
            conflict=change.conflict is not None,
            hunks=len(change.hunks),
            flags=change.flags,
            decision=change.decision,
            moved_to=_shown(change.moved_to),
            moved_from=_shown(change.moved_from),
        )


def _shown(path: str | None) -> str | None:
    return display_path(path) if path is not None else None
