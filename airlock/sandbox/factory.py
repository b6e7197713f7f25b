"""Choosing the sandbox backend: Lima where `limactl` exists, else bubblewrap on Linux."""

from __future__ import annotations

import shutil
import sys

from airlock.config import SandboxChoice
from airlock.sandbox.base import SandboxError


def pick_backend(choice: SandboxChoice) -> str:
    """`auto` means Lima when `limactl` is on PATH, else bubblewrap on Linux."""
    if choice == "bwrap" and not sys.platform.startswith("linux"):
        raise SandboxError("the bubblewrap sandbox only runs on Linux: use --sandbox lima")
    if choice != "auto":
        return choice
    if shutil.which("limactl"):
        return "lima"
    if sys.platform.startswith("linux"):
        return "bwrap"
    raise SandboxError(
        "no sandbox available: Airlock needs Lima on macOS (`brew install lima`)",
        hint="see https://lima-vm.io/docs/installation/",
    )
