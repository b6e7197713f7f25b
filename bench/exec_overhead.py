"""exec: what one sandboxed command costs, against bwrap run directly with the same argv.

`BwrapSandbox.exec("true")` runs `bash -c true` in a fresh namespace; the reference
runs the very argv it builds with `subprocess.run`, so the difference is Airlock's own
per-command overhead. The bare `bwrap --ro-bind / / true` row shows what the isolation
itself (user, pid, net… namespaces, binds) costs. Sessions also wrap every command in
the egress forwarder (a Python process listening for the proxy): measured separately.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from airlock.config import ProjectConfig
from airlock.network.egress import SessionEgress
from airlock.sandbox.bwrap import BwrapSandbox
from bench.models import Result
from bench.timing import Case, Settings, measure
from bench.tools import need

NAME = "exec"
TITLE = "exec: per-command cost of the bubblewrap sandbox (`true`, timed in batches)"


def run(settings: Settings) -> list[Result]:
    need("bwrap")
    count = 20 if settings.quick else 100
    bwrap = shutil.which("bwrap") or "bwrap"
    with asyncio.Runner() as runner:
        plain = BwrapSandbox(settings.workdir / "plain")
        runner.run(plain.start())
        case = Case(NAME, f"true ×{count}, sandbox without proxy")
        _rows(case, runner, plain, count, settings.runs)
        bare = _repeat(_spawner([bwrap, "--ro-bind", "/", "/", "true"]), count)
        case.add("bwrap --ro-bind / / true", measure(bare, settings.runs, per=count))
        egress = SessionEgress(_project(settings.workdir), settings.workdir / "net.jsonl", _drop)
        runner.run(egress.start_unix())
        try:
            env, binds, wrapper = egress.bwrap_options()
            session = BwrapSandbox(
                settings.workdir / "session", env=env, binds=binds, wrapper=wrapper
            )
            runner.run(session.start())
            proxied = Case(NAME, f"true ×{count}, session sandbox (egress forwarder)")
            _rows(proxied, runner, session, count, settings.runs)
        finally:
            runner.run(egress.close())
    return case.results + proxied.results


def _rows(case: Case, runner: asyncio.Runner, sandbox: BwrapSandbox, count: int, runs: int) -> None:
    """The reference (the sandbox's argv, spawned directly) and `exec`, per command."""
    direct = _repeat(_spawner(sandbox.argv("true")), count)
    case.add("bwrap, same argv", measure(direct, runs, per=count), reference=True)
    airlock = _repeat(lambda: _check(runner.run(sandbox.exec("true")).exit_code), count)
    case.add("airlock BwrapSandbox.exec", measure(airlock, runs, per=count))


def _repeat(action: Callable[[], None], count: int) -> Callable[[], None]:
    def run_all() -> None:
        for _ in range(count):
            action()

    return run_all


def _spawner(argv: Sequence[str]) -> Callable[[], None]:
    def spawn() -> None:
        done = subprocess.run(argv, env={}, stdin=subprocess.DEVNULL, capture_output=True)
        _check(done.returncode)

    return spawn


def _check(code: int) -> None:
    if code != 0:
        raise RuntimeError(f"the sandboxed command exited with {code}")


def _project(workdir: Path) -> ProjectConfig:
    folder = workdir / "project"
    folder.mkdir(exist_ok=True)
    return ProjectConfig(name="bench", path=folder)


def _drop(event: object) -> None:
    """Network events are not part of the measurement."""
