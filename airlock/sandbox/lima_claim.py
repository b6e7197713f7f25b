"""Sessions taking turns in one Lima VM: a project's sessions share its `/workspace`.

A session (a `LimaSandbox` with its own host folder) claims the workspace before each
operation. If another session holds it, that session's workspace is first *parked*:
its tree is scanned, the contents it changed are kept in the object store, and its
manifest saved beside it; the claiming session then gets its own parked tree back
(or loads a fresh baseline). Operations of different sessions (an open TUI and a
scheduled task, say) are serialised by a host-side lock per instance, so they never
see each other's files, and no session's work is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from airlock.atomic import write_atomic
from airlock.paths import airlock_paths
from airlock.review.models import MANIFEST, EntryType, Manifest
from airlock.review.store import ObjectStore

if TYPE_CHECKING:
    from airlock.sandbox.lima import LimaSandbox

PARKED_FILE = "lima-parked.json"
LOCK_POLL = 0.05  # seconds between tries of the instance lock (cancellable)


def _holder_file(instance: str) -> Path:
    return airlock_paths().state_dir / "lima" / f"{instance}.holder"


def store() -> ObjectStore:
    return ObjectStore(airlock_paths().objects_dir)


@contextlib.asynccontextmanager
async def instance_lock(instance: str) -> AsyncIterator[None]:
    """The host-side lock of one instance's workspace (across processes)."""
    path = _holder_file(instance).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(LOCK_POLL)
        yield
    finally:
        os.close(fd)  # releases the lock


def holder(instance: str) -> str | None:
    try:
        return _holder_file(instance).read_text().strip() or None
    except FileNotFoundError:
        return None


def set_holder(instance: str, root: Path) -> None:
    write_atomic(_holder_file(instance), str(root).encode())


async def park(sandbox: LimaSandbox) -> None:
    """Keep the workspace of `sandbox` (the current holder) on the host, to restore later."""
    manifest = await sandbox.scan()
    objects = store()
    missing = [
        path
        for path, entry in manifest.items()
        if entry.type is EntryType.FILE and entry.digest and not objects.has(entry.digest)
    ]
    for data in (await sandbox.read(missing) if missing else {}).values():
        objects.put_bytes(data)
    await asyncio.to_thread(write_atomic, sandbox.root / PARKED_FILE, MANIFEST.dump_json(manifest))


def parked(root: Path) -> Manifest | None:
    try:
        return MANIFEST.validate_json((root / PARKED_FILE).read_bytes())
    except (OSError, ValueError):
        return None


def forget_parked(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (root / PARKED_FILE).unlink()
