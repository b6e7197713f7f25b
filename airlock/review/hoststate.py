"""The host side of a sync: what a project path holds, and making it hold something else.

Every access goes through `SafeRoot`: fd-relative, never following a symlink, and
refusing any path whose parent is not a real directory inside the project.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Literal

from pydantic import BaseModel, ConfigDict

from airlock.review.changes import TEMP_PREFIX
from airlock.review.errors import ReviewError
from airlock.review.models import Entry, EntryType
from airlock.review.scan import hash_file, known_digest
from airlock.review.store import ObjectStore
from airlock.safefs import DIR_FLAGS, SafeRoot, UnsafePathError

# `other` is a fifo, socket or device; `blocked` a path below a symlink or a file.
StateKind = Literal["absent", "file", "symlink", "dir", "other", "blocked"]


class PathState(BaseModel):
    """What one project path holds: nothing, a file, a symlink or a directory."""

    model_config = ConfigDict(frozen=True)

    kind: StateKind
    digest: str | None = None  # file content (in the object store)
    mode: int | None = None  # permission bits, setuid & co. included
    target: str | None = None  # symlink target

    def same(self, other: PathState) -> bool:
        """Same kind and content (the mode aside)."""
        return (self.kind, self.digest, self.target) == (other.kind, other.digest, other.target)

    def exact(self, other: PathState) -> bool:
        """Same kind and content, and for a file the same mode."""
        return self.same(other) and (self.kind != "file" or self.mode == other.mode)


KINDS: dict[EntryType, StateKind] = {
    EntryType.FILE: "file",
    EntryType.DIR: "dir",
    EntryType.SYMLINK: "symlink",
    EntryType.OTHER: "other",
}
ABSENT = PathState(kind="absent")
BLOCKED = PathState(kind="blocked")
WRITERS = 8  # host writes in flight during a sync


class Target(BaseModel):
    """One path a sync changes: its state before and after."""

    path: str
    before: PathState
    after: PathState


def state_of(entry: Entry | None) -> PathState:
    """The state a manifest entry describes."""
    if entry is None:
        return ABSENT
    return PathState(
        kind=KINDS[entry.type], digest=entry.digest, mode=entry.mode, target=entry.target
    )


def read_state(root: SafeRoot, path: str, hint: Entry | None = None) -> PathState:
    """What `path` holds on the host; a file is hashed unless its stat matches `hint`."""
    try:
        with root.parent(path) as (dir_fd, name):
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return ABSENT
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISREG(info.st_mode):
                digest = known_digest(hint, info) or hash_file(dir_fd, name, None)
                return PathState(kind="file", digest=digest, mode=mode)
            if stat.S_ISLNK(info.st_mode):
                return PathState(kind="symlink", target=os.readlink(name, dir_fd=dir_fd))
            if stat.S_ISDIR(info.st_mode):
                return PathState(kind="dir", mode=mode)
            return PathState(kind="other", mode=mode)
    except FileNotFoundError:
        return ABSENT
    except (UnsafePathError, NotADirectoryError):
        return BLOCKED


def keep_content(root: SafeRoot, path: str, state: PathState, store: ObjectStore) -> None:
    """Make sure the object store holds the content of the host file `path`."""
    if state.kind != "file" or state.digest is None or store.has(state.digest):
        return
    with root.open_read(path) as handle:
        digest = store.put_stream(handle)
    if digest != state.digest:
        raise ReviewError(f"{path} changed on the host during the sync; sync again")


def list_dir(root: SafeRoot, path: str) -> list[str]:
    """Names inside the host directory `path` (empty if it is not one)."""
    try:
        with root.parent(path) as (dir_fd, name):
            fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            try:
                return os.listdir(fd)
            finally:
                os.close(fd)
    except (OSError, UnsafePathError):
        return []


def apply_states(
    root: SafeRoot,
    states: Sequence[tuple[str, PathState]],
    store: ObjectStore,
    on_step: Callable[[], None] = lambda: None,
) -> None:
    """Make each path hold its state: removals deepest first, then creations parents first.

    Idempotent, so a crashed run can be replayed or reversed. Files and links are
    written by `WRITERS` threads at once (each file is fsynced before it replaces the
    old one, and their fsyncs share the filesystem's commits); a directory waits for
    everything before it. The folders are fsynced once, at the end.
    """
    wanted = dict(states)
    with ThreadPoolExecutor(WRITERS) as pool:
        steps = _Steps(pool, on_step)
        for path in sorted(wanted, reverse=True):
            kind = wanted[path].kind
            is_dir = kind != "dir" and _is_dir(root, path)
            if is_dir or kind == "absent":
                steps.run(_remove, root, path, alone=is_dir)
        for path in sorted(wanted):
            state = wanted[path]
            if state.kind != "absent":
                steps.run(_put, root, path, state, store, alone=state.kind == "dir")
        steps.wait()
        # Every change is in place: make them durable, one fsync per folder they touched.
        folders = {path.rpartition("/")[0] for path in wanted}
        list(pool.map(partial(_sync_folder, root), folders))


class _Steps:
    """Operations run on a thread pool, each counted as a step once it is done."""

    def __init__(self, pool: ThreadPoolExecutor, on_step: Callable[[], None]) -> None:
        self.pool = pool
        self.on_step = on_step
        self.running: list[Future[None]] = []

    def run(self, action: Callable[..., None], *args: object, alone: bool) -> None:
        """Start `action`; `alone` waits for what runs and runs it before anything else."""
        if alone:
            self.wait()
            action(*args)
            self.on_step()
        else:
            self.running.append(self.pool.submit(action, *args))

    def wait(self) -> None:
        """Wait for the running operations (the first failure is raised)."""
        running, self.running = self.running, []
        for future in running:
            future.result()
            self.on_step()


def sweep_temps(root: SafeRoot, paths: Iterable[str]) -> None:
    """Remove temp files a killed write left next to `paths`."""
    for parent in {path.rpartition("/")[0] for path in paths}:
        try:
            with root.dir_fd(parent.split("/") if parent else []) as fd:
                _sweep(fd)
        except (OSError, UnsafePathError):
            continue


def _sweep(dir_fd: int) -> None:
    for name in os.listdir(dir_fd):
        if name.startswith(TEMP_PREFIX):
            os.unlink(name, dir_fd=dir_fd)


def _is_dir(root: SafeRoot, path: str) -> bool:
    info = root.lstat(path)
    return info is not None and stat.S_ISDIR(info.st_mode)


def _remove(root: SafeRoot, path: str) -> None:
    """Remove a file, symlink or empty directory (temp leftovers aside); gone is fine."""
    try:
        with root.parent(path) as (dir_fd, name):
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                return
            if stat.S_ISDIR(info.st_mode):
                fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
                try:
                    _sweep(fd)
                finally:
                    os.close(fd)
                os.rmdir(name, dir_fd=dir_fd)
            else:
                os.unlink(name, dir_fd=dir_fd)
    except (FileNotFoundError, UnsafePathError):
        return  # nothing there, or only reachable through a symlink: not in the project


def _put(root: SafeRoot, path: str, state: PathState, store: ObjectStore) -> None:
    current = read_state(root, path)
    if current.exact(state) and state.kind != "dir":
        return
    if state.kind == "file" and current.same(state):
        root.chmod(path, state.mode or 0o644)
    elif state.kind == "file":
        if current.kind == "dir":
            _remove(root, path)
        with store.open(state.digest or "") as source:
            root.write_atomic(path, source, state.mode or 0o644, sync_dir=False)
    elif state.kind == "symlink":
        if current.kind == "dir":
            _remove(root, path)
        root.symlink(path, state.target or "")
    elif state.kind == "dir":
        _make_dir(root, path, current, state.mode or 0o755)


def _sync_folder(root: SafeRoot, folder: str) -> None:
    """fsync a folder of the project (one a sync removed meanwhile is skipped)."""
    try:
        with root.dir_fd(folder.split("/") if folder else []) as fd:
            os.fsync(fd)
    except (FileNotFoundError, NotADirectoryError, UnsafePathError):
        return


def _make_dir(root: SafeRoot, path: str, current: PathState, mode: int) -> None:
    with root.parent(path, create=True) as (dir_fd, name):
        if current.kind not in ("dir", "absent"):
            os.unlink(name, dir_fd=dir_fd)
        if current.kind != "dir":
            os.mkdir(name, 0o700, dir_fd=dir_fd)
        fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
