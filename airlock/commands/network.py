"""`airlock allow`, `airlock deny`, `airlock net-log`: the sandbox's way out, from the CLI."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from airlock.commands.output import paint, print_json_array, print_table

if TYPE_CHECKING:
    from airlock.events import NetworkRequest
    from airlock.network.allowlist_edit import AllowlistEdit

ENTRY_HELP = "example.com, *.example.com (subdomains), example.com:8443, or an IP address"
LIVE_NOTE = "a running session applies it before its next request"


def register(sub: Any) -> None:
    allow = sub.add_parser(
        "allow",
        help="let DIR's sandbox reach a domain (registers DIR as a project if needed)",
        description=f"Add entries to the project's allowlist; {LIVE_NOTE}.",
    )
    allow.add_argument("dir", metavar="DIR")
    allow.add_argument("domains", metavar="DOMAIN", nargs="+", help=ENTRY_HELP)
    allow.set_defaults(handler=_allow)

    deny = sub.add_parser(
        "deny",
        help="remove a domain from DIR's allowlist",
        description=f"Remove entries from the project's allowlist; {LIVE_NOTE}.",
    )
    deny.add_argument("dir", metavar="DIR")
    deny.add_argument("domains", metavar="DOMAIN", nargs="+", help=ENTRY_HELP)
    deny.set_defaults(handler=_deny)

    log = sub.add_parser(
        "net-log", help="the network requests of DIR's current session (or --session ID)"
    )
    log.add_argument("dir", metavar="DIR")
    log.add_argument("--session", metavar="ID", help="another session (see `airlock sessions`)")
    log.add_argument("--json", action="store_true", help="print a JSON array")
    log.set_defaults(handler=_net_log)


def _allow(args: argparse.Namespace) -> int:
    from airlock.network.allowlist_edit import allow

    edit = allow(args.dir, args.domains)
    if edit.registered:
        print(f"registered {args.dir} as the project {edit.project!r}")
    for entry in edit.changed:
        print(f"allowed {entry}")
    for entry in edit.unchanged:
        print(f"{entry} was already allowed")
    _print_list(edit)
    return 0


def _deny(args: argparse.Namespace) -> int:
    from airlock.network.allowlist_edit import deny

    edit = deny(args.dir, args.domains)
    for entry in edit.changed:
        print(f"removed {entry}")
    for entry in edit.unchanged:
        print(f"{entry} was not on the allowlist")
    for entry, reason in edit.still_allowed.items():
        print(paint(f"note: {entry} is still allowed ({reason})", "yellow"))
    _print_list(edit)
    return 0


def _print_list(edit: AllowlistEdit) -> None:
    entries = ", ".join(edit.allowlist) if edit.allowlist else "empty: nothing is allowed"
    print(f"allowlist of {edit.project}: {entries}")


def _net_log(args: argparse.Namespace) -> int:
    from airlock.commands.common import project_for
    from airlock.errors import AirlockError
    from airlock.network.netlog import read_network_log
    from airlock.sessions import current_id, load_record, session_dir

    _, project = project_for(args.dir)
    session_id = args.session or current_id(project)
    if session_id is None:
        raise AirlockError(
            f"no session yet for {project.path}",
            hint="start one: `airlock run DIR --prompt …` or `airlock sandbox exec DIR -- …`",
        )
    record = load_record(project, session_id)
    requests = read_network_log(session_dir(project, record.id) / "network.jsonl")
    if args.json:
        print_json_array(requests)
    elif not requests:
        print(f"no network requests in session {record.id}")
    else:
        print_table([_row(request) for request in requests], _HEADER)
        denied = sum(not request.allowed for request in requests)
        print(f"{len(requests)} request(s): {len(requests) - denied} allowed, {denied} denied")
    return 0


_HEADER = ["TIME", "VERDICT", "METHOD", "HOST:PORT", "BYTES UP/DOWN", "REASON"]


def _row(request: NetworkRequest) -> list[str]:
    from airlock.sanitize import sanitize

    verdict = "denied" if not request.allowed else "allowed" if request.closed else "open"
    host = f"[{request.host}]" if ":" in request.host else request.host
    return [
        dt.datetime.fromtimestamp(request.time).strftime("%Y-%m-%d %H:%M:%S"),
        verdict,
        sanitize(request.method),
        sanitize(f"{host}:{request.port}"),
        f"{request.bytes_up}/{request.bytes_down}" if request.allowed else "-",
        sanitize(request.reason),
    ]
