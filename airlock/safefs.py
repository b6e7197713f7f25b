"""File operations inside a tree whose contents must not be trusted.

Every access walks from the root, one component at a time, with `O_NOFOLLOW`:
a symlink (or a directory swapped for one) anywhere on the way is refused, so a
path inside the tree can never reach outside it. Used for the host project (sync)
and for sandbox staging copies (written by the agent).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from airlock.errors import AirlockError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
COPY_CHUNK = 1 << 20


class UnsafePathError(AirlockError):
    """A path that is absolute, climbs with `..`, or passes through a symlink."""


def rel_parts(path: str) -> list[str]:
    """The components of a relative POSIX path, refusing anything that could escape."""
    if not path or "\0" in path:
        raise UnsafePathError(f"invalid path {path!r}")
    if path.startswith("/"):
        raise UnsafePathError(f"absolute path refused: {path}")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafePathError(f"path must not contain '', '.' or '..' parts: {path}")
    return parts


class SafeRoot:
    """A directory whose inside is reached only through no-follow, fd-relative calls."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextlib.contextmanager
    def dir_fd(self, parts: list[str], create: bool = False) -> Iterator[int]:
        """An fd of the directory `parts` below the root (created if asked)."""
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts:
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    with contextlib.suppress(FileExistsError):  # made meanwhile by another writer
                        os.mkdir(part, 0o755, dir_fd=fd)
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        where = "/".join(parts[: parts.index(part) + 1])
                        raise UnsafePathError(f"{where} is not a real directory") from exc
                    raise
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def parent(self, path: str, create: bool = False) -> Iterator[tuple[int, str]]:
        """(fd of the parent directory, final name) of `path`."""
        parts = rel_parts(path)
        with self.dir_fd(parts[:-1], create=create) as fd:
            yield fd, parts[-1]

    def lstat(self, path: str) -> os.stat_result | None:
        try:
            with self.parent(path) as (fd, name):
                return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except (FileNotFoundError, UnsafePathError, NotADirectoryError):
            return None

    @contextlib.contextmanager
    def open_read(self, path: str) -> Iterator[BinaryIO]:
        """A regular file opened for reading (never a symlink, fifo or device)."""
        with self.parent(path) as (dir_fd, name):
            try:
                fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise UnsafePathError(f"{path} is a symlink") from exc
                raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafePathError(f"{path} is not a regular file")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            yield handle

    def read_bytes(self, path: str) -> bytes:
        with self.open_read(path) as handle:
            return handle.read()

    def write_atomic(
        self,
        path: str,
        source: bytes | BinaryIO,
        mode: int,
        *,
        durable: bool = True,
        sync_dir: bool = True,
    ) -> None:
        """Replace `path` by a new regular file (temp file + rename); parents are created.

        `durable` fsyncs the file before the rename and its folder after it (unless
        `sync_dir` is false: the caller syncs the folder once after many writes).
        """
        with self.parent(path, create=True) as (dir_fd, name):
            tmp = f".airlock-tmp-{secrets.token_hex(6)}"
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd
            )
            try:
                with os.fdopen(fd, "wb") as handle:
                    if isinstance(source, bytes):
                        handle.write(source)
                    else:
                        while chunk := source.read(COPY_CHUNK):
                            handle.write(chunk)
                    handle.flush()
                    os.fchmod(handle.fileno(), mode)
                    if durable:
                        os.fsync(handle.fileno())
                os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=dir_fd)
                raise
            if durable and sync_dir:
                os.fsync(dir_fd)

    def symlink(self, path: str, target: str) -> None:
        """Create or replace the symlink `path` -> `target` atomically (it is never followed)."""
        with self.parent(path, create=True) as (dir_fd, name):
            tmp = f".airlock-tmp-{secrets.token_hex(6)}"
            os.symlink(target, tmp, dir_fd=dir_fd)
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        with self.parent(path, create=True) as (dir_fd, name), contextlib.suppress(FileExistsError):
            os.mkdir(name, mode, dir_fd=dir_fd)

    def chmod(self, path: str, mode: int) -> None:
        """Change the mode of a file or directory (a symlink is refused, not followed)."""
        with self.parent(path) as (dir_fd, name):
            fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
            try:
                os.fchmod(fd, mode)
            finally:
                os.close(fd)

    def set_mtime(self, path: str, mtime_ns: int) -> None:
        with self.parent(path) as (dir_fd, name):
            os.utime(name, ns=(mtime_ns, mtime_ns), dir_fd=dir_fd, follow_symlinks=False)

    def remove(self, path: str) -> None:
        """Delete a file, symlink, special file or whole directory tree (never following)."""
        with self.parent(path) as (dir_fd, name):
            remove_at(dir_fd, name)


def remove_at(dir_fd: int, name: str) -> None:
    """Delete `name` in `dir_fd` and, if it is a directory, everything below it (no-follow)."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=dir_fd)
        return
    child_fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    try:
        if info.st_mode & 0o700 != 0o700:
            os.fchmod(child_fd, 0o700)  # a read-only directory cannot be emptied
        for child in os.listdir(child_fd):
            remove_at(child_fd, child)
    finally:
        os.close(child_fd)
    os.rmdir(name, dir_fd=dir_fd)
