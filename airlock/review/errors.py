"""Errors of the review gate, each carrying the one line a user needs."""

from __future__ import annotations

from airlock.errors import AirlockError


class ReviewError(AirlockError):
    """Base of the review gate's errors."""


class NoSuchChange(ReviewError):
    """A path (or hunk) named by the user is not among the pending changes."""


class SyncFailed(ReviewError):
    """A sync hit an error while writing; everything it had written was rolled back."""


class UndoRefused(ReviewError):
    """An undo that would overwrite changes made after the sync it reverts."""


class JournalError(ReviewError):
    """The sync journal is missing a record that an operation needs."""
