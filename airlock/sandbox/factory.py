"""Choosing and building the sandbox for a session: Lima where it exists, else bubblewrap."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from airlock.config import ProjectConfig, SandboxChoice
from airlock.sandbox.base import Sandbox, SandboxError


def pick_backend(choice: SandboxChoice) -> str:
    """`auto` means Lima when `limactl` is on PATH, else bubblewrap on Linux."""
    if choice != "auto":
        return choice
    if shutil.which("limactl"):
        return "lima"
    if sys.platform.startswith("linux"):
        return "bwrap"
    raise SandboxError(
        "no sandbox available: Airlock needs Lima (`brew install lima`) on macOS",
        hint="see https://lima-vm.io/docs/installation/",
    )


def make_sandbox(choice: SandboxChoice, project: ProjectConfig, root: Path) -> Sandbox:
    """The sandbox for a session whose private folder is `root`."""
    backend = pick_backend(choice)
    if backend == "lima":
        from airlock.sandbox.lima import LimaSandbox

        return LimaSandbox(project, root)
    if not sys.platform.startswith("linux"):
        raise SandboxError("the bubblewrap sandbox only runs on Linux; use --sandbox lima")
    from airlock.sandbox.bwrap import BwrapSandbox

    return BwrapSandbox(root)
