"""Session records: which sessions a project has, which one is current, pruning old ones."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from airlock.atomic import write_atomic
from airlock.config import ProjectConfig
from airlock.errors import AirlockError
from airlock.projects import project_state_dir

SessionStatus = Literal["new", "running", "idle", "interrupted", "error"]


class SessionRecord(BaseModel):
    """What a session is, persisted as `sessions/<id>/session.json`."""

    id: str
    project: str
    created: dt.datetime
    updated: dt.datetime
    title: str = ""  # the first prompt, shortened
    status: SessionStatus = "new"
    sandbox: str = ""  # bwrap | lima
    model: str = ""
    task: str | None = None  # the scheduled task that started it, if any
    loaded: bool = False  # the sandbox holds this session's workspace
    pending: int = 0  # changes waiting for review at the last refresh

    def touch(self) -> None:
        self.updated = now()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def sessions_dir(project: ProjectConfig) -> Path:
    return project_state_dir(project) / "sessions"


def session_dir(project: ProjectConfig, session_id: str) -> Path:
    return sessions_dir(project) / session_id


def save_record(project: ProjectConfig, record: SessionRecord) -> None:
    path = session_dir(project, record.id) / "session.json"
    write_atomic(path, record.model_dump_json(indent=2).encode("utf-8"))


def load_record(project: ProjectConfig, session_id: str) -> SessionRecord:
    path = session_dir(project, session_id) / "session.json"
    try:
        return SessionRecord.model_validate_json(path.read_bytes())
    except FileNotFoundError as exc:
        raise AirlockError(
            f"no session {session_id!r} in project {project.name!r}",
            hint="see `airlock sessions DIR`",
        ) from exc
    except ValidationError as exc:
        raise AirlockError(f"session record {path} is damaged: {exc.errors()[0]['msg']}") from exc


def list_records(project: ProjectConfig) -> list[SessionRecord]:
    """Every readable session of the project, newest first."""
    records = []
    root = sessions_dir(project)
    for path in root.glob("*/session.json") if root.is_dir() else ():
        try:
            records.append(SessionRecord.model_validate_json(path.read_bytes()))
        except (OSError, ValidationError):
            continue
    return sorted(records, key=lambda record: record.created, reverse=True)


def new_record(project: ProjectConfig, model: str, task: str | None = None) -> SessionRecord:
    stamp = now()
    session_id = f"{stamp:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    record = SessionRecord(
        id=session_id, project=project.name, created=stamp, updated=stamp, model=model, task=task
    )
    save_record(project, record)
    return record


def current_id(project: ProjectConfig) -> str | None:
    try:
        value = (project_state_dir(project) / "current").read_text().strip()
    except FileNotFoundError:
        return None
    return value if (session_dir(project, value) / "session.json").exists() else None


def set_current(project: ProjectConfig, session_id: str) -> None:
    write_atomic(project_state_dir(project) / "current", session_id.encode())


def delete_session(project: ProjectConfig, session_id: str) -> SessionRecord:
    """Remove a session and all it holds; never the current one, nor one still running."""
    record = load_record(project, session_id)
    if record.id == current_id(project):
        raise AirlockError(f"session {record.id} is the current one: open another one first")
    if record.status == "running":
        raise AirlockError(f"session {record.id} is still running")
    shutil.rmtree(session_dir(project, record.id))
    return record


def prune(project: ProjectConfig, days: int) -> list[SessionRecord]:
    """Delete sessions untouched for `days` days, except the current and running ones."""
    cutoff = now() - dt.timedelta(days=days)
    keep = current_id(project)
    removed = []
    for record in list_records(project):
        if record.updated < cutoff and record.id != keep and record.status != "running":
            shutil.rmtree(session_dir(project, record.id), ignore_errors=True)
            removed.append(record)
    return removed
