"""A project's memory: `AIRLOCK.md` in its state dir, read into every session's prompt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from airlock.atomic import write_atomic
from airlock.config import ProjectConfig
from airlock.projects import project_state_dir
from airlock.sanitize import sanitize

MEMORY_FILE = "AIRLOCK.md"
HEADER = "# Project memory\n\nNotes Airlock's agent keeps between sessions. Edit freely.\n\n"


def memory_path(project: ProjectConfig) -> Path:
    return project_state_dir(project) / MEMORY_FILE


def read_memory(project: ProjectConfig) -> str:
    try:
        return memory_path(project).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def write_memory(project: ProjectConfig, text: str) -> None:
    write_atomic(memory_path(project), text.encode("utf-8"))


def append_note(project: ProjectConfig, note: str, today: dt.date | None = None) -> str:
    """Add a dated line; returns the line written."""
    day = (today or dt.date.today()).isoformat()
    line = f"- {day}: {' '.join(sanitize(note).split())}\n"
    current = read_memory(project) or HEADER
    if not current.endswith("\n"):
        current += "\n"
    write_memory(project, current + line)
    return line
