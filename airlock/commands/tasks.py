"""`airlock task …`, `airlock scheduler [--install]`, `airlock run-due`: scheduled tasks."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from typing import Any

from airlock.commands.common import run_async
from airlock.commands.output import print_table
from airlock.errors import UsageError


def register(sub: Any) -> None:
    task = sub.add_parser("task", help="manage a project's scheduled tasks")
    actions = task.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a task: a prompt run on a cron schedule")
    add.add_argument("project", metavar="PROJECT", help="project name or folder")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--schedule", required=True, help="5-field cron, e.g. '0 9 * * 1-5'")
    add.add_argument("--prompt", required=True)
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="list tasks with their next run")
    listing.set_defaults(handler=_list)
    for name, verb in (("remove", "remove"), ("enable", "switch on"), ("disable", "switch off")):
        action = actions.add_parser(name, help=f"{verb} a task")
        action.add_argument("project", metavar="PROJECT")
        action.add_argument("name", metavar="NAME")
        action.set_defaults(handler=_change, change=name)

    scheduler = sub.add_parser("scheduler", help="run due tasks as a long-lived process")
    scheduler.add_argument(
        "--install", action="store_true", help="install a systemd user timer / launchd agent"
    )
    scheduler.set_defaults(handler=_scheduler)
    due = sub.add_parser("run-due", help="run the tasks that are due now, then exit")
    due.set_defaults(handler=lambda args: run_async(_run_due()))


def _add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from airlock.config import TaskConfig, describe_validation_error
    from airlock.projects import registered_project, update_project

    project = registered_project(args.project)
    if any(task.name == args.name for task in project.tasks):
        raise UsageError(f"project {project.name!r} already has a task {args.name!r}")
    try:
        task = TaskConfig(
            name=args.name, schedule=args.schedule, prompt=args.prompt, enabled=not args.disabled
        )
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc)) from exc
    project.tasks.append(task)
    update_project(project)
    print(f"added task {task.name!r} to {project.name!r}: {task.schedule}")
    return 0


def _change(args: argparse.Namespace) -> int:
    from airlock.projects import registered_project, update_project

    project = registered_project(args.project)
    tasks = [task for task in project.tasks if task.name == args.name]
    if not tasks:
        raise UsageError(f"project {project.name!r} has no task {args.name!r}")
    if args.change == "remove":
        project.tasks.remove(tasks[0])
    else:
        tasks[0].enabled = args.change == "enable"
    update_project(project)
    print(f"{args.change}d task {args.name!r} of {project.name!r}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from airlock.config import load_config
    from airlock.scheduler import TaskState, load_state, next_run, task_key

    state = load_state()
    now = dt.datetime.now()
    rows = []
    for project in load_config().projects:
        for task in project.tasks:
            known = state.tasks.get(task_key(project, task), TaskState(anchor=now))
            upcoming = f"{next_run(task, known):%a %Y-%m-%d %H:%M}" if task.enabled else "off"
            last = f"{known.last_run:%Y-%m-%d %H:%M}" if known.last_run else "never"
            if known.last_result:
                last += f" ({known.last_result[:40]})"
            rows.append([project.name, task.name, task.schedule, upcoming, last, task.prompt[:40]])
    if not rows:
        print("no scheduled tasks: add one with `airlock task add PROJECT NAME --schedule …`")
        return 0
    print_table(rows, ["PROJECT", "TASK", "SCHEDULE", "NEXT", "LAST RUN", "PROMPT"])
    return 0


def _report(run: Any) -> None:
    if run.result.startswith("error"):
        print(f"task {run.task} ({run.project}): {run.result}")
        return
    print(
        f"task {run.task} ({run.project}): {run.pending} change(s) wait for review in session "
        f"{run.session_id} (`airlock changes PROJECT --session {run.session_id}`)"
    )


async def _run_due() -> int:
    from airlock.config import load_config
    from airlock.scheduler import run_due
    from airlock.scheduler_install import load_env_file

    load_env_file()  # a timer starts us without the login shell's environment
    runs = await run_due(load_config())
    for run in runs:
        _report(run)
    return 1 if any(run.result.startswith("error") for run in runs) else 0


def _scheduler(args: argparse.Namespace) -> int:
    if args.install:
        from airlock.scheduler_install import install

        installed = install()
        for path in installed.files:
            print(f"wrote {path}")
        print("activate it with:\n  " + "\n  ".join(installed.next_steps))
        print(
            f"the timer does not see your shell's environment: put ANTHROPIC_API_KEY=… (and "
            f"ANTHROPIC_BASE_URL=… if you use one) in {installed.env_file}, mode 600"
        )
        return 0
    from airlock.config import load_config
    from airlock.scheduler import run_forever

    print("scheduler running: due tasks start in their own sessions (Ctrl-C stops)")
    try:
        asyncio.run(run_forever(load_config, _report))
    except KeyboardInterrupt:
        print("scheduler stopped")
    return 0
