"""The baseline: the host project's manifest with every file's content in the object store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from airlock.atomic import write_atomic
from airlock.review.apply import Plan, Want
from airlock.review.changes import valid_name
from airlock.review.errors import ReviewError
from airlock.review.ignore import IgnoreRules
from airlock.review.models import MANIFEST, Entry, EntryType, FileChange, Manifest
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore


def snapshot_host(root: Path, store: ObjectStore, previous: Manifest | None = None) -> Manifest:
    """Manifest of the project (ignored paths skipped), its file contents stored.

    `previous` (the project's last snapshot) is a stat cache: unchanged files are
    not read again. Paths or link targets that are not valid UTF-8 are left out.
    """
    manifest = scan_tree(root, previous=previous, ignore=IgnoreRules.for_project(root), store=store)
    return {
        path: entry
        for path, entry in manifest.items()
        if valid_name(path) and (entry.target is None or valid_name(entry.target))
    }


def save_manifest(path: Path, manifest: Manifest) -> None:
    write_atomic(path, MANIFEST.dump_json(manifest), mode=0o600)


def load_manifest(path: Path) -> Manifest | None:
    """A saved manifest, or None if there is none."""
    try:
        return MANIFEST.validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValidationError as exc:
        raise ReviewError(f"the saved baseline {path} is damaged; delete it to start over") from exc


def advance(
    baseline: Manifest,
    synced: Sequence[tuple[FileChange, Want]],
    plan: Plan,
    store: ObjectStore,
) -> dict[str, Entry | None]:
    """Move the baseline forward over what a sync settled; returns the entries it replaced.

    The new entries are what was approved (not the host's merge of it), so the
    sandbox's remaining differences stay exactly the changes still pending.
    """
    replaced: dict[str, Entry | None] = {}
    settled = set(plan.settled)
    for change, want in synced:
        if change.path in settled:
            replaced[change.path] = baseline.get(change.path)
            _put(baseline, change.path, _entry(baseline.get(change.path), change, want, store))
    for path in plan.targets:
        if path not in replaced:  # a folder made for a new path
            replaced[path] = baseline.get(path)
            _put(baseline, path, Entry(type=EntryType.DIR, mode=0o755))
    return replaced


def restore(baseline: Manifest, replaced: dict[str, Entry | None]) -> None:
    """Put back the entries a sync replaced (after its undo)."""
    for path, entry in replaced.items():
        _put(baseline, path, entry)


def _put(baseline: Manifest, path: str, entry: Entry | None) -> None:
    if entry is None:
        baseline.pop(path, None)
    else:
        baseline[path] = entry


def _entry(old: Entry | None, change: FileChange, want: Want, store: ObjectStore) -> Entry | None:
    if want.kind == "absent":
        return None
    if want.kind == "dir":
        return Entry(type=EntryType.DIR, mode=(change.new_mode or 0o755) & 0o777)
    if want.kind == "symlink":
        target = want.target or ""
        return Entry(type=EntryType.SYMLINK, size=len(target), mode=0o777, target=target)
    digest = want.digest or ""
    mode = change.new_mode if want.exec is not None or old is None else old.mode
    return Entry(
        type=EntryType.FILE,
        size=store.path(digest).stat().st_size,
        mode=(mode or 0o644) & 0o777,
        mtime_ns=time.time_ns(),
        digest=digest,
    )
