"""A content-addressed object store (sha256), shared by all projects and deduplicated."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from airlock.atomic import fsync_dir

CHUNK = 1 << 20
SYNC_THREADS = 8  # fsyncs in flight: they share the filesystem's commits


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectStore:
    """Blobs under `root/ab/cdef…`, written once, read-only afterwards."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path(digest).exists()

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def open(self, digest: str) -> BinaryIO:
        return self.path(digest).open("rb")

    def sync(self, digests: Iterable[str]) -> None:
        """Make stored objects durable: their directory entries are fsynced (several at once)."""
        folders = {self.path(digest).parent for digest in digests}
        if folders:
            with ThreadPoolExecutor(SYNC_THREADS) as pool:
                list(pool.map(fsync_dir, [*folders, self.root]))

    def put_bytes(self, data: bytes) -> str:
        digest = sha256_bytes(data)
        if not self.has(digest):
            self.put_stream(io.BytesIO(data))
        return digest

    def put_stream(self, source: BinaryIO) -> str:
        """Store a stream without holding it in memory; returns its digest."""
        self.root.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix=".in-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := source.read(CHUNK):
                    hasher.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            digest = hasher.hexdigest()
            target = self.path(digest)
            if target.exists():
                os.unlink(tmp)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            return digest
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
