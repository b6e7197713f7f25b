"""The user's decisions on a session's changes, persisted so the session can resume.

Each decision is tied to the exact change it was made on (`change_key`): when the
agent changes that path again, the decision is stale and dropped.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from airlock.atomic import write_atomic
from airlock.review.changes import valid_name
from airlock.review.errors import ReviewError
from airlock.review.models import ChangeKind, Decision, Entry, FileChange, display_path

KEY_FIELDS = (
    "kind",
    "entry_type",
    "old_type",
    "old_digest",
    "new_digest",
    "old_mode",
    "new_mode",
    "old_target",
    "new_target",
)


def change_key(change: FileChange) -> str:
    """What identifies a change: both sides of it, not the decisions on it."""
    data = change.model_dump_json(include=set(KEY_FIELDS))
    return hashlib.sha256(data.encode("utf-8", "surrogateescape")).hexdigest()


class FileReview(BaseModel):
    """The decision on one change: whole, or some approved hunks."""

    key: str
    decision: Decision = Decision.PENDING
    hunks: list[int] = Field(default_factory=list)  # approved hunk indexes

    @property
    def approves_something(self) -> bool:
        return self.decision is Decision.APPROVED or bool(self.hunks)


class Rejection(BaseModel):
    """A change (or one hunk of it) the user rejected: reverted, and told to the agent."""

    path: str
    kind: ChangeKind
    hunk: str | None = None  # the rejected hunk's header, if only a hunk was rejected
    reason: str | None = None
    time: float = Field(default_factory=time.time)

    def describe(self) -> str:
        """One line for the agent, e.g. `src/a.py (hunk @@ -3,4 +3,5 @@): use tabs`."""
        what = (
            f"{self.path} (hunk {self.hunk})" if self.hunk else f"{self.path} ({self.kind.value})"
        )
        return f"{what}: {self.reason}" if self.reason else what


class ReviewState(BaseModel):
    """Everything the gate remembers about a session's review."""

    files: dict[str, FileReview] = Field(default_factory=dict)
    rejections: list[Rejection] = Field(default_factory=list)
    # sync id -> the baseline entries that sync replaced (None: absent), for undo
    synced: dict[str, dict[str, Entry | None]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ReviewState:
        try:
            return cls.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return cls()
        except ValidationError as exc:
            raise ReviewError(
                f"the saved review {path} is damaged; delete it to start over"
            ) from exc

    def save(self, path: Path) -> None:
        """Write atomically; decisions on paths that are not valid UTF-8 stay in memory only."""
        kept = {name: review for name, review in self.files.items() if valid_name(name)}
        data = self.model_copy(update={"files": kept}).model_dump_json()
        write_atomic(path, data.encode(), mode=0o600)

    def review(self, change: FileChange) -> FileReview:
        """The current decision on `change` (a pending one if none, or if it went stale)."""
        key = change_key(change)
        found = self.files.get(change.path)
        if found is None or found.key != key:
            found = FileReview(key=key)
            self.files[change.path] = found
        return found

    def reject(self, change: FileChange, hunk: str | None, reason: str | None) -> None:
        self.rejections.append(
            Rejection(path=display_path(change.path), kind=change.kind, hunk=hunk, reason=reason)
        )
