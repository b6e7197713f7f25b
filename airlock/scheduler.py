"""Scheduled tasks: which are due, running each once in its own session, never twice at once.

Due times come from the task's 5-field cron expression (local time, cronsim). A task
first seen now is anchored now (it runs at its next slot, not immediately); runs
missed while the machine slept collapse into one run at the next check. A per-task
lock file (flock) keeps a still-running task from starting again, across processes
(the TUI and `airlock run-due` may both be checking).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from cronsim import CronSim
from pydantic import BaseModel, Field

from airlock.atomic import write_atomic
from airlock.config import AirlockConfig, ProjectConfig, TaskConfig
from airlock.events import Event
from airlock.paths import airlock_paths
from airlock.projects import slug

Clock = Callable[[], dt.datetime]
CHECK_INTERVAL = 30.0  # seconds between checks of the long-lived scheduler


class TaskState(BaseModel):
    anchor: dt.datetime  # when the task was first seen
    last_run: dt.datetime | None = None
    last_session: str | None = None
    last_result: str | None = None  # the turn's stop reason, or the error


class SchedulerState(BaseModel):
    tasks: dict[str, TaskState] = Field(default_factory=dict)


class DueTask(BaseModel):
    project: ProjectConfig
    task: TaskConfig
    due: dt.datetime

    @property
    def key(self) -> str:
        return task_key(self.project, self.task)


class TaskRun(BaseModel):
    """The outcome of one run of a task."""

    project: str
    task: str
    session_id: str | None = None
    result: str
    pending: int = 0


def task_key(project: ProjectConfig, task: TaskConfig) -> str:
    return f"{project.name}/{task.name}"


def state_path() -> Path:
    return airlock_paths().state_dir / "scheduler.json"


def load_state() -> SchedulerState:
    try:
        return SchedulerState.model_validate_json(state_path().read_bytes())
    except (OSError, ValueError):
        return SchedulerState()


def save_state(state: SchedulerState) -> None:
    write_atomic(state_path(), state.model_dump_json(indent=2).encode("utf-8"))


def next_run(task: TaskConfig, state: TaskState) -> dt.datetime:
    """The first slot after the last run (or after the task was first seen)."""
    since = state.last_run or state.anchor
    return next(CronSim(task.schedule, since.replace(tzinfo=None)))


def due_tasks(config: AirlockConfig, state: SchedulerState, now: dt.datetime) -> list[DueTask]:
    """Enabled tasks whose next slot has come; anchors new tasks in `state`."""
    due = []
    for project in config.projects:
        for task in project.tasks:
            if not task.enabled:
                continue
            key = task_key(project, task)
            task_state = state.tasks.setdefault(key, TaskState(anchor=now))
            slot = next_run(task, task_state)
            if slot <= now:
                due.append(DueTask(project=project, task=task, due=slot))
    return due


@contextlib.contextmanager
def task_lock(key: str) -> Iterator[bool]:
    """Hold the task's lock if free; yields False when the task is still running elsewhere."""
    folder = airlock_paths().state_dir / "task-locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{slug(key.replace('/', '--'))}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


async def run_task(
    item: DueTask, config: AirlockConfig, listener: Callable[[Event], None] | None = None
) -> TaskRun:
    """Run a task's prompt in a new session of its own; its changes wait for review."""
    from airlock.errors import AirlockError
    from airlock.session import Session

    session = Session.create(item.project, config, task=item.task.name)
    if listener is not None:
        session.listeners.append(listener)
    run = TaskRun(
        project=item.project.name, task=item.task.name, session_id=session.record.id, result=""
    )
    try:
        await session.start()
        run.result = await session.run_prompt(item.task.prompt)
        run.pending = len(session.gate.changes)
    except AirlockError as exc:
        run.result = f"error: {exc.message}"
    finally:
        await session.close()
    return run


async def run_due(
    config: AirlockConfig,
    clock: Clock = dt.datetime.now,
    listener: Callable[[Event], None] | None = None,
) -> list[TaskRun]:
    """Run every due task once (concurrently); skip those still running elsewhere."""
    state = load_state()
    now = clock()
    due = due_tasks(config, state, now)
    save_state(state)

    async def one(item: DueTask) -> TaskRun | None:
        with task_lock(item.key) as acquired:
            if not acquired:
                return None
            fresh = load_state()
            fresh.tasks.setdefault(item.key, TaskState(anchor=now)).last_run = now
            save_state(fresh)
            run = await run_task(item, config, listener)
            final = load_state()
            record = final.tasks.setdefault(item.key, TaskState(anchor=now))
            record.last_session, record.last_result = run.session_id, run.result
            save_state(final)
            return run

    results = await asyncio.gather(*(one(item) for item in due))
    return [run for run in results if run is not None]


async def run_forever(
    load: Callable[[], AirlockConfig],
    on_run: Callable[[TaskRun], None],
    clock: Clock = dt.datetime.now,
    interval: float = CHECK_INTERVAL,
) -> None:
    """The long-lived scheduler: check every `interval` seconds, tasks run in the background."""
    running: set[asyncio.Task[None]] = set()

    async def check() -> None:
        for run in await run_due(load(), clock):
            on_run(run)

    try:
        while True:
            job = asyncio.create_task(check())
            running.add(job)
            job.add_done_callback(running.discard)
            await asyncio.sleep(interval)
    finally:  # stopped: tasks still running end as interrupted, their sessions closed
        for job in running:
            job.cancel()
        await asyncio.gather(*running, return_exceptions=True)
