"""Manifest of a tree: one `lstat` walk, hashing only files whose stat changed.

The walk goes through directory fds opened with `O_NOFOLLOW`, so a directory
swapped for a symlink while we look is never entered. Files are hashed (and,
when a store is given, stored) in the same read.

A warm scan is one `lstat` per path: an entry whose stat matches the previous
manifest is that manifest's `Entry` itself, so nothing is rebuilt. Storing is
durable (an fsync per object), so with a store the files are hashed by a pool of
threads whose fsyncs share the filesystem's commits.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from airlock.review.ignore import IgnoreRules
from airlock.review.models import Entry, EntryType, Manifest
from airlock.review.store import CHUNK, ObjectStore
from airlock.safefs import DIR_FLAGS, READ_FLAGS

# A file changed this close to the scan could change again within the same
# timestamp tick unseen; its ctime is recorded as 0 so the next scan re-hashes it.
RACY_NS = 100_000_000
STORE_THREADS = 8  # files hashed and stored at once
IN_FLIGHT = 64  # at most this many files open for the store threads

SPECIAL_KINDS = (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "char-device"),
    (stat.S_ISBLK, "block-device"),
)
FILE, DIR, SYMLINK = EntryType.FILE, EntryType.DIR, EntryType.SYMLINK
S_IFMT, S_IFREG, S_IFDIR, S_IFLNK = 0o170000, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK
PERMISSIONS = 0o7777


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
    hashing = _Hashing(store, time.time_ns() - RACY_NS)
    try:
        return _walk(root, previous or {}, ignore, hashing)
    finally:
        hashing.close()


def _walk(
    root: str | os.PathLike[str],
    previous: Manifest,
    ignore: IgnoreRules | None,
    hashing: _Hashing,
) -> Manifest:
    """Depth first, one directory fd open per level still to finish (all closed on errors)."""
    manifest: Manifest = {}
    # Rules for directories only never match anything else: most trees need no check.
    file_rules = (
        ignore if ignore is not None and any(not r.dir_only for r in ignore.rules) else None
    )
    stack = [(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), "")]
    try:
        while stack:
            dir_fd, prefix = stack.pop()
            try:
                _scan_dir(dir_fd, prefix, previous, ignore, file_rules, hashing, manifest, stack)
            finally:
                os.close(dir_fd)
    finally:
        for dir_fd, _ in stack:
            os.close(dir_fd)
    hashing.finish(manifest)
    return manifest


def _scan_dir(
    dir_fd: int,
    prefix: str,
    previous: Manifest,
    ignore: IgnoreRules | None,
    file_rules: IgnoreRules | None,
    hashing: _Hashing,
    manifest: Manifest,
    stack: list[tuple[int, str]],
) -> None:
    """The entries of one directory; its subdirectories go on `stack`, opened.

    The common case, an unchanged file, stays inline and in local names.
    """
    get = previous.get
    store_has = hashing.store.has if hashing.store is not None else None
    racy_after = hashing.racy_after
    with os.scandir(dir_fd) as entries:
        for item in entries:
            path = prefix + item.name
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            mode = info.st_mode
            kind = mode & S_IFMT
            if kind == S_IFREG:
                if file_rules is not None and file_rules.ignored(path, False):
                    continue
                old = get(path)
                if (
                    old is not None
                    and old.ctime_ns == info.st_ctime_ns < racy_after
                    and old.mtime_ns == info.st_mtime_ns
                    and old.size == info.st_size
                    and old.mode == mode & PERMISSIONS
                    and old.type is FILE
                    and old.ctime_ns
                    and (store_has is None or store_has(old.digest or ""))
                ):
                    manifest[path] = old  # unchanged: the very same entry
                else:
                    hashing.add(manifest, dir_fd, item.name, path, info, old)
            elif kind == S_IFDIR:
                if ignore is not None and ignore.ignored(path, True):
                    continue
                old = get(path)
                same = (
                    old is not None
                    and old.type is DIR
                    and old.ctime_ns == info.st_ctime_ns
                    and old.mtime_ns == info.st_mtime_ns
                    and old.mode == mode & PERMISSIONS
                )
                manifest[path] = old if same and old is not None else entry_of(info)
                try:
                    child = os.open(item.name, DIR_FLAGS, dir_fd=dir_fd)
                except OSError:
                    continue  # swapped or removed while we looked
                stack.append((child, path + "/"))
            elif file_rules is not None and file_rules.ignored(path, False):
                continue
            elif kind == S_IFLNK:
                manifest[path] = entry_of(info, target=os.readlink(item.name, dir_fd=dir_fd))
            else:
                manifest[path] = entry_of(info)


class _Hashing:
    """Files to read: hashed on the spot, or (with a store) by a pool of threads.

    A queued file keeps its directory open (a duplicate fd) until it is read; its
    manifest slot is taken at once, so the manifest keeps the order of the walk.
    """

    def __init__(self, store: ObjectStore | None, racy_after: int) -> None:
        self.store = store
        self.racy_after = racy_after
        self.pool: ThreadPoolExecutor | None = None
        self.queued: deque[tuple[Future[str | None], int, str, os.stat_result]] = deque()

    def add(
        self,
        manifest: Manifest,
        dir_fd: int,
        name: str,
        path: str,
        info: os.stat_result,
        old: Entry | None,
    ) -> None:
        """The entry of a file whose stat is new (its content may still be known)."""
        digest = known_digest(old, info)
        if digest is not None and (self.store is None or self.store.has(digest)):
            self._put(manifest, path, info, digest)
        elif self.store is None:
            self._put(manifest, path, info, hash_file(dir_fd, name, None))
        else:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(STORE_THREADS)
            if len(self.queued) >= IN_FLIGHT:
                self._settle(manifest)
            own_fd = os.dup(dir_fd)
            future = self.pool.submit(hash_file, own_fd, name, self.store)
            manifest[path] = entry_of(info)  # the slot, filled in by `_settle`
            self.queued.append((future, own_fd, path, info))

    def finish(self, manifest: Manifest) -> None:
        """Wait for every queued file and fill in its entry."""
        while self.queued:
            self._settle(manifest)

    def close(self) -> None:
        """Drop what is still queued (after an error) and stop the threads."""
        while self.queued:
            future, own_fd, _, _ = self.queued.popleft()
            if not future.cancel():
                future.exception()  # wait: it is reading from `own_fd`
            os.close(own_fd)
        if self.pool is not None:
            self.pool.shutdown()

    def _settle(self, manifest: Manifest) -> None:
        future, own_fd, path, info = self.queued.popleft()
        try:
            digest = future.result()
        finally:
            os.close(own_fd)
        self._put(manifest, path, info, digest)

    def _put(self, manifest: Manifest, path: str, info: os.stat_result, digest: str | None) -> None:
        """Record a hashed file; one that vanished (no digest) leaves the manifest."""
        if digest is None:
            manifest.pop(path, None)
            return
        entry = entry_of(info, digest)
        if info.st_ctime_ns >= self.racy_after:
            entry = replace(entry, ctime_ns=0)
        manifest[path] = entry
