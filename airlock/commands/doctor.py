"""`airlock doctor`: check the machine, one line per check with a fix where one is needed."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from airlock.commands.output import paint, print_json_array

COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


VM_HELP = """\
With --vm NAME, checks instead that the running Lima VM NAME is locked down, from inside
it, as the agent user: the egress firewall was applied, the user has no sudo, a direct
connection to DOMAIN (bypassing the proxy) fails, a domain not on the allowlist gets a 403
from the proxy, and DOMAIN gets through it. A temporary proxy on the VM's egress port
allows only DOMAIN while the checks run, so close the Airlock session using the VM first
(start the VM with `airlock vm start NAME` if it is stopped). See `airlock vm list` for the
names.
"""


def register(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check that Airlock can run here, and how to fix it",
        description="Check that Airlock can run here, and how to fix what is missing.",
        epilog=VM_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor.add_argument("--json", action="store_true", help="print a JSON array of checks")
    doctor.add_argument("--vm", metavar="NAME", help="check a running VM's egress lockdown")
    doctor.add_argument(
        "--domain",
        default="example.com",
        help="with --vm: the domain allowed during the checks (default: %(default)s)",
    )
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from airlock.doctor import run_checks, run_vm_checks

    checks = asyncio.run(run_vm_checks(args.vm, args.domain) if args.vm else run_checks())
    if args.json:
        print_json_array(checks)
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            status = paint(check.status.ljust(4), COLOURS[check.status])
            print(f"{status}  {check.name.ljust(width)}  {check.detail}")
            if check.fix and check.status != "ok":
                print(f"      {' ' * width}  fix: {check.fix}")
    return 1 if any(check.status == "fail" for check in checks) else 0
