"""`airlock doctor`: check the machine, one line per check with a fix where one is needed."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from airlock.commands.output import paint, print_json_array

COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


def register(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check that Airlock can run here, and how to fix it")
    doctor.add_argument("--json", action="store_true", help="print a JSON array of checks")
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from airlock.doctor import run_checks

    checks = asyncio.run(run_checks())
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
