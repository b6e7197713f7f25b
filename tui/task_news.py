"""Scheduled tasks' results, announced in the TUI: when a run ends while it is open, and at
start for task sessions whose pending changes the user has not opened yet (runs of
`airlock run-due` while the TUI was closed)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field, ValidationError

from airlock.atomic import write_atomic
from airlock.config import AirlockConfig, ProjectConfig, load_config
from airlock.errors import AirlockError
from airlock.paths import airlock_paths
from airlock.sanitize import sanitize
from airlock.scheduler import TaskRun
from airlock.sessions import SessionRecord, list_records

SEEN_FILE = "seen-task-sessions.json"
Announce = Callable[[str, bool], None]  # (text, failed)


class TaskNews:
    """What the app tells the user about scheduled tasks, through `announce`."""

    def __init__(self, announce: Announce, sessions_key: Callable[[], str]) -> None:
        """`sessions_key` is the key (as remapped now) that opens the sessions screen."""
        self._announce = announce
        self._sessions_key = sessions_key
        self._config_error = ""

    def at_start(self, config: AirlockConfig) -> None:
        """Results that came while the TUI was closed (`airlock run-due`), not opened yet."""
        for project, record in unseen_results(config):
            text = waiting_text(
                project.name, record.task or "", record.pending, self._sessions_key()
            )
            self._announce(text, False)

    def ran(self, run: TaskRun) -> None:
        """A run of the app's scheduler ended."""
        self._announce(*run_text(run, self._sessions_key()))

    def config(self) -> AirlockConfig:
        """The config for the scheduler's next check: as it is now (tasks added meanwhile
        count), or none while it is broken (said once, not at every check)."""
        try:
            config = load_config()
        except AirlockError as exc:
            if str(exc) != self._config_error:
                self._announce(sanitize(f"scheduled tasks wait for a valid config: {exc}"), True)
            self._config_error = str(exc)
            return AirlockConfig()
        self._config_error = ""
        return config


class SeenSessions(BaseModel):
    """Task sessions the user has opened in the TUI."""

    ids: list[str] = Field(default_factory=list)


def seen_ids() -> set[str]:
    try:
        path = airlock_paths().state_dir / SEEN_FILE
        return set(SeenSessions.model_validate_json(path.read_bytes()).ids)
    except (OSError, ValidationError):
        return set()


def mark_seen(session_id: str) -> None:
    """The user opened this session: its results are no longer news."""
    ids = sorted(seen_ids() | {session_id})
    write_atomic(
        airlock_paths().state_dir / SEEN_FILE, SeenSessions(ids=ids).model_dump_json().encode()
    )


def unseen_results(config: AirlockConfig) -> list[tuple[ProjectConfig, SessionRecord]]:
    """Finished task sessions with pending changes not opened yet, oldest first."""
    seen = seen_ids()
    found = [
        (project, record)
        for project in config.projects
        for record in list_records(project)
        if record.task and record.pending and record.status != "running" and record.id not in seen
    ]
    return sorted(found, key=lambda item: item[1].created)


def waiting_text(project: str, task: str, pending: int, sessions_key: str) -> str:
    """What a task left for review, and the key that lists the project's sessions."""
    waits = "change waits" if pending == 1 else "changes wait"
    return f"task {task!r} on {project}: {pending} {waits} for review — {sessions_key} sessions"


def run_text(run: TaskRun, sessions_key: str) -> tuple[str, bool]:
    """The announcement of a finished run, and whether it failed."""
    if run.result.startswith("error"):
        return sanitize(f"task {run.task!r} on {run.project}: {run.result}"), True
    if not run.pending:
        return f"task {run.task!r} on {run.project} finished: no changes", False
    return waiting_text(run.project, run.task, run.pending, sessions_key), False
