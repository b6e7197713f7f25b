"""The project opened last, so that `airlock` with no arguments opens it again."""

from __future__ import annotations

from pathlib import Path

from airlock.atomic import write_atomic
from airlock.paths import airlock_paths

LAST_PROJECT = "last-project"


def remember_project(path: Path) -> None:
    write_atomic(airlock_paths().state_dir / LAST_PROJECT, str(path).encode("utf-8"))


def last_project() -> Path | None:
    """The folder opened last, if it still exists."""
    try:
        text = (airlock_paths().state_dir / LAST_PROJECT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    path = Path(text)
    return path if text and path.is_absolute() and path.is_dir() else None
