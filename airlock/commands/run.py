"""`airlock run`, `airlock sandbox exec`, `airlock sessions`: sessions from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from airlock.commands.common import SANDBOX_CHOICES, project_for, run_async, started
from airlock.commands.output import print_json_array, print_table
from airlock.commands.printer import EventPrinter
from airlock.errors import UsageError
from airlock.sanitize import sanitize
from airlock.sessions import current_id, list_records, prune

if TYPE_CHECKING:
    from airlock.session import Session

SUCCESS = {"end_turn", "stop_sequence", "max_tokens", "pause_turn"}


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run the agent on DIR headless until it ends its turn")
    run.add_argument("dir", metavar="DIR")
    run.add_argument("--prompt", required=True, help="what to do ('-' reads it from stdin)")
    run.add_argument("--sandbox", choices=SANDBOX_CHOICES, help="default: from config (auto)")
    run.add_argument("--model", help="model to use (default: from config)")
    run.add_argument(
        "--continue", dest="resume", action="store_true", help="continue the current session"
    )
    run.add_argument("--json", action="store_true", help="print one JSON event per line")
    run.add_argument(
        "--yes-mcp",
        action="store_true",
        help="approve calls to MCP servers whose policy is `ask` (default: refuse them)",
    )
    run.set_defaults(handler=lambda args: run_async(_run(args)))

    sandbox = sub.add_parser("sandbox", help="developer tools for the project's sandbox")
    actions = sandbox.add_subparsers(dest="action", metavar="ACTION", required=True)
    execute = actions.add_parser(
        "exec", help="run a command in DIR's sandbox (changes stay pending)"
    )
    execute.add_argument("dir", metavar="DIR")
    execute.add_argument("--sandbox", choices=SANDBOX_CHOICES, help="for a new session")
    execute.add_argument("command", metavar="-- CMD", nargs=argparse.REMAINDER)
    execute.set_defaults(handler=lambda args: run_async(_exec(args)))

    sessions = sub.add_parser("sessions", help="list (or prune) DIR's sessions")
    sessions.add_argument("dir", metavar="DIR")
    sessions.add_argument(
        "--prune", type=int, metavar="DAYS", help="delete sessions idle this long"
    )
    sessions.add_argument("--json", action="store_true", help="print a JSON array")
    sessions.set_defaults(handler=_sessions)


def _open(args: argparse.Namespace, resume: bool, *, agent: bool = False) -> Session:
    from airlock.session import Session, require_api_key

    config, project = project_for(args.dir)
    if resume:
        session = Session.resume(project, config, sandbox_choice=args.sandbox)
        if getattr(args, "model", None):
            session.record.model = args.model
        return session
    if agent:
        require_api_key()  # before a new session takes the place of the current one
    return Session.create(
        project, config, model=getattr(args, "model", None), sandbox_choice=args.sandbox
    )


async def _run(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    session = _open(args, args.resume, agent=True)
    printer = EventPrinter(as_json=args.json)
    session.listeners.append(printer)
    if args.yes_mcp:
        from airlock.mcp.approval import approve_all

        session.mcp.approver = approve_all
    async with started(session):
        reason = await session.run_prompt(prompt)
        pending = len(session.gate.changes)
    if not args.json and pending:
        printer.line(
            f"{pending} change(s) wait for your review: `airlock diff {args.dir}`, then "
            f"`airlock approve {args.dir} --all` (or the TUI: `airlock open {args.dir}`)"
        )
    return 0 if reason in SUCCESS else 1


async def _exec(args: argparse.Namespace) -> int:
    command = _exec_command(args)
    if not command:
        raise UsageError("give a command after --, e.g. `airlock sandbox exec DIR -- ls -la`")
    _, project = project_for(args.dir)
    session = _open(args, resume=current_id(project) is not None)

    def relay(stream: str, data: bytes) -> None:
        target = sys.stdout if stream == "stdout" else sys.stderr
        target.write(sanitize(data.decode("utf-8", errors="replace")))
        target.flush()

    async with started(session):
        result = await session.exec(command, on_output=relay)
        changes = await session.refresh()
    if changes:
        print(
            f"airlock: {len(changes)} change(s) pending in the sandbox "
            f"(see `airlock changes {args.dir}`)",
            file=sys.stderr,
        )
    return result.exit_code if result.exit_code >= 0 else 128 - result.exit_code


def _exec_command(args: argparse.Namespace) -> list[str]:
    """The command after `--`; options written between DIR and `--` are applied to `args`."""
    words: list[str] = args.command
    if not words[:1] or not words[0].startswith("-") or "--" not in words:
        return words  # `ls -la` or `git log -- file`: all of it is the command
    split = words.index("--")
    options, command = words[:split], words[split + 1 :]
    while options[:1] == ["--sandbox"] and len(options) >= 2 and options[1] in SANDBOX_CHOICES:
        args.sandbox, options = options[1], options[2:]
    if options:
        raise UsageError(
            f"unexpected {' '.join(options)} before --",
            hint="`airlock sandbox exec DIR [--sandbox auto|lima|bwrap] -- CMD…`",
        )
    return command


def _sessions(args: argparse.Namespace) -> int:
    _, project = project_for(args.dir)
    if args.prune is not None:
        if args.prune < 0:
            raise UsageError("--prune needs a number of days ≥ 0")
        removed = prune(project, args.prune)
        print(f"removed {len(removed)} session(s) idle for more than {args.prune} day(s)")
        return 0
    records = list_records(project)
    if args.json:
        print_json_array(records)
        return 0
    if not records:
        print("no sessions yet")
        return 0
    current = current_id(project)
    rows = [
        [
            ("* " if record.id == current else "  ") + record.id,
            f"{record.updated:%Y-%m-%d %H:%M}",
            record.status,
            str(record.pending),
            record.task or "",
            sanitize(record.title),
        ]
        for record in records
    ]
    print_table(rows, ["  ID", "UPDATED", "STATUS", "PENDING", "TASK", "FIRST PROMPT"])
    return 0
