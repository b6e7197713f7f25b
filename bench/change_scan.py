"""scan: change detection after one agent turn, against `git status --porcelain`.

A generated project is snapshotted (the cold baseline of a new session, against
`git add -A` into a fresh repository) and loaded into a bubblewrap staging copy. Then
each run edits the copy as a turn would (files changed, added, deleted) and times
`BwrapSandbox.scan()`, and the gate's whole refresh, against `git status` on that same
copy (its repository lives outside the tree, its index warm). Scans read the host copy:
no namespace is needed.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from pathlib import Path

from airlock.review.gate import ReviewGate
from airlock.review.store import ObjectStore
from airlock.sandbox.bwrap import BwrapSandbox
from bench.models import Result
from bench.timing import Case, Settings, command, measure
from bench.tools import GIT_ENV, Repo, need
from bench.trees import Edits, tree_bytes, write_tree

NAME = "scan"
CHANGED, ADDED, DELETED = 100, 10, 10
COLD_RUNS = 3
TITLE = f"scan: change detection after a turn ({CHANGED} changed, {ADDED} added, {DELETED} deleted)"


def run(settings: Settings) -> list[Result]:
    need("git")
    sizes = (5_000,) if settings.quick else (10_000, 50_000)
    return [result for size in sizes for result in _measure_size(settings, size)]


def _measure_size(settings: Settings, size: int) -> list[Result]:
    base = settings.workdir / f"scan-{size}"
    project = base / "project"
    paths = write_tree(project, size)
    label = f"{size // 1000}k files, {tree_bytes(project) >> 20} MB"
    sandbox = BwrapSandbox(base / "sandbox")
    gates: list[ReviewGate] = []
    cold_runs = min(settings.runs, COLD_RUNS)  # each writes every file into a fresh store

    cold = Case(NAME, f"{label}, cold (new project)")
    cold_git = Repo(base / "cold.git", project)
    git_add = command(cold_git.argv("add", "-A"), env=GIT_ENV)
    cold.add(
        "git add -A",
        measure(git_add, cold_runs, before=cold_git.init, warmup=0),
        reference=True,
    )
    cold.add(
        "airlock baseline snapshot",
        measure(
            lambda: gates.append(_new_gate(base, project, sandbox)),
            cold_runs,
            before=lambda: _clear_state(base),
            warmup=0,
        ),
    )
    gate = gates[-1]

    edits = Edits.pick(paths, CHANGED, ADDED, DELETED)
    rounds = itertools.count(1)

    def turn() -> None:
        edits.apply(sandbox.workspace, next(rounds))

    warm = Case(NAME, f"{label}, warm (after a turn)")
    with asyncio.Runner() as runner:
        runner.run(sandbox.load(gate.baseline, gate.store))
        warm_git = Repo(base / "warm.git", sandbox.workspace)
        warm_git.init()
        warm_git.run("add", "-A")
        warm_git.run("commit", "-qm", "loaded")
        turn()
        _check(runner, gate, warm_git, edits)
        status = command(warm_git.argv("status", "--porcelain"), env=GIT_ENV)
        warm.add(
            "git status --porcelain", measure(status, settings.runs, before=turn), reference=True
        )
        warm.add(
            "airlock sandbox scan",
            measure(lambda: runner.run(sandbox.scan()), settings.runs, before=turn),
        )
        warm.add(
            "airlock review refresh",
            measure(lambda: runner.run(gate.refresh()), settings.runs, before=turn),
            note="scan + reading changed files into the store + compute_changes "
            "(hunks of every changed file) + conflicts with the host",
        )
    shutil.rmtree(base)
    return cold.results + warm.results


def _new_gate(base: Path, project: Path, sandbox: BwrapSandbox) -> ReviewGate:
    """What a new session does first: snapshot the project into a fresh store."""
    return ReviewGate(
        project, sandbox, ObjectStore(base / "objects"), base / "session", base / "journal.jsonl"
    )


def _clear_state(base: Path) -> None:
    for name in ("objects", "session"):
        shutil.rmtree(base / name, ignore_errors=True)
    (base / "journal.jsonl").unlink(missing_ok=True)


def _check(runner: asyncio.Runner, gate: ReviewGate, repo: Repo, edits: Edits) -> None:
    """Both tools see the same turn: every edit is one change, for git as for the gate."""
    expected = len(edits.changed) + len(edits.added) + len(edits.deleted)
    seen_git = repo.run("status", "--porcelain").count(b"\n")
    seen_gate = len(runner.run(gate.refresh()))
    if seen_git != expected or seen_gate != expected:
        raise RuntimeError(f"expected {expected} changes; git saw {seen_git}, airlock {seen_gate}")
