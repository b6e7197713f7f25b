"""Tar streams between the host and the Lima guest, built and read in memory.

Streams going in are generated chunk by chunk (a big blob is never held whole),
in PAX format so mtimes keep their nanoseconds and names keep their raw bytes.
Streams coming back are parsed with `tarfile` and never extracted on the host.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from airlock.review.models import Entry, EntryType, Manifest
from airlock.review.store import CHUNK, ObjectStore
from airlock.sandbox.base import SandboxError

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
PERMISSIONS = 0o777  # setuid, setgid and sticky never enter the sandbox


Opener = Callable[[], BinaryIO]
Staged = tuple[tarfile.TarInfo, Opener | None]  # a header and, for a file, its content


@dataclass(frozen=True)
class Member:
    """One tar entry; `content` opens the data of a regular file."""

    info: tarfile.TarInfo
    content: Opener | None = None


def tar_stream(members: Iterable[Member]) -> Iterator[bytes]:
    """A PAX tar of `members`, yielded in chunks as it is built."""
    written = 0
    for member in members:
        for chunk in _member_chunks(member):
            written += len(chunk)
            yield chunk
    end = b"\0" * (2 * BLOCK)
    yield end + b"\0" * (-(written + len(end)) % RECORD)


def _member_chunks(member: Member) -> Iterator[bytes]:
    """Header, data and padding of one entry (the data read as it is sent)."""
    info = member.info
    if member.content is None:
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        return
    with member.content() as handle:
        info.size = handle.seek(0, io.SEEK_END)
        handle.seek(0)
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        remaining = info.size
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                raise SandboxError(f"{info.name} shrank while it was being sent")
            remaining -= len(chunk)
            yield chunk
    yield b"\0" * (-info.size % BLOCK)


def tar_info(name: str, entry: Entry) -> tarfile.TarInfo | None:
    """The header of a manifest entry (None for sockets and devices, which are never copied)."""
    info = tarfile.TarInfo(name)
    info.mode = entry.mode & PERMISSIONS
    seconds, nanos = divmod(max(entry.mtime_ns, 0), 1_000_000_000)
    info.mtime = seconds
    info.pax_headers = {"mtime": f"{seconds}.{nanos:09d}"}
    if entry.type is EntryType.FILE:
        info.type = tarfile.REGTYPE
    elif entry.type is EntryType.DIR:
        info.type = tarfile.DIRTYPE
    elif entry.type is EntryType.SYMLINK:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.target or ""
    elif entry.special == "fifo":
        info.type = tarfile.FIFOTYPE
    else:
        return None
    return info


def blob(store: ObjectStore, entry: Entry, path: str) -> Opener:
    """Opener of a file entry's content in the store."""
    if entry.digest is None:
        raise SandboxError(f"{path}: no content recorded for this file")
    digest = entry.digest

    def open_blob() -> BinaryIO:
        try:
            return store.open(digest)
        except FileNotFoundError as exc:
            raise SandboxError(f"the content of {path} is missing from the object store") from exc

    return open_blob


def tree_members(manifest: Manifest, store: ObjectStore) -> Iterator[Member]:
    """The whole tree, parents before children."""
    for path in sorted(manifest):
        entry = manifest[path]
        info = tar_info(path, entry)
        if info is None:
            continue
        content = blob(store, entry, path) if entry.type is EntryType.FILE else None
        yield Member(info, content)


def plan_members(plan: list[str], staged: Mapping[int, Staged]) -> Iterator[Member]:
    """The apply stream: the NUL-separated plan, then staged entries `s/N`."""
    body = b"".join(os.fsencode(op) + b"\0" for op in plan)
    info = tarfile.TarInfo("plan")
    info.mode = 0o600
    info.mtime = int(time.time())
    yield Member(info, lambda: io.BytesIO(body))
    for index, (staged_info, content) in staged.items():
        staged_info.name = f"s/{index}"
        yield Member(staged_info, content)


def file_info(mode: int = 0o644) -> tarfile.TarInfo:
    """The header of a new regular file."""
    info = tarfile.TarInfo()
    info.mode = mode & PERMISSIONS
    info.mtime = int(time.time())
    return info


def read_files(data: bytes) -> dict[str, bytes]:
    """Regular files of a tar stream, by path (symlinks, folders and the like are skipped)."""
    files: dict[str, bytes] = {}
    with tarfile.open(
        fileobj=io.BytesIO(data), mode="r:", encoding="utf-8", errors="surrogateescape"
    ) as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isreg() else None
            if handle is not None:
                files[member.name.removeprefix("./")] = handle.read()
    return files
