"""What changed in the sandbox against the baseline, and what of it may ever be synced.

Nothing here follows a symlink or reads the host: changes are computed from two
manifests, and text contents come from the object store.
"""

from __future__ import annotations

from collections.abc import Iterable

from airlock.review.hunks import decode_text, make_hunks
from airlock.review.ignore import IgnoreRules
from airlock.review.models import ChangeKind, Entry, EntryType, FileChange, Manifest
from airlock.review.store import ObjectStore

TEMP_PREFIX = ".airlock-tmp-"  # SafeRoot's temp files: never changes (swept after a crash)
MAX_TEXT_BYTES = 4 << 20  # larger files are shown as binary: no hunks, whole-file decision
EXEC_BIT = 0o100  # the one mode bit that syncs (as git: executable or not)
SPECIAL_BITS = {0o4000: "setuid", 0o2000: "setgid", 0o1000: "sticky"}


def is_exec(mode: int) -> bool:
    return bool(mode & EXEC_BIT)


def valid_name(text: str) -> bool:
    """Whether a path or link target is valid UTF-8 (a name read from disk may not be)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def symlink_problem(path: str, target: str, tree: Manifest) -> str | None:
    """Why the symlink `path` -> `target` must not be synced, judged without following it.

    Absolute targets, targets climbing out with `..`, and targets going through
    another symlink of `tree` are refused.
    """
    if not valid_name(target):
        return "symlink target is not valid UTF-8"
    if target.startswith("/"):
        return f"symlink to {target} points outside the project"
    parts = path.split("/")[:-1]
    steps = target.split("/")
    for index, step in enumerate(steps):
        if step in ("", "."):
            continue
        if step == "..":
            if not parts:
                return f"symlink to {target} points outside the project"
            parts.pop()
            continue
        parts.append(step)
        through = "/".join(parts)
        entry = tree.get(through)
        if index < len(steps) - 1 and entry is not None and entry.type is EntryType.SYMLINK:
            return f"symlink to {target} goes through the symlink {through}"
    return None


def text_candidates(
    baseline: Manifest, current: Manifest, ignore: IgnoreRules | None = None
) -> dict[str, str]:
    """Path -> digest of the sandbox files whose content `compute_changes` wants to diff."""
    wanted: dict[str, str] = {}
    for path, entry in current.items():
        old = baseline.get(path)
        if (
            entry.type is EntryType.FILE
            and entry.digest is not None
            and entry.size <= MAX_TEXT_BYTES
            and (old is None or old.digest != entry.digest)
            and (ignore is None or not ignore.excludes(path, False))
        ):
            wanted[path] = entry.digest
    return wanted


def compute_changes(
    baseline: Manifest,
    current: Manifest,
    *,
    store: ObjectStore,
    ignore: IgnoreRules | None = None,
) -> list[FileChange]:
    """The changes from `baseline` to `current`, sorted by path.

    Ignored paths are never changes. A changed file whose contents are not both in
    `store` (see `text_candidates`) is treated as binary.
    """
    old_tree = _visible(baseline, ignore)
    new_tree = _visible(current, ignore)
    parents = {path.rpartition("/")[0] for path in new_tree}
    changes: list[FileChange] = []
    for path in sorted(old_tree.keys() | new_tree.keys()):
        old, new = old_tree.get(path), new_tree.get(path)
        if old is not None and new is not None and _same(old, new):
            continue  # the common case, decided without building a FileChange
        change = _change(path, old, new, new_tree, store)
        if change is None:
            continue
        added_dir = change.kind is ChangeKind.ADDED and change.entry_type is EntryType.DIR
        if added_dir and path in parents:
            continue  # files imply their parents: only empty new directories show
        if not valid_name(path):
            _refuse(change, "its name is not valid UTF-8")
        changes.append(change)
    _pair_moves(changes)
    return changes


def _pair_moves(changes: list[FileChange]) -> None:
    """Link a deleted file to the added file holding the same bytes: a move.

    Only unambiguous moves are linked (one file of that content gone, one come, not
    empty, both syncable); their hunks are dropped, as the lines did not change.
    """
    gone = _by_digest(c for c in changes if c.kind is ChangeKind.DELETED and c.old_size)
    came = _by_digest(c for c in changes if c.kind is ChangeKind.ADDED and c.new_size)
    for digest, (old, *more_old) in gone.items():
        new, *more_new = came.get(digest, [None])
        if new is None or more_old or more_new:
            continue
        old.moved_to, new.moved_from = new.path, old.path
        old.hunks, new.hunks = [], []


def _by_digest(changes: Iterable[FileChange]) -> dict[str, list[FileChange]]:
    """Syncable file changes by the digest of the content they delete or add."""
    found: dict[str, list[FileChange]] = {}
    for change in changes:
        deleted = change.kind is ChangeKind.DELETED
        digest = change.old_digest if deleted else change.new_digest
        kind = change.old_type if deleted else change.entry_type
        if kind is EntryType.FILE and digest is not None and change.syncable:
            found.setdefault(digest, []).append(change)
    return found


def _same(old: Entry, new: Entry) -> bool:
    """Entries no review could tell apart (stat times aside)."""
    return (
        old.type is new.type
        and old.digest == new.digest
        and old.mode == new.mode
        and old.target == new.target
        and old.special == new.special
    )


def _visible(tree: Manifest, ignore: IgnoreRules | None) -> Manifest:
    """The paths under review: not ignored, and not a temp file of an atomic write."""
    return {
        path: entry
        for path, entry in tree.items()
        if not path.rpartition("/")[2].startswith(TEMP_PREFIX)
        and (ignore is None or not ignore.excludes(path, entry.type is EntryType.DIR))
    }


def _refuse(change: FileChange, reason: str) -> None:
    change.flags.append(reason)
    change.syncable = False


def _describe(path: str, old: Entry | None, new: Entry | None) -> FileChange:
    """A change with both sides filled in; `kind` is settled by the caller."""
    shown = new if new is not None else old
    assert shown is not None
    return FileChange(
        path=path,
        kind=ChangeKind.MODIFIED,
        entry_type=shown.type,
        old_type=old.type if old else None,
        old_size=old.size if old and old.type is EntryType.FILE else None,
        new_size=new.size if new and new.type is EntryType.FILE else None,
        old_digest=old.digest if old else None,
        new_digest=new.digest if new else None,
        old_mode=old.mode if old else None,
        new_mode=new.mode if new else None,
        old_target=old.target if old else None,
        new_target=new.target if new else None,
    )


def _change(
    path: str, old: Entry | None, new: Entry | None, tree: Manifest, store: ObjectStore
) -> FileChange | None:
    change = _describe(path, old, new)
    same_type = old is not None and new is not None and old.type is new.type
    if new is None:
        change.kind = ChangeKind.DELETED
        assert old is not None
        if old.type is EntryType.FILE:  # its lines are shown going, decided as a whole
            old_text = _text(store, old)
            change.binary = old_text is None
            change.hunks = make_hunks(old_text, "") if old_text else []
    elif new.type is EntryType.OTHER:
        if same_type:
            return None
        change.kind = ChangeKind.SPECIAL
        _refuse(change, f"{new.special}: special files are never synced")
    elif new.type is EntryType.SYMLINK:
        if same_type and old is not None and old.target == new.target:
            return None
        change.kind = ChangeKind.SYMLINK
        problem = symlink_problem(path, new.target or "", tree)
        if problem is not None:
            _refuse(change, problem)
    elif new.type is EntryType.DIR:
        if same_type:
            return None
        change.kind = ChangeKind.ADDED if old is None else ChangeKind.MODIFIED
    else:
        return _file_change(change, old if same_type else None, new, store, added=old is None)
    return change


def _file_change(
    change: FileChange, old: Entry | None, new: Entry, store: ObjectStore, *, added: bool
) -> FileChange | None:
    """A file added, edited, made (non-)executable, or taking the place of a non-file."""
    content = old is None or old.digest != new.digest
    exec_change = old is not None and is_exec(old.mode) != is_exec(new.mode)
    gained = [name for bit, name in SPECIAL_BITS.items() if new.mode & bit and not _had(old, bit)]
    if not (content or exec_change or gained):
        return None
    change.kind = ChangeKind.ADDED if added else ChangeKind.MODIFIED if content else ChangeKind.MODE
    if gained:
        change.flags.append(f"{'/'.join(gained)} bit is never synced")
        change.syncable = content or exec_change
    if content:
        old_text = "" if old is None else _text(store, old)
        new_text = _text(store, new)
        if old_text is None or new_text is None:
            change.binary = True
        else:
            change.hunks = make_hunks(old_text, new_text)
    return change


def _had(old: Entry | None, bit: int) -> bool:
    return old is not None and bool(old.mode & bit)


def _text(store: ObjectStore, entry: Entry) -> str | None:
    if entry.digest is None or entry.size > MAX_TEXT_BYTES or not store.has(entry.digest):
        return None
    return decode_text(store.read(entry.digest))
