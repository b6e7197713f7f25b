"""`airlock project add|list|remove|set`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from airlock.commands.memory import register_project_set
from airlock.commands.output import print_json_array, print_table


def register(sub: Any) -> None:
    project = sub.add_parser("project", help="manage projects (folders Airlock works on)")
    actions = project.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="register a folder as a project")
    add.add_argument("path", metavar="PATH")
    add.add_argument("--name", help="project name (default: the folder's name)")
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="list projects")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_list)

    remove = actions.add_parser("remove", help="forget a project (its folder is not touched)")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=_remove)

    register_project_set(actions)


def _add(args: argparse.Namespace) -> int:
    from airlock.projects import add_project

    project = add_project(Path(args.path), args.name)
    print(f"added project {project.name!r} at {project.path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from airlock.config import load_config

    config = load_config()
    if args.json:
        print_json_array(config.projects)
        return 0
    if not config.projects:
        print("no projects yet: add one with `airlock project add PATH`")
        return 0
    rows = [
        [project.name, str(project.path), project.model or config.model, str(len(project.tasks))]
        for project in config.projects
    ]
    print_table(rows, ["NAME", "PATH", "MODEL", "TASKS"])
    return 0


def _remove(args: argparse.Namespace) -> int:
    from airlock.projects import remove_project

    project = remove_project(args.name)
    print(f"removed project {project.name!r} (folder {project.path} left as it is)")
    return 0
