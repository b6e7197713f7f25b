"""Helpers shared by the tests of both sandbox backends."""

from __future__ import annotations

import time
from pathlib import Path

from airlock.review.models import EntryType, Manifest
from airlock.sandbox.base import Sandbox


def shape(manifest: Manifest) -> dict[str, tuple[object, ...]]:
    """What a user compares: type, mode, size, content, target (and mtime for files)."""
    return {
        path: (
            entry.type,
            entry.mode,
            entry.size,
            entry.digest,
            entry.target,
            entry.mtime_ns if entry.type is not EntryType.DIR else None,
        )
        for path, entry in manifest.items()
    }


def changed(before: Manifest, after: Manifest) -> set[str]:
    """The paths whose shape differs between two manifests."""
    old, new = shape(before), shape(after)
    return {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}


async def run(box: Sandbox, command: str) -> str:
    """Run a command that must succeed; its stdout."""
    result = await box.exec(command)
    assert result.exit_code == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode()


def process_gone(pid: int) -> bool:
    """Whether the process is gone (or a zombie) within a few seconds."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False
