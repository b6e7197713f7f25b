"""`airlock changes|diff|approve|reject|undo|history`: the review gate, headless."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airlock.commands.common import project_for, run_async, select_changes, started
from airlock.commands.diffs import change_lines
from airlock.commands.output import paint, print_json_array, print_table
from airlock.review.models import ChangeInfo, move_note
from airlock.sanitize import sanitize
from airlock.sessions import list_records

if TYPE_CHECKING:
    from airlock.review.report import SyncReport
    from airlock.session import Session


def register(sub: Any) -> None:
    changes = sub.add_parser("changes", help="list the pending changes of DIR's current session")
    changes.add_argument("dir", metavar="DIR")
    _session_option(changes)
    changes.add_argument("--json", action="store_true", help="print a JSON array")
    changes.set_defaults(handler=lambda args: run_async(_changes(args)))

    diff = sub.add_parser("diff", help="show the pending changes as a unified diff")
    diff.add_argument("dir", metavar="DIR")
    _session_option(diff)
    diff.add_argument("paths", metavar="PATH", nargs="*")
    diff.set_defaults(handler=lambda args: run_async(_diff(args)))

    for name, verb in (("approve", "approve and sync"), ("reject", "reject (and revert)")):
        parser = sub.add_parser(name, help=f"{verb} pending changes")
        parser.add_argument("dir", metavar="DIR")
        _session_option(parser)
        parser.add_argument("paths", metavar="PATH", nargs="*")
        parser.add_argument("--all", action="store_true", help="every pending change")
        if name == "approve":
            parser.add_argument("--no-sync", action="store_true", help="approve only; sync later")
            parser.set_defaults(handler=lambda args: run_async(_approve(args)))
        else:
            parser.add_argument("--reason", help="tell the agent why")
            parser.set_defaults(handler=lambda args: run_async(_reject(args)))

    undo = sub.add_parser("undo", help="revert the last sync (or SYNC_ID) on the host")
    undo.add_argument("dir", metavar="DIR")
    _session_option(undo)
    undo.add_argument("sync_id", metavar="SYNC_ID", nargs="?")
    undo.set_defaults(handler=lambda args: run_async(_undo(args)))

    history = sub.add_parser("history", help="list the syncs of DIR")
    history.add_argument("dir", metavar="DIR")
    history.add_argument("--json", action="store_true", help="print a JSON array")
    history.set_defaults(handler=_history)


def _session_option(parser: Any) -> None:
    parser.add_argument("--session", metavar="ID", help="a session other than the current one")


def _session(args: argparse.Namespace) -> Session:
    from airlock.session import Session

    config, project = project_for(args.dir)
    return Session.resume(project, config, args.session, make_current=False)


def _other_pending(session: Session) -> None:
    """Point at task sessions whose changes also wait for review."""
    for record in list_records(session.project):
        if record.id != session.record.id and record.pending and record.task:
            print(
                f"task {record.task!r} (session {record.id}) has {record.pending} pending "
                f"change(s): `airlock changes DIR --session {record.id}`"
            )


async def _changes(args: argparse.Namespace) -> int:
    async with started(_session(args)) as session:
        changes = await session.gate.refresh()
        session.publish_changes()
    infos = [ChangeInfo.of(change) for change in changes]
    if args.json:
        print_json_array(infos)
        return 0
    _other_pending(session)
    if not infos:
        print("no pending changes")
        return 0
    rows = []
    for info in infos:
        notes = [
            "binary" if info.binary else f"{info.hunks} hunk(s)" if info.hunks else "",
            "CONFLICT" if info.conflict else "",
            "never synced: " + "; ".join(info.flags) if info.flags else "",
            move_note(info.moved_from, info.moved_to),
        ]
        rows.append(
            [
                info.kind.value,
                info.decision.value,
                sanitize(info.path),
                sanitize(", ".join(n for n in notes if n)),
            ]
        )
    print_table(rows, ["KIND", "DECISION", "PATH", "NOTES"])
    return 0


async def _diff(args: argparse.Namespace) -> int:
    async with started(_session(args)) as session:
        changes = await session.gate.refresh()
        if args.paths:
            changes = select_changes(changes, session.project.path, args.paths)
    for change in changes:
        print("\n".join(change_lines(change)))
    return 0


async def _approve(args: argparse.Namespace) -> int:
    _need_paths(args)
    async with started(_session(args)) as session:
        gate = session.gate
        changes = await gate.refresh()
        chosen = changes if args.all else select_changes(changes, session.project.path, args.paths)
        for change in chosen:
            gate.approve(change.path)
        if args.no_sync:
            print(f"approved {len(chosen)} change(s); sync with `airlock approve DIR --all`")
            return 0
        report = await gate.sync()
        await session.refresh()
    return print_report(report, session.project.path)


async def _reject(args: argparse.Namespace) -> int:
    _need_paths(args)
    async with started(_session(args)) as session:
        gate = session.gate
        changes = await gate.refresh()
        if args.all:
            await gate.reject_all(args.reason)
            count = len(changes)
        else:
            chosen = select_changes(changes, session.project.path, args.paths)
            for change in chosen:
                await gate.reject(change.path, reason=args.reason)
            count = len(chosen)
        await session.refresh()
    print(f"rejected {count} change(s): reverted in the sandbox, and the agent will be told")
    return 0


async def _undo(args: argparse.Namespace) -> int:
    async with started(_session(args)) as session:
        report = await session.gate.undo(args.sync_id)
        await session.refresh()
    print(f"undid the sync: {len(report.written)} file(s) restored, {len(report.deleted)} removed")
    return 0


def _history(args: argparse.Namespace) -> int:
    from airlock.paths import airlock_paths
    from airlock.projects import project_state_dir
    from airlock.review.journal import Journal
    from airlock.review.store import ObjectStore

    _, project = project_for(args.dir)
    journal = Journal(
        project_state_dir(project) / "journal.jsonl",
        project.path,
        ObjectStore(airlock_paths().objects_dir),
    )
    records = journal.history()
    if args.json:
        print_json_array(records)
        return 0
    if not records:
        print("no syncs yet")
        return 0
    rows = [
        [
            record.id,
            f"{dt.datetime.fromtimestamp(record.time):%Y-%m-%d %H:%M:%S}",
            record.action,
            str(len(record.written)),
            str(len(record.deleted)),
            record.status + (f" (undone by {record.undone_by})" if record.undone_by else ""),
        ]
        for record in records
    ]
    print_table(rows, ["ID", "TIME", "ACTION", "WRITTEN", "DELETED", "STATUS"])
    return 0


def _need_paths(args: argparse.Namespace) -> None:
    from airlock.errors import UsageError

    if bool(args.paths) == bool(args.all):
        raise UsageError("give PATH… or --all (not both)")


def print_report(report: SyncReport, folder: Path) -> int:
    """Print what a sync of `folder` did; exit 1 when something could not be synced."""
    for path in report.written:
        print(paint(f"wrote    {sanitize(path)}", "green"))
    for path in report.deleted:
        print(paint(f"deleted  {sanitize(path)}", "green"))
    for issue in report.conflicts:
        print(paint(f"conflict {sanitize(issue.path)}: {issue.reason}", "yellow"))
    for issue in report.refused:
        print(paint(f"refused  {sanitize(issue.path)}: {issue.reason}", "yellow"))
    if report.sync_id:
        undo = shlex.join(["airlock", "undo", str(folder), report.sync_id])
        print(f"sync {report.sync_id}: undo with `{undo}`")
    elif not report.conflicts and not report.refused:
        print("nothing to sync")
    return 1 if report.conflicts or report.refused else 0
