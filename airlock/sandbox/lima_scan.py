"""Parse the guest-side scan (`lima_scripts.SCAN`) into a manifest.

Names are bytes of any kind (newlines, quotes, invalid UTF-8): records are
NUL-separated and names are decoded with `os.fsdecode`, as the bubblewrap
backend's `os.scandir` does, so both backends key the same paths alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from airlock.review.models import Entry, EntryType, Manifest
from airlock.sandbox.base import SandboxError

SEPARATOR = b"="
SPECIALS = {b"p": "fifo", b"s": "socket", b"c": "char-device", b"b": "block-device"}
TYPES = {b"f": EntryType.FILE, b"d": EntryType.DIR, b"l": EntryType.SYMLINK}


def time_ns(text: bytes) -> int:
    """`find -printf %T@` (`1700000000.1234567890`) as integer nanoseconds."""
    sign = -1 if text.startswith(b"-") else 1
    seconds, _, fraction = text.lstrip(b"-").partition(b".")
    return sign * (int(seconds) * 1_000_000_000 + int(fraction[:9].ljust(9, b"0") or b"0"))


def parse_hashes(data: bytes) -> dict[str, str]:
    """`sha256sum -z` output (`<hex>  ./path` NUL …) by relative path."""
    digests: dict[str, str] = {}
    for record in data.split(b"\0"):
        if len(record) > 68 and record[64:66] in (b"  ", b" *"):
            digests[_relative(record[66:])] = record[:64].decode("ascii")
    return digests


@dataclass
class ScanResult:
    """A manifest still missing the digests of `unhashed` files."""

    manifest: Manifest
    unhashed: list[str] = field(default_factory=list)


def parse_scan(data: bytes, loaded: Manifest, loaded_at_ns: int) -> ScanResult:
    """Build the manifest: digests of files untouched since the load come from `loaded`.

    A file changed after the load that has no hash could not be read in the guest;
    like the bubblewrap scan, it is left out. A file that looks untouched but was
    not loaded (clock trouble) is reported in `unhashed`.
    """
    fields = data.split(b"\0")
    # Records are (header, link target) pairs; a header always has spaces, the separator none.
    end = 0
    while end < len(fields) and fields[end] != SEPARATOR:
        end += 2
    if end >= len(fields):
        raise SandboxError("the sandbox scan was cut short")
    digests = parse_hashes(b"\0".join(fields[end + 1 :]))
    result = ScanResult({})
    for index in range(0, end, 2):
        header, link = fields[index], fields[index + 1]
        kind, size, mode, mtime, ctime, raw_path = header.split(b" ", 5)
        path = _relative(raw_path)
        entry_type = TYPES.get(kind, EntryType.OTHER)
        entry = Entry(
            type=entry_type,
            size=0 if entry_type is EntryType.DIR else int(size),
            mode=int(mode, 8),
            mtime_ns=time_ns(mtime),
            ctime_ns=time_ns(ctime),
            target=os.fsdecode(link) if entry_type is EntryType.SYMLINK else None,
            special=SPECIALS.get(kind, "unknown") if entry_type is EntryType.OTHER else None,
        )
        if entry_type is EntryType.FILE:
            digest = digests.get(path)
            if digest is None and entry.ctime_ns > loaded_at_ns:
                continue  # changed but unreadable
            if digest is None:
                before = loaded.get(path)
                if (
                    before is not None
                    and before.type is EntryType.FILE
                    and before.size == entry.size
                ):
                    digest = before.digest
                else:
                    result.unhashed.append(path)
            entry = replace(entry, digest=digest)
        result.manifest[path] = entry
    return result


def _relative(raw: bytes) -> str:
    return os.fsdecode(raw.removeprefix(b"./"))
