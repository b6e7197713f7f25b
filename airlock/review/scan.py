"""Manifest of a tree: one `lstat` walk, hashing only files whose stat changed.

The walk goes through directory fds opened with `O_NOFOLLOW`, so a directory
swapped for a symlink while we look is never entered. Files are hashed (and,
when a store is given, stored) in the same read.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time

from airlock.review.ignore import IgnoreRules
from airlock.review.models import Entry, EntryType, Manifest
from airlock.review.store import CHUNK, ObjectStore
from airlock.safefs import DIR_FLAGS, READ_FLAGS

# A file changed this close to the scan could change again within the same
# timestamp tick unseen; its ctime is recorded as 0 so the next scan re-hashes it.
RACY_NS = 100_000_000

SPECIAL_KINDS = (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "char-device"),
    (stat.S_ISBLK, "block-device"),
)


def known_digest(previous: Entry | None, info: os.stat_result) -> str | None:
    """The known digest of a file whose stat says it has not changed."""
    if (
        previous is not None
        and previous.type is EntryType.FILE
        and previous.ctime_ns != 0
        and previous.size == info.st_size
        and previous.mtime_ns == info.st_mtime_ns
        and previous.ctime_ns == info.st_ctime_ns
    ):
        return previous.digest
    return None


def hash_file(dir_fd: int, name: str, store: ObjectStore | None) -> str | None:
    """sha256 of a regular file opened without following links; None if it vanished."""
    try:
        fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            if store is not None:
                return store.put_stream(handle)
            hasher = hashlib.sha256()
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
            return hasher.hexdigest()
    finally:
        os.close(fd)


def entry_of(info: os.stat_result, digest: str | None = None, target: str | None = None) -> Entry:
    """The manifest entry for an `lstat` result."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        kind, special = EntryType.FILE, None
    elif stat.S_ISDIR(mode):
        kind, special = EntryType.DIR, None
    elif stat.S_ISLNK(mode):
        kind, special = EntryType.SYMLINK, None
    else:
        kind = EntryType.OTHER
        special = next((name for test, name in SPECIAL_KINDS if test(mode)), "unknown")
    return Entry(
        type=kind,
        size=info.st_size if kind is not EntryType.DIR else 0,
        mode=stat.S_IMODE(mode),
        mtime_ns=info.st_mtime_ns,
        ctime_ns=info.st_ctime_ns,
        digest=digest,
        target=target,
        special=special,
    )


def scan_tree(
    root: str | os.PathLike[str],
    *,
    previous: Manifest | None = None,
    ignore: IgnoreRules | None = None,
    store: ObjectStore | None = None,
) -> Manifest:
    """Manifest of everything below `root` (root itself excluded).

    `previous` is a stat cache: files whose size, mtime and ctime match it keep
    their digest without being read. With `store`, hashed content is also stored.
    """
    previous = previous or {}
    racy_after = time.time_ns() - RACY_NS
    manifest: Manifest = {}
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    stack: list[tuple[int, str]] = [(root_fd, "")]
    while stack:
        dir_fd, prefix = stack.pop()
        try:
            with os.scandir(dir_fd) as entries:
                for item in entries:
                    path = prefix + item.name
                    try:
                        info = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    is_dir = stat.S_ISDIR(info.st_mode)
                    if ignore is not None and ignore.ignored(path, is_dir):
                        continue
                    if is_dir:
                        manifest[path] = entry_of(info)
                        try:
                            child = os.open(item.name, DIR_FLAGS, dir_fd=dir_fd)
                        except OSError:
                            continue  # swapped or removed while we looked
                        stack.append((child, path + "/"))
                    elif stat.S_ISREG(info.st_mode):
                        old = previous.get(path)
                        digest = known_digest(old, info)
                        if digest is None or (store is not None and not store.has(digest)):
                            digest = hash_file(dir_fd, item.name, store)
                            if digest is None:
                                continue
                        entry = entry_of(info, digest)
                        if info.st_ctime_ns >= racy_after:
                            entry = _with_ctime(entry, 0)
                        manifest[path] = entry
                    elif stat.S_ISLNK(info.st_mode):
                        target = os.readlink(item.name, dir_fd=dir_fd)
                        manifest[path] = entry_of(info, target=target)
                    else:
                        manifest[path] = entry_of(info)
        finally:
            os.close(dir_fd)
    return manifest


def _with_ctime(entry: Entry, ctime_ns: int) -> Entry:
    from dataclasses import replace

    return replace(entry, ctime_ns=ctime_ns)
