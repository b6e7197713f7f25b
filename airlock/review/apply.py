"""Planning a sync: what each approved change becomes on the host as it is now.

Where the host still equals the baseline, the approved result is written. Where the
host changed since, the approved hunks are merged onto it (exact matches only, so an
edit overlapping a hunk is a conflict, never a fuzzy misapply) or the path is a
conflict and stays untouched. Nothing is written here: the plan goes to the journal.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from airlock.review.changes import MAX_TEXT_BYTES, is_exec
from airlock.review.hoststate import (
    ABSENT,
    PathState,
    Target,
    keep_content,
    list_dir,
    read_state,
    state_of,
)
from airlock.review.hunks import apply_hunks, decode_text, make_hunks
from airlock.review.merge import merge_hunks
from airlock.review.models import ChangeKind, Entry, EntryType, FileChange, Hunk
from airlock.review.store import ObjectStore, sha256_bytes
from airlock.safefs import SafeRoot

NEW_DIR_MODE = 0o755
CHANGED = "changed on the host since the session started"


class Want(BaseModel):
    """What the user approved for one path (a file's mode follows the host's)."""

    path: str
    kind: Literal["absent", "file", "symlink", "dir"]
    digest: str | None = None  # approved content, in the object store
    exec: bool | None = None  # the approved exec bit; None keeps the host's
    target: str | None = None


@dataclass
class Conflict:
    """An approved change that cannot be applied to the host as it is."""

    path: str
    reason: str
    hunks: list[Hunk] = field(default_factory=list)  # hunks (baseline -> approved) that failed


@dataclass
class Plan:
    targets: dict[str, Target] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)
    settled: list[str] = field(default_factory=list)  # wanted paths already as approved


def file_mode(host_mode: int | None, exec_: bool | None) -> int:
    """The mode a synced file gets: the host's (setuid & co. dropped) with the approved exec bit."""
    if host_mode is None:
        return 0o755 if exec_ else 0o644
    mode = host_mode & 0o777
    if exec_ is None:
        return mode
    return mode | (mode & 0o444) >> 2 if exec_ else mode & ~0o111


def want_of(
    change: FileChange, hunks: Collection[int] | None, base_text: str, store: ObjectStore
) -> Want:
    """What syncing `change` means: the whole change, or (`hunks`) only these of its hunks.

    A partial text is built from `base_text` (the baseline content) and stored.
    """
    path = change.path
    if change.kind is ChangeKind.DELETED:
        return Want(path=path, kind="absent")
    if change.entry_type is EntryType.DIR:
        return Want(path=path, kind="dir")
    if change.entry_type is EntryType.SYMLINK:
        return Want(path=path, kind="symlink", target=change.new_target)
    if hunks is not None:
        digest = store.put_bytes(apply_hunks(base_text, change.hunks, hunks).encode())
        return Want(path=path, kind="file", digest=digest)
    old_exec = is_exec(change.old_mode or 0) if change.old_type is EntryType.FILE else None
    new_exec = is_exec(change.new_mode or 0)
    exec_ = new_exec if new_exec != old_exec else None
    return Want(path=path, kind="file", digest=change.new_digest, exec=exec_)


def plan_sync(
    root: SafeRoot,
    store: ObjectStore,
    wants: Sequence[tuple[Entry | None, Want]],
    *,
    keep: bool,
) -> Plan:
    """Resolve approved changes against the host; with `keep`, store every previous content."""
    plan = Plan()
    new_dirs = {want.path for _, want in wants if want.kind == "dir"}
    for base, want in wants:
        host = read_state(root, want.path, base)
        if host.kind == "blocked" and any(parent in new_dirs for parent in parent_paths(want.path)):
            host = ABSENT  # below a file the user approved replacing with a directory
        outcome = _resolve(root, store, base, want, host, keep)
        if isinstance(outcome, Conflict):
            plan.conflicts[want.path] = outcome
        else:
            plan.settled.append(want.path)
            if outcome is not None:
                plan.targets[want.path] = outcome
    _check_structure(root, plan)
    _add_parents(root, plan)
    if keep:
        for target in plan.targets.values():
            keep_content(root, target.path, target.before, store)
    return plan


def parent_paths(path: str) -> list[str]:
    """The folders above `path`, outermost first: "a/b/c" -> ["a", "a/b"]."""
    parts = path.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]


def _resolve(
    root: SafeRoot,
    store: ObjectStore,
    base: Entry | None,
    want: Want,
    host: PathState,
    keep: bool,
) -> Target | Conflict | None:
    """The host change for one approval; None when the host already holds it."""
    if host.kind in ("other", "blocked"):
        return Conflict(want.path, _why(state_of(base), host, want))
    after = _final(want, host)
    if host.exact(after) or (host.kind == "dir" and after.kind == "dir"):
        return None
    before = state_of(base)
    if host.same(before) or host.same(after):  # as in the baseline, or the content is there
        return Target(path=want.path, before=host, after=after)
    if want.kind == "file" and before.kind == "file" and host.kind == "file":
        return _merge(root, store, before, want, host, keep)
    return Conflict(want.path, _why(before, host, want))


