"""`airlock vm list|start|stop|delete|shell`: the Lima VMs that sandbox projects."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from airlock.commands.output import paint, print_json_array, print_table

if TYPE_CHECKING:
    from airlock.config import ProjectConfig
    from lima.errors import LimaError
    from lima.limactl import Limactl
    from lima.models import Instance

PROGRESS_COLOURS = {None: "dim", True: "green", False: "red"}


def register(sub: Any) -> None:
    vm = sub.add_parser("vm", help="manage the Lima VMs that sandbox projects")
    actions = vm.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list Lima instances")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_list)

    start = actions.add_parser(
        "start", help="start an instance (created from the airlock template if missing)"
    )
    start.add_argument("name", metavar="NAME")
    start.set_defaults(handler=_start)

    stop = actions.add_parser("stop", help="stop an instance")
    stop.add_argument("name", metavar="NAME")
    stop.add_argument("-f", "--force", action="store_true", help="kill it (for a broken VM)")
    stop.set_defaults(handler=_stop)

    delete = actions.add_parser("delete", help="delete a stopped instance and its disk")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("-f", "--force", action="store_true", help="stop it first if running")
    delete.set_defaults(handler=_delete)

    shell = actions.add_parser("shell", help="open a shell in an instance (or run COMMAND)")
    shell.add_argument("name", metavar="NAME")
    shell.add_argument(
        "--workdir", default="/workspace", help="where to start (default: %(default)s)"
    )
    shell.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND")
    shell.set_defaults(handler=_shell)


def _broken(name: str, errors: list[str]) -> LimaError:
    from lima.errors import InstanceBroken

    hint = f"force it off with `airlock vm stop --force {name}`, then start it again"
    return InstanceBroken(name, errors, hint=hint)


def _projects_by_instance() -> dict[str, ProjectConfig]:
    """Registered projects keyed by their instance name (none if the config is broken)."""
    from airlock.config import load_config
    from airlock.errors import ConfigError
    from airlock.sandbox.lima import instance_name

    try:
        projects = load_config().projects
    except ConfigError:
        return {}
    return {instance_name(project): project for project in projects}


def _list(args: argparse.Namespace) -> int:
    from lima.limactl import Limactl
    from lima.models import format_bytes

    instances = asyncio.run(Limactl().instances())
    if args.json:
        print_json_array(instances)
        return 0
    if not instances:
        print("no Lima instances yet: `airlock vm start NAME` creates one")
        return 0
    owners = _projects_by_instance()
    rows = [
        [
            item.name,
            item.status or "?",
            item.vm_type,
            item.arch,
            str(item.cpus),
            format_bytes(item.memory),
            format_bytes(item.disk),
            owners[item.name].name if item.name in owners else "-",
            item.dir,
        ]
        for item in instances
    ]
    print_table(
        rows, ["NAME", "STATUS", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "PROJECT", "DIR"]
    )
    return 0


def _start(args: argparse.Namespace) -> int:
    from airlock.config import VMConfig
    from airlock.network.lima_firewall import lima_params
    from airlock.sandbox.lima_egress import choose_port
    from lima.limactl import Limactl
    from lima.progress import StartProgress
    from lima.template import render_template

    name = args.name
    project = _projects_by_instance().get(name)
    vm: VMConfig = project.vm if project is not None else VMConfig()

    def show(event: StartProgress) -> None:
        print(paint(event.line(), PROGRESS_COLOURS[event.ok]), flush=True)

    async def start() -> None:
        limactl = Limactl()
        existing = await limactl.instance(name)
        if existing is not None and existing.broken:
            raise _broken(name, existing.errors)
        if existing is None:
            owner = f"project {project.name!r}" if project is not None else "the defaults"
            print(
                f"{name} does not exist: creating it from the airlock template "
                f"({vm.cpus} CPUs, {vm.memory} memory, {vm.disk} disk, sized by {owner})",
                flush=True,
            )
        # A new VM gets its egress firewall params, exactly as a session would create it.
        allow_dns = project.allow_dns if project is not None else False
        port = choose_port(name, await limactl.instances(), allow_dns)
        template = render_template(
            cpus=vm.cpus, memory=vm.memory, disk=vm.disk, params=lima_params(port, allow_dns)
        )
        await limactl.ensure_running(name, template, on_progress=show)

    asyncio.run(start())
    print(f"{name} is running: `airlock vm shell {name}` opens a shell in it")
    return 0


def _lookup(name: str) -> tuple[Limactl, Instance]:
    """The driver and the instance called `name` (an error with a hint if there is none)."""
    from lima.errors import InstanceNotFound
    from lima.limactl import Limactl

    limactl = Limactl()
    instance = asyncio.run(limactl.instance(name))
    if instance is None:
        raise InstanceNotFound(name, hint="see `airlock vm list`")
    return limactl, instance


def _stop(args: argparse.Namespace) -> int:
    limactl, instance = _lookup(args.name)
    if instance.broken and not args.force:
        raise _broken(args.name, instance.errors)
    if not instance.running and not args.force:
        print(f"{args.name} is already stopped")
        return 0
    asyncio.run(limactl.stop(args.name, force=args.force))
    print(f"stopped {args.name}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from lima.errors import LimaError

    limactl, instance = _lookup(args.name)
    if instance.running and not args.force:
        raise LimaError(
            f"Lima instance {args.name!r} is running",
            f"stop it first (`airlock vm stop {args.name}`), or delete it with --force",
        )
    asyncio.run(limactl.delete(args.name, force=args.force))
    print(
        f"deleted {args.name}: the project folders on this machine are untouched; changes "
        "its sessions proposed and you had not synced went with it"
    )
    return 0


def _shell(args: argparse.Namespace) -> int:
    """Hand the terminal to `limactl shell` (after checking the instance can take it)."""
    from lima.errors import InstanceNotRunning

    limactl, instance = _lookup(args.name)
    if instance.broken:
        raise _broken(args.name, instance.errors)
    if not instance.running:
        raise InstanceNotRunning(args.name, hint=f"start it with `airlock vm start {args.name}`")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    argv = [limactl.path(), *limactl.shell_args(args.name, command, workdir=args.workdir)]
    sys.stdout.flush()
    return subprocess.call(argv)
