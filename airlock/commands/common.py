"""What the session-based commands share: finding the project, running a started session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airlock.config import AirlockConfig, ProjectConfig, load_config
from airlock.errors import UsageError
from airlock.projects import resolve_project
from airlock.review.models import FileChange, display_path
from airlock.sanitize import sanitize

if TYPE_CHECKING:
    from airlock.session import Session

SANDBOX_CHOICES = ("auto", "lima", "bwrap")


def project_for(target: str) -> tuple[AirlockConfig, ProjectConfig]:
    """The config and the project named by a `DIR` (or project name) argument."""
    config = load_config()
    return config, resolve_project(config, target)


def run_async(coroutine: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine; Ctrl-C cancels it cleanly (exit 130)."""
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        return 130


@contextlib.asynccontextmanager
async def started(session: Session) -> AsyncIterator[Session]:
    """The session, started, and closed whatever happens."""
    try:
        await session.start()
        yield session
    finally:
        await session.close()


def select_changes(changes: list[FileChange], root: Path, paths: list[str]) -> list[FileChange]:
    """The changes named by PATH arguments: exact paths, or folders containing changes;
    a path may also be given as `airlock changes` prints it (control characters made safe)."""
    selected: list[FileChange] = []
    for raw in paths:
        wanted = _relative(raw, root)
        matches = [
            change
            for change in changes
            if change.path == wanted or change.path.startswith(wanted.rstrip("/") + "/")
        ] or [change for change in changes if sanitize(display_path(change.path)) == wanted]
        if not matches:
            raise UsageError(f"no pending change at {raw}", hint="see `airlock changes DIR`")
        selected.extend(change for change in matches if change not in selected)
    return selected


def _relative(raw: str, root: Path) -> str:
    candidate = Path(raw)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{raw} is outside the project {root}") from None
    text = candidate.as_posix()
    return "" if text == "." else text


def shown(change: FileChange) -> str:
    return display_path(change.path)
