"""The changed files of a review: kind, approval and conflict marks, line counts, a filter."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal, get_args

from textual import events, on
from textual.binding import Binding, BindingType
from textual.content import Content, Span
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from airlock.review.models import ChangeKind, Decision, EntryType, FileChange
from tui.widgets.diff_model import shown_path

FileFilter = Literal["all", "pending", "approved", "conflicts", "flagged"]
FILTERS: tuple[FileFilter, ...] = get_args(FileFilter)
KINDS = {
    ChangeKind.ADDED: "A",
    ChangeKind.MODIFIED: "M",
    ChangeKind.DELETED: "D",
    ChangeKind.MODE: "P",
    ChangeKind.SYMLINK: "L",
    ChangeKind.SPECIAL: "S",
}
KIND_STYLES = {"A": "$text-success", "M": "$text-warning", "D": "$text-error"}
LEGEND = (
    "A added · M modified · D deleted · P permissions · L symlink · S special\n"
    "✓ approved · ◐ partly approved · · pending · ! conflict · ⊘ never synced"
)


def decision_mark(change: FileChange) -> str:
    """✓ approved, ◐ some hunks approved, · pending."""
    if change.decision is Decision.APPROVED:
        return "✓"
    return "◐" if any(h.decision is Decision.APPROVED for h in change.hunks) else "·"


def stat(change: FileChange) -> str:
    """Line counts of a text change, or what else it is."""
    if change.hunks:
        added = sum(op == "+" for hunk in change.hunks for op, _ in hunk.lines)
        removed = sum(op == "-" for hunk in change.hunks for op, _ in hunk.lines)
        return f"+{added} -{removed}"
    if change.moved_from is not None or change.moved_to is not None:
        return "moved"
    if change.binary:
        return "binary"
    if change.kind is ChangeKind.MODE and change.old_mode is not None:
        return f"{change.old_mode:o}→{change.new_mode or 0:o}"
    kind = change.entry_type if change.kind is not ChangeKind.DELETED else change.old_type
    return {EntryType.DIR: "folder", EntryType.SYMLINK: "link"}.get(kind or change.entry_type, "")


def row_path(change: FileChange, room: int) -> str:
    """The path of a row in `room` cells; a move adds where it went (" → scans/") or came
    from (" ← old.txt"), in full, shortened, or as a bare arrow, as room runs out."""
    path = shown_path(change.path)
    other = change.moved_to or change.moved_from
    if other is None:
        return _cut(path, room)
    arrow = " → " if change.moved_to is not None else " ← "
    for end in (shown_path(other), _move_end(change.path, other)):
        if len(path) + len(arrow) + len(end) <= room:
            return path + arrow + end
    return _cut(path, room - 2) + arrow.rstrip()


def _move_end(path: str, other: str) -> str:
    """The part of the other end of a move that says where it is: its folder if only that
    changed, its name if only that did."""
    folder, _, name = path.rpartition("/")
    other_folder, _, other_name = other.rpartition("/")
    if name == other_name:
        return shown_path(other_folder) + "/" if other_folder else "./"
    return shown_path(other_name) if folder == other_folder else shown_path(other)


def _cut(text: str, room: int) -> str:
    """`text`, shortened from the left to `room` cells."""
    room = max(room, 1)
    return text if len(text) <= room else "…" + text[len(text) - room + 1 :]


def matches(change: FileChange, wanted: FileFilter) -> bool:
    """Whether a change is shown under a filter."""
    if wanted == "pending":
        return change.decision is not Decision.APPROVED and change.syncable
    if wanted == "approved":
        return decision_mark(change) != "·"
    if wanted == "conflicts":
        return change.conflict is not None
    if wanted == "flagged":
        return bool(change.flags)
    return True


class FileList(OptionList):
    """The changes, one a line; posts `FileList.Selected` when the highlighted file changes."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Next file", show=False, id="file-list.down"),
        Binding("k", "cursor_up", "Previous file", show=False, id="file-list.up"),
    ]

    class Selected(Message):
        """The highlighted file changed (None: the list is empty)."""

        def __init__(self, path: str | None) -> None:
            super().__init__()
            self.path = path

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.file_filter: FileFilter = "all"
        self._all: list[FileChange] = []
        self._shown: list[FileChange] = []
        self._selected: str | None = None
        self.tooltip = LEGEND

    @property
    def selected(self) -> FileChange | None:
        """The highlighted change."""
        index = self.highlighted
        return self._shown[index] if index is not None and index < len(self._shown) else None

    def show(self, changes: Sequence[FileChange]) -> None:
        """List `changes` (filtered), keeping the highlighted file, else the same position."""
        keep = self.selected.path if self.selected else None
        position = self.highlighted or 0
        self._all = list(changes)
        self._shown = [change for change in changes if matches(change, self.file_filter)]
        self._redraw()
        paths = [change.path for change in self._shown]
        if keep in paths:
            position = paths.index(keep)
        self.highlighted = min(position, len(paths) - 1) if paths else None
        self._announce()

    def cycle_filter(self) -> FileFilter:
        """Switch to the next filter and list again."""
        self.file_filter = FILTERS[(FILTERS.index(self.file_filter) + 1) % len(FILTERS)]
        self.show(self._all)
        return self.file_filter

    def move(self, step: int) -> bool:
        """Highlight the next (1) or previous (-1) file; False at either end."""
        index = (self.highlighted or 0) + step
        if self.highlighted is None or not 0 <= index < len(self._shown):
            return False
        self.highlighted = index
        return True

    def _redraw(self) -> None:
        width = max(10, self.scrollable_content_region.width - 1)
        stats = [stat(change) for change in self._shown]
        stat_width = max(map(len, stats), default=0)
        highlighted = self.highlighted
        self.set_options(
            Option(self._prompt(change, text, stat_width, width))
            for change, text in zip(self._shown, stats, strict=True)
        )
        self.highlighted = highlighted
        approved = sum(change.decision is Decision.APPROVED for change in self._all)
        conflicts = sum(change.conflict is not None for change in self._all)
        self.border_title = Content(f"Changes {len(self._shown)}/{len(self._all)}")
        self.border_subtitle = Content(f"✓ {approved} · ! {conflicts} · filter: {self.file_filter}")

    def _prompt(self, change: FileChange, text: str, stat_width: int, width: int) -> Content:
        mark = decision_mark(change)
        flag = "!" if change.conflict is not None else "⊘" if change.flags else " "
        kind = KINDS[change.kind]
        prefix = f"{mark}{flag} {kind} {text:>{stat_width}} "
        path = row_path(change, max(1, width - len(prefix)))
        spans = [
            Span(0, 1, "$text-success" if mark != "·" else "$text-muted"),
            Span(1, 2, "$text-error" if flag == "!" else "$text-warning"),
            Span(3, 4, KIND_STYLES.get(kind, "$text-secondary")),
            Span(5, 5 + stat_width, "$text-muted"),
        ]
        return Content(prefix + path, spans)

    def _announce(self) -> None:
        change = self.selected
        path = change.path if change else None
        if path != self._selected:
            self._selected = path
            self.post_message(self.Selected(path))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._announce()

    def on_resize(self, event: events.Resize) -> None:
        self._redraw()
