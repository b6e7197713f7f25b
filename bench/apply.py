"""apply: approve and sync changed files into the project, against `rsync -a` of the same files.

A generated project is loaded into a bubblewrap staging copy; each run edits half of
its files there (untimed, with the gate's refresh), then times `approve_all` + `sync`:
scan, plan against the host, journal, an atomic durable write per file, and the
baseline moved forward. `rsync -a` copies the same staging tree into a copy of the
project (no fsync; `--fsync` makes it durable too, as the sync is).
"""

from __future__ import annotations

import asyncio
import itertools

from airlock.review.gate import ReviewGate
from airlock.review.store import ObjectStore
from airlock.sandbox.bwrap import BwrapSandbox
from bench.models import Result
from bench.timing import Case, Settings, command, measure
from bench.tools import copy_tree, need
from bench.trees import Edits, write_tree

NAME = "apply"
TITLE = "apply: approve + sync of changed files (journal, atomic durable writes) vs rsync"


def run(settings: Settings) -> list[Result]:
    need("rsync", "cp")
    changed = 200 if settings.quick else 1_000
    base = settings.workdir
    project, mirror = base / "project", base / "mirror"
    paths = write_tree(project, 2 * changed)
    copy_tree(project, mirror)
    sandbox = BwrapSandbox(base / "sandbox")
    gate = ReviewGate(
        project, sandbox, ObjectStore(base / "objects"), base / "session", base / "journal.jsonl"
    )
    edits = Edits.pick(paths, changed, 0, 0)
    rounds = itertools.count(1)
    case = Case(NAME, f"{changed} changed files of {2 * changed}")
    source, target = f"{sandbox.workspace}/", f"{mirror}/"
    with asyncio.Runner() as runner:
        runner.run(sandbox.load(gate.baseline, gate.store))

        def turn() -> None:
            edits.apply(sandbox.workspace, next(rounds))

        def review() -> None:
            turn()
            if len(runner.run(gate.refresh())) != changed:
                raise RuntimeError(f"expected {changed} changes to sync")

        def approve_and_sync() -> None:
            gate.approve_all()
            report = runner.run(gate.sync())
            if len(report.written) != changed:
                raise RuntimeError(f"synced {len(report.written)} files, not {changed}")

        rsync = command(["rsync", "-a", source, target])
        case.add("rsync -a", measure(rsync, settings.runs, before=turn), reference=True)
        rsync_durable = command(["rsync", "-a", "--fsync", source, target])
        case.add("rsync -a --fsync", measure(rsync_durable, settings.runs, before=turn))
        case.add("airlock approve + sync", measure(approve_and_sync, settings.runs, before=review))
    return case.results
