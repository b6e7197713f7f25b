"""The host staging copy behind `/workspace`: load a baseline into it, read, write, revert.

The agent controls this tree and may plant symlinks or fifos, or swap a directory
for a symlink: every access here is fd-relative, never follows a symlink (see
`airlock.safefs`) and never blocks on a fifo. Store objects are copied, never
hardlinked, so the agent can not alter them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from airlock.review.models import Entry, EntryType, Manifest
from airlock.review.scan import entry_of
from airlock.review.store import ObjectStore
from airlock.safefs import DIR_FLAGS, SafeRoot, UnsafePathError, rel_parts, remove_at
from airlock.sandbox.base import SandboxError

PERMISSION_BITS = 0o777  # setuid, setgid and sticky bits never enter the staging copy
OWNER_ALL = 0o700  # what a directory needs while its children are being placed
COPY_MAX = 1 << 30
NEW_FILE_MODE = 0o644


def safe_mode(mode: int) -> int:
    return mode & PERMISSION_BITS


def load_tree(workspace: Path, baseline: Manifest, store: ObjectStore, current: Manifest) -> None:
    """Make `workspace` equal to `baseline`; `current` is its fresh scan (what already is)."""
    children: dict[str, dict[str, Entry]] = defaultdict(dict)
    for path, entry in baseline.items():
        parts = rel_parts(path)
        children["/".join(parts[:-1])][parts[-1]] = entry
    root_fd = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _load_dir(root_fd, "", children, current, store)
    finally:
        os.close(root_fd)


def _load_dir(
    dir_fd: int,
    prefix: str,
    children: Mapping[str, Mapping[str, Entry]],
    current: Manifest,
    store: ObjectStore,
) -> None:
    wanted = children.get(prefix, {})
    with os.scandir(dir_fd) as items:
        existing = {item.name: item.stat(follow_symlinks=False) for item in items}
    for name, there in list(existing.items()):
        entry = wanted.get(name)
        if entry is None or not _reusable(dir_fd, name, there, entry):
            remove_at(dir_fd, name)
            del existing[name]
    for name, entry in wanted.items():
        path = f"{prefix}/{name}" if prefix else name
        info = existing.get(name)
        if entry.type is not EntryType.DIR:
            known = current.get(path)
            _place(dir_fd, name, path, entry, store, info, known.digest if known else None)
            continue
        _make_dir(dir_fd, name, info)
        child_fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
        try:
            _load_dir(child_fd, path, children, current, store)
            _finish_dir(child_fd, entry)
        finally:
            os.close(child_fd)


def _reusable(dir_fd: int, name: str, info: os.stat_result, entry: Entry) -> bool:
    """Whether what is at `name` can be kept and brought in line rather than removed."""
    have = entry_of(info)
    if have.type is not entry.type:
        return False
    if have.type is EntryType.SYMLINK:
        return os.readlink(name, dir_fd=dir_fd) == entry.target
    if have.type is EntryType.OTHER:
        return have.special == entry.special
    return True


def _make_dir(dir_fd: int, name: str, info: os.stat_result | None) -> None:
    """Create directory `name`, or make an existing one writable until `_finish_dir`."""
    if info is None:
        os.mkdir(name, OWNER_ALL, dir_fd=dir_fd)
    elif info.st_mode & OWNER_ALL != OWNER_ALL:
        try:
            os.chmod(name, OWNER_ALL, dir_fd=dir_fd, follow_symlinks=False)
        except ValueError as exc:  # what Python raises for a symlink: never followed
            raise UnsafePathError(f"{name} is not a real directory") from exc


def _finish_dir(fd: int, entry: Entry) -> None:
    """Give a directory its final mode and mtime, once its children are in place."""
    os.fchmod(fd, safe_mode(entry.mode))
    os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))


def _place(
    dir_fd: int,
    name: str,
    path: str,
    entry: Entry,
    store: ObjectStore,
    info: os.stat_result | None,
    digest: str | None,
) -> None:
    """Make the non-directory `name` match `entry`; `info` is what is there (reusable).

    `digest` is the known content of the file there now, so an equal one is not copied.
    """
    if entry.type is EntryType.FILE:
        same_mode = info is not None and stat.S_IMODE(info.st_mode) == safe_mode(entry.mode)
        if info is None or digest != entry.digest or not same_mode:
            _copy_in(dir_fd, name, path, entry, store, replace=info is not None)
            return
    elif entry.type is EntryType.SYMLINK and info is None:
        os.symlink(entry.target or "", name, dir_fd=dir_fd)
    elif entry.type is EntryType.OTHER and info is None:
        if entry.special != "fifo":
            return  # sockets and devices are never recreated (nor synced)
        os.mkfifo(name, safe_mode(entry.mode), dir_fd=dir_fd)
    if info is None or info.st_mtime_ns != entry.mtime_ns:
        os.utime(name, ns=(entry.mtime_ns, entry.mtime_ns), dir_fd=dir_fd, follow_symlinks=False)


def _copy_in(
    dir_fd: int, name: str, path: str, entry: Entry, store: ObjectStore, *, replace: bool
) -> None:
    """Copy a store object to `name` with the entry's mode and mtime.

    A new file is written in place (a partial one is caught by the next scan's hash);
    one that exists is replaced by a temp file + rename.
    """
    try:
        src = os.open(store.path(entry.digest or ""), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise SandboxError(f"the content of {path} is missing from the object store") from exc
    target = f".airlock-tmp-{secrets.token_hex(6)}" if replace else name
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        dst = os.open(target, flags, 0o600, dir_fd=dir_fd)
        try:
            _copy_fd(src, dst)
            os.fchmod(dst, safe_mode(entry.mode))
            os.utime(dst, ns=(entry.mtime_ns, entry.mtime_ns))
        except BaseException:
            os.unlink(target, dir_fd=dir_fd)
            raise
        finally:
            os.close(dst)
    finally:
        os.close(src)
    if replace:
        os.rename(target, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def _copy_fd(src: int, dst: int) -> None:
    """Copy in the kernel: `copy_file_range` (may reflink), else `sendfile`."""
    try:
        while os.copy_file_range(src, dst, COPY_MAX):
            pass
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
        while os.sendfile(dst, src, None, COPY_MAX):
            pass


def read_files(workspace: Path, paths: Sequence[str]) -> dict[str, bytes]:
    """Contents of regular files; anything else (fifo, symlink on the way…) is an error."""
    root = SafeRoot(workspace)
    contents: dict[str, bytes] = {}
    for path in paths:
        try:
            contents[path] = root.read_bytes(path)
        except (OSError, UnsafePathError) as exc:
            raise SandboxError(f"cannot read {path} from the sandbox: {_reason(exc)}") from exc
    return contents


def write_files(workspace: Path, files: Mapping[str, bytes]) -> None:
    """Replace or create regular files, keeping an existing file's permission bits."""
    root = SafeRoot(workspace)
    for path, data in files.items():
        info = root.lstat(path)
        mode = NEW_FILE_MODE
        if info is not None and stat.S_ISREG(info.st_mode):
            mode = safe_mode(info.st_mode)
        try:
            root.write_atomic(path, data, mode, durable=False)
        except (OSError, UnsafePathError) as exc:
            raise SandboxError(f"cannot write {path} in the sandbox: {_reason(exc)}") from exc


def revert_paths(workspace: Path, entries: Mapping[str, Entry | None], store: ObjectStore) -> None:
    """Put each path back as its entry says (None: remove it, with any subtree)."""
    root = SafeRoot(workspace)
    order = sorted(entries, key=rel_parts)
    for path in order:
        entry = entries[path]
        try:
            _revert_one(root, path, entry, store)
        except (OSError, UnsafePathError) as exc:
            if entry is None and isinstance(exc, FileNotFoundError | UnsafePathError):
                continue  # already gone, or only reachable through a symlink: not in the tree
            raise SandboxError(f"cannot revert {path} in the sandbox: {_reason(exc)}") from exc
    for path in reversed(order):
        entry = entries[path]
        if entry is not None and entry.type is EntryType.DIR:
            with root.dir_fd(rel_parts(path)) as fd:
                _finish_dir(fd, entry)


def _revert_one(root: SafeRoot, path: str, entry: Entry | None, store: ObjectStore) -> None:
    with root.parent(path, create=entry is not None) as (dir_fd, name), _writable(dir_fd):
        try:
            info: os.stat_result | None = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            info = None
        if info is not None and (entry is None or not _reusable(dir_fd, name, info, entry)):
            remove_at(dir_fd, name)
            info = None
        if entry is None:
            return
        if entry.type is EntryType.DIR:
            _make_dir(dir_fd, name, info)
        else:
            _place(dir_fd, name, path, entry, store, info, None)


@contextlib.contextmanager
def _writable(dir_fd: int) -> Iterator[None]:
    """Let the host add and remove entries in a directory the agent made read-only."""
    mode = stat.S_IMODE(os.fstat(dir_fd).st_mode)
    if mode & OWNER_ALL == OWNER_ALL:
        yield
        return
    os.fchmod(dir_fd, mode | OWNER_ALL)
    try:
        yield
    finally:
        os.fchmod(dir_fd, mode)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)
