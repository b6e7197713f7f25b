"""`airlock mcp import|list|set-policy`: a project's MCP servers."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airlock.commands.output import print_json_array, print_table

if TYPE_CHECKING:
    from airlock.config import McpServerConfig

POLICIES = ("auto", "ask", "deny")


def register(sub: Any) -> None:
    mcp = sub.add_parser("mcp", help="MCP servers whose tools the agent may use")
    actions = mcp.add_subparsers(dest="action", metavar="ACTION", required=True)

    imports = actions.add_parser(
        "import", help="add the MCP servers of Claude Desktop's config to a project"
    )
    imports.add_argument(
        "--from", dest="source", metavar="PATH", help="default: Claude Desktop's own config file"
    )
    imports.add_argument(
        "--project", default=".", metavar="DIR", help="project folder or name (default: .)"
    )
    imports.add_argument("--only", action="append", metavar="NAME", help="import only these")
    imports.add_argument(
        "--policy", choices=POLICIES, default="ask", help="approval policy (default: ask)"
    )
    imports.add_argument("--json", action="store_true", help="print the report as JSON")
    imports.set_defaults(handler=_import)

    listing = actions.add_parser("list", help="list a project's MCP servers")
    listing.add_argument("dir", metavar="DIR")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_list)

    policy = actions.add_parser("set-policy", help="auto: run calls; ask: ask first; deny: never")
    policy.add_argument("dir", metavar="DIR")
    policy.add_argument("server", metavar="SERVER")
    policy.add_argument("policy", choices=POLICIES)
    policy.set_defaults(handler=_set_policy)


def _import(args: argparse.Namespace) -> int:
    from airlock.mcp.desktop import desktop_config_path, import_servers, read_desktop_servers
    from airlock.projects import registered_project, update_project

    project = registered_project(args.project)
    source = Path(args.source).expanduser() if args.source else desktop_config_path()
    servers = read_desktop_servers(source)
    report = import_servers(project, servers, source=source, policy=args.policy, only=args.only)
    if report.imported:
        update_project(project)
    if args.json:
        print(report.model_dump_json(indent=2))
        return 0
    if not servers:
        print(f"no MCP servers in {source}")
        return 0
    print(f"imported {len(report.imported)} MCP server(s) into {project.name!r} from {source}")
    for imported in report.imported:
        config = imported.config
        print(f"  + {config.name} ({config.transport}, policy {config.policy}): {_target(config)}")
        for note in imported.notes:
            print(f"      {note}")
    for skipped in report.skipped:
        print(f"  - skipped {skipped.name}: {skipped.reason}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from airlock.config import load_config
    from airlock.projects import resolve_project

    project = resolve_project(load_config(), args.dir)
    if args.json:
        print_json_array(project.mcp)
        return 0
    if not project.mcp:
        print(f"no MCP servers in {project.name!r}: import some with `airlock mcp import`")
        return 0
    rows = [
        [
            server.name,
            server.transport or "",
            server.policy,
            "yes" if server.enabled else "no",
            _target(server),
        ]
        for server in project.mcp
    ]
    print_table(rows, ["NAME", "TRANSPORT", "POLICY", "ENABLED", "COMMAND OR URL"])
    return 0


def _set_policy(args: argparse.Namespace) -> int:
    from airlock.errors import UsageError
    from airlock.projects import registered_project, update_project

    project = registered_project(args.dir)
    for server in project.mcp:
        if server.name == args.server:
            before, server.policy = server.policy, args.policy
            update_project(project)
            print(f"{server.name}: policy {before} → {server.policy}")
            return 0
    raise UsageError(
        f"{project.name!r} has no MCP server {args.server!r}", hint="see `airlock mcp list DIR`"
    )


def _target(server: McpServerConfig) -> str:
    """What a server runs or reaches, as one line."""
    return shlex.join([server.command, *server.args]) if server.command else str(server.url)