def _final(want: Want, host: PathState) -> PathState:
    """The approved state as it lands on this host path."""
    if want.kind == "file":
        mode = file_mode(host.mode if host.kind == "file" else None, want.exec)
        return PathState(kind="file", digest=want.digest, mode=mode)
    if want.kind == "dir":
        return PathState(kind="dir", mode=host.mode if host.kind == "dir" else NEW_DIR_MODE)
    if want.kind == "symlink":
        return PathState(kind="symlink", target=want.target)
    return ABSENT


def _why(before: PathState, host: PathState, want: Want) -> str:
    if host.kind == "blocked":
        return "a parent folder is a symlink or a file on the host"
    if host.kind == "other":
        return "a special file (fifo, socket or device) is there on the host"
    if before.kind != "absent" and host.kind == "absent":
        return "deleted on the host since the session started"
    if before.kind == "absent":
        return "created on the host since the session started"
    if want.kind == "absent":
        return f"{CHANGED}; not deleted"
    return CHANGED


def _merge(
    root: SafeRoot,
    store: ObjectStore,
    before: PathState,
    want: Want,
    host: PathState,
    keep: bool,
) -> Target | Conflict | None:
    """Approved edits of a file that the host changed too, merged onto the host's version."""
    mode = file_mode(host.mode, want.exec)
    if want.digest == before.digest:  # only the exec bit was approved
        after = PathState(kind="file", digest=host.digest, mode=mode)
        return None if after.exact(host) else Target(path=want.path, before=host, after=after)
    texts = [_text(store, before.digest), _text(store, want.digest), _host_text(root, want.path)]
    base_text, want_text, host_text = texts
    if base_text is None or want_text is None or host_text is None:
        return Conflict(want.path, f"{CHANGED}, and binary files cannot be merged")
    merged, failed = merge_hunks(host_text, make_hunks(base_text, want_text))
    if failed:
        spans = ", ".join(_span(hunk) for hunk in failed)
        return Conflict(want.path, f"{CHANGED}, and both sides edited {spans}", failed)
    data = merged.encode("utf-8")
    digest = store.put_bytes(data) if keep else sha256_bytes(data)
    after = PathState(kind="file", digest=digest, mode=mode)
    return None if after.exact(host) else Target(path=want.path, before=host, after=after)


def _span(hunk: Hunk) -> str:
    last = hunk.old_start + max(hunk.old_count, 1) - 1
    return f"line {hunk.old_start}" if last == hunk.old_start else f"lines {hunk.old_start}-{last}"


def _text(store: ObjectStore, digest: str | None) -> str | None:
    if digest is None or not store.has(digest):
        return None
    if store.path(digest).stat().st_size > MAX_TEXT_BYTES:
        return None
    return decode_text(store.read(digest))


def _host_text(root: SafeRoot, path: str) -> str | None:
    info = root.lstat(path)
    if info is None or info.st_size > MAX_TEXT_BYTES:
        return None
    return decode_text(root.read_bytes(path))


def _check_structure(root: SafeRoot, plan: Plan) -> None:
    """Drop what cannot land: folder removals leaving files behind, paths without a folder."""
    folders: dict[str, str] = {}  # host kind of each parent folder looked at
    changed = True
    while changed:
        changed = False
        for path, target in list(plan.targets.items()):
            reason = _structure_problem(root, plan, target, folders)
            if reason is not None:
                del plan.targets[path]
                plan.settled.remove(path)
                plan.conflicts[path] = Conflict(path, reason)
                changed = True


def _structure_problem(
    root: SafeRoot, plan: Plan, target: Target, folders: dict[str, str]
) -> str | None:
    if target.before.kind == "dir" and target.after.kind != "dir":
        for name in list_dir(root, target.path):
            child = plan.targets.get(f"{target.path}/{name}")
            if child is None or child.after.kind != "absent":
                return "the folder holds files on the host that stay"
    if target.after.kind == "absent":
        return None
    for parent in parent_paths(target.path):
        planned = plan.targets.get(parent)
        kind: str
        if planned is not None:
            kind = planned.after.kind
        else:
            if parent not in folders:
                folders[parent] = read_state(root, parent).kind
            kind = folders[parent]
        if kind not in ("dir", "absent"):
            return f"{parent} is not a folder on the host"
    return None


def _add_parents(root: SafeRoot, plan: Plan) -> None:
    """Journal the folders a sync creates for new paths, so an undo removes them too."""
    present: set[str] = set()  # parents found on the host
    for target in list(plan.targets.values()):
        if target.after.kind == "absent":
            continue
        for parent in parent_paths(target.path):
            if parent in plan.targets or parent in present:
                continue
            if read_state(root, parent).kind != "absent":
                present.add(parent)
                continue
            after = PathState(kind="dir", mode=NEW_DIR_MODE)
            plan.targets[parent] = Target(path=parent, before=ABSENT, after=after)
