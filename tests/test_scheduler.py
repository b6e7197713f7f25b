"""Scheduled tasks: cron via cronsim, a fake clock for due/missed/overlap, real runs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from airlock.config import AirlockConfig, ProjectConfig, TaskConfig, load_config, save_config
from airlock.demo.messages_server import Reply, Text, ToolUse
from airlock.memory import append_note
from airlock.scheduler import (
    SchedulerState,
    TaskState,
    due_tasks,
    load_state,
    next_run,
    run_due,
    task_lock,
)
from airlock.scheduler_install import env_file, install, load_env_file
from airlock.sessions import list_records
from tests.conftest import CliRunner
from tests.scripted_api import ScriptedApi

WEEKDAYS_9 = "0 9 * * 1-5"
FRIDAY_10 = dt.datetime(2026, 11, 27, 10, 0)  # a Friday


def config_with(tmp_path: Path, schedule: str = WEEKDAYS_9, enabled: bool = True) -> AirlockConfig:
    folder = tmp_path / "notes"
    folder.mkdir(exist_ok=True)
    task = TaskConfig(name="tidy", schedule=schedule, prompt="Tidy up", enabled=enabled)
    return AirlockConfig(projects=[ProjectConfig(name="notes", path=folder, tasks=[task])])


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        (WEEKDAYS_9, FRIDAY_10, dt.datetime(2026, 11, 30, 9, 0)),  # skips the weekend
        (WEEKDAYS_9, dt.datetime(2026, 11, 30, 8, 59), dt.datetime(2026, 11, 30, 9, 0)),
        ("0 0 29 2 *", dt.datetime(2026, 3, 1), dt.datetime(2028, 2, 29, 0, 0)),  # leap day
        ("*/15 * * * *", dt.datetime(2026, 1, 1, 10, 7), dt.datetime(2026, 1, 1, 10, 15)),
        ("0 12 1 * MON", dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 5, 12, 0)),  # dom OR dow
    ],
)
def test_next_run_follows_cron(schedule: str, after: dt.datetime, expected: dt.datetime) -> None:
    task = TaskConfig(name="t", schedule=schedule, prompt="p")
    assert next_run(task, TaskState(anchor=after)) == expected


@pytest.mark.parametrize("schedule", ["61 * * * *", "* * *", "0 9 * * 1-5 2026", "@daily", "x"])
def test_bad_schedules_are_refused(schedule: str) -> None:
    with pytest.raises(ValidationError):
        TaskConfig(name="t", schedule=schedule, prompt="p")


def test_a_new_task_waits_for_its_next_slot(tmp_path: Path) -> None:
    config, state = config_with(tmp_path), SchedulerState()
    assert due_tasks(config, state, FRIDAY_10) == []
    assert due_tasks(config, state, dt.datetime(2026, 11, 30, 8, 59)) == []
    (due,) = due_tasks(config, state, dt.datetime(2026, 11, 30, 9, 0))
    assert due.due == dt.datetime(2026, 11, 30, 9, 0)


def test_missed_runs_collapse_into_one(tmp_path: Path) -> None:
    config, state = config_with(tmp_path), SchedulerState()
    due_tasks(config, state, FRIDAY_10)
    week_later = FRIDAY_10 + dt.timedelta(days=7)  # five 9:00 slots slept through
    assert len(due_tasks(config, state, week_later)) == 1
    state.tasks["notes/tidy"].last_run = week_later
    assert due_tasks(config, state, week_later + dt.timedelta(hours=1)) == []


def test_disabled_tasks_never_run(tmp_path: Path) -> None:
    config, state = config_with(tmp_path, enabled=False), SchedulerState()
    assert due_tasks(config, state, FRIDAY_10 + dt.timedelta(days=30)) == []


async def test_a_task_still_running_is_not_started_again(tmp_path: Path) -> None:
    config = config_with(tmp_path, schedule="* * * * *")
    await run_due(config, clock=lambda: FRIDAY_10)  # anchors it
    with task_lock("notes/tidy") as acquired:
        assert acquired
        runs = await run_due(config, clock=lambda: FRIDAY_10 + dt.timedelta(minutes=5))
    assert runs == []


async def test_scheduled_run_leaves_changes_pending_and_carries_memory(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    config = config_with(tmp_path)
    project = config.projects[0]
    (project.path / "a.txt").write_text("hello\n")
    append_note(project, "The user wants reports in French.")
    server = scripted_api.serve(
        [
            Reply(blocks=[ToolUse(name="bash", input={"command": "echo rapport > report.txt"})]),
            Reply(blocks=[Text(text="Done.")]),
        ]
    )
    await run_due(config, clock=lambda: FRIDAY_10)
    (run,) = await run_due(config, clock=lambda: dt.datetime(2026, 11, 30, 9, 0, 30))
    assert run.result == "end_turn" and run.pending == 1
    assert sorted(p.name for p in project.path.iterdir()) == ["a.txt"]
    assert "reports in French" in server.requests[0].system_text()
    (record,) = [r for r in list_records(project) if r.task == "tidy"]
    assert record.pending == 1
    assert load_state().tasks["notes/tidy"].last_session == record.id


def test_task_cli_adds_lists_and_disables(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    cli("project", "add", tmp_path / "notes")
    added = cli("task", "add", "notes", "daily", "--schedule", WEEKDAYS_9, "--prompt", "Tidy")
    assert added.code == 0
    assert (
        "invalid cron"
        in cli("task", "add", "notes", "x", "--schedule", "99 * * * *", "--prompt", "p").err
    )
    listing = cli("task", "list").out
    assert "daily" in listing and "09:00" in listing
    cli("task", "disable", "notes", "daily")
    assert load_config().projects[0].tasks[0].enabled is False


def test_install_writes_a_systemd_timer_or_a_launchd_agent(tmp_path: Path) -> None:
    linux = install(platform="linux")
    names = sorted(path.name for path in linux.files)
    assert names == ["airlock-run-due.service", "airlock-run-due.timer"]
    service = next(p for p in linux.files if p.suffix == ".service").read_text()
    assert "run-due" in service and "ExecStart=" in service
    assert any("enable --now" in step for step in linux.next_steps)
    mac = install(home=tmp_path, platform="darwin")
    plist = mac.files[0].read_text()
    assert "<string>run-due</string>" in plist and "StartInterval" in plist


async def test_a_failed_run_shows_in_the_task_list(tmp_path: Path, cli: CliRunner) -> None:
    config = config_with(tmp_path)  # and no API key
    save_config(config)
    await run_due(config, clock=lambda: FRIDAY_10)
    (run,) = await run_due(config, clock=lambda: dt.datetime(2026, 11, 30, 9, 0, 30))
    assert run.result.startswith("error: ANTHROPIC_API_KEY is not set")
    assert "(error: ANTHROPIC_API_KEY is not set)" in cli("task", "list").out


def test_run_due_takes_the_key_from_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_file()
    env.parent.mkdir(parents=True, exist_ok=True)
    env.write_text("# for the timer\nexport ANTHROPIC_API_KEY='from-file'\nNO_COLOR=1\n")
    monkeypatch.setenv("NO_COLOR", "0")  # what the environment has already wins
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # and is restored after the test
    load_env_file()
    assert os.environ["ANTHROPIC_API_KEY"] == "from-file"
    assert os.environ["NO_COLOR"] == "0"
