"""The diff of one file, unified or side by side, syntax highlighted, one hunk in focus.

A Line API widget (like Toolong's log view): rows are plain data and only the rows
on screen are drawn, so a 20,000-line diff scrolls as smoothly as a short one.
`+`/`-` stay visible as text so the diff reads without colour.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style

from airlock.review.models import Decision, Hunk
from tui.widgets.diff_highlight import TAB_SIZE, LineHighlighter
from tui.widgets.diff_model import DiffModel
from tui.widgets.diff_rows import Cell, LineRow, Row, TextRow, build_rows, hunk_spans, note_rows

LINE_CLASSES = {"+": "diff-view--added", "-": "diff-view--removed"}
MARKER = "▌"


class DiffView(ScrollView, can_focus=True):
    """Shows a `DiffModel`; `current_hunk` is the hunk that review actions apply to."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--gutter",
        "diff-view--added",
        "diff-view--removed",
        "diff-view--filler",
        "diff-view--hunk",
        "diff-view--hunk-focus",
        "diff-view--marker",
        "diff-view--titles",
        "diff-view--info",
        "diff-view--warn",
        "diff-view--error",
        "diff-view--approved",
        "diff-view--pending",
        "diff-view--conflict",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="diff-view.down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="diff-view.up"),
    ]

    split: reactive[bool] = reactive(False)
    """Side by side (True) or unified (False)."""
    current_hunk: reactive[int | None] = reactive(None)
    """The index of the hunk in focus (None when the file has no hunks)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._model: DiffModel | None = None
        self._notes: list[Row] = []  # the model's notes, wrapped to the width
        self._rows: list[Row] = []  # the hunks' rows, below the notes
        self._rows_key: tuple[str, bool] | None = None
        self._spans: dict[int, tuple[int, int]] = {}
        self._hunks: dict[int, Hunk] = {}
        self._highlighter = LineHighlighter("")
        self._number_width = 3
        self._longest = 0
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)

    @property
    def model(self) -> DiffModel | None:
        """What is shown."""
        return self._model

    @property
    def lines(self) -> list[str]:
        """The rows in view as plain text (what the user reads)."""
        return [self.render_line(y).text for y in range(self.scrollable_content_region.height)]

    def show(self, model: DiffModel | None, hunk: int | None = None) -> None:
        """Show `model`; `hunk` (-1: the last) comes into focus, else the focus is kept."""
        previous = self._model
        same = (
            previous is not None
            and model is not None
            and (previous.path, previous.comparison) == (model.path, model.comparison)
        )
        if model is not None and (previous is None or previous.path != model.path):
            self._highlighter = LineHighlighter(model.path)
        self._model = model
        self._rebuild()
        if not same:
            self.scroll_to(0, 0, animate=False, immediate=True)
        wanted = hunk if hunk is not None else (self.current_hunk if same else 0)
        self.current_hunk = self._clamp(wanted)
        if hunk is not None:
            self._scroll_to_hunk()

    def next_hunk(self, step: int = 1) -> bool:
        """Focus the next (`step` 1) or previous (-1) hunk; False when there is none."""
        order = list(self._hunks)
        if self.current_hunk is None or self.current_hunk not in order:
            return False
        position = order.index(self.current_hunk) + step
        if not 0 <= position < len(order):
            return False
        self.current_hunk = order[position]
        self._scroll_to_hunk()
        return True

    # -- state -------------------------------------------------------------------

    @property
    def _side_by_side(self) -> bool:
        return self.split or (self._model is not None and self._model.comparison)

    def _clamp(self, wanted: int | None) -> int | None:
        order = list(self._hunks)
        if not order or wanted is None or (self._model and self._model.comparison):
            return None
        if wanted < 0:
            return order[-1]
        return next((index for index in order if index >= wanted), order[-1])

    def _rebuild(self) -> None:
        model = self._model
        split = self._side_by_side
        key = (model.content, split) if model and model.content else None
        if key is None or key != self._rows_key:
            self._rows = build_rows(model, split) if model else []
            self._spans = hunk_spans(self._rows)
        self._rows_key = key
        self._hunks = {hunk.index: hunk for hunk in model.hunks} if model else {}
        ends = [
            max(h.old_start + h.old_count, h.new_start + h.new_count) for h in self._hunks.values()
        ]
        self._number_width = max(3, len(str(max(ends, default=0))))
        texts = (text for hunk in self._hunks.values() for _, text in hunk.lines)
        self._longest = max(map(_cells, texts), default=0)
        self._update_size()
        self._update_titles()

    def _update_size(self) -> None:
        width = self.scrollable_content_region.width
        self._notes = note_rows(self._model.notes, width - 2) if self._model else []
        extra = max(0, self._longest - self._text_width(width))
        self.virtual_size = Size(width + extra, len(self._notes) + len(self._rows))
        self._strips.clear()
        self.refresh()

    def _update_titles(self) -> None:
        model = self._model
        self.border_title = Content(model.title) if model else None
        if model is None or not model.path or model.comparison:
            self.border_subtitle = Content("host vs proposal" if model and model.path else "")
            return
        layout = "side by side" if self.split else "unified"
        order = list(self._hunks)
        current = self.current_hunk
        where = f"hunk {order.index(current) + 1}/{len(order)}" if current in order else "no hunks"
        self.border_subtitle = Content(f"{where} · {layout}")

    def _span(self, hunk: int | None) -> tuple[int, int] | None:
        """The first and last line of a hunk on screen (below the notes)."""
        span = self._spans.get(hunk) if hunk is not None else None
        return None if span is None else (span[0] + len(self._notes), span[1] + len(self._notes))

    def _row(self, y: int) -> Row | None:
        if y < len(self._notes):
            return self._notes[y]
        y -= len(self._notes)
        return self._rows[y] if y < len(self._rows) else None

    def _scroll_to_hunk(self) -> None:
        span = self._span(self.current_hunk)
        if span is None:
            return
        first, last = span
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        if first - 1 < top or last >= top + height:
            self.scroll_to(y=max(0, first - 1), animate=False, immediate=True)

    def _follow_viewport(self) -> None:
        """Keep the hunk in focus on screen: scrolling away focuses the first hunk in view."""
        top = round(self.scroll_y) - len(self._notes)  # in rows of hunks
        bottom = top + self.scrollable_content_region.height - 1
        current = self._spans.get(self.current_hunk) if self.current_hunk is not None else None
        if current is None or (current[1] >= top and current[0] <= bottom):
            return
        for index, (first, last) in self._spans.items():
            if last >= top and first <= bottom:
                self.current_hunk = index
                return

    # -- reactions ---------------------------------------------------------------

    def watch_split(self) -> None:
        self._rebuild()
        self._scroll_to_hunk()

    def watch_current_hunk(self) -> None:
        self._strips.clear()
        self._update_titles()
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow_viewport()

    def on_resize(self, event: events.Resize) -> None:
        self._update_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = self._row(round(self.scroll_y) + offset.y)
        if row is not None and row.hunk in self._hunks:
            self.current_hunk = row.hunk

    # -- drawing -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        key = (index, scroll_x, width)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        base = self.get_visual_style().rich_style
        row = self._row(index)
        if row is None:
            return Strip.blank(width, base)
        if isinstance(row, LineRow):
            strip = self._line_row(row, width, scroll_x)
        else:
            strip = self._text_row(row, width)
        strip = strip.crop_extend(0, width, base)
        self._strips[key] = strip
        return strip

    def _style(self, *names: str | None) -> Style:
        return self.get_visual_style(*(name for name in names if name))

    def _piece(self, text: str, style: Style) -> Strip:
        return Strip([Segment(text, style.rich_style)], cell_len(text))

    def _marker(self, hunk: int | None) -> Strip:
        if hunk is not None and hunk == self.current_hunk:
            return self._piece(MARKER, self._style("diff-view--marker"))
        return self._piece(" ", self._style())

    def _text_width(self, width: int) -> int:
        if self._side_by_side:
            return (width - 2) // 2 - self._number_width - 3
        return width - 2 * self._number_width - 5

    def _line_row(self, row: LineRow, width: int, scroll_x: int) -> Strip:
        focus = "diff-view--hunk-focus" if row.hunk == self.current_hunk else None
        if self._side_by_side:
            left = (width - 2) // 2
            sides = [
                self._side(row.old, focus, left, scroll_x),
                self._piece("│", self._style("diff-view--gutter")),
                self._side(row.new, focus, width - 2 - left, scroll_x),
            ]
            return Strip.join([self._marker(row.hunk), *sides])
        cell = row.new or row.old
        assert cell is not None
        op = "+" if row.old is None else "-" if row.new is None else " "
        area = LINE_CLASSES.get(op, focus)
        n = self._number_width
        old = f"{row.old.number:>{n}}" if row.old else " " * n
        new = f"{row.new.number:>{n}}" if row.new else " " * n
        gutter = self._piece(f"{old} {new} {op} ", self._style(area, "diff-view--gutter"))
        text = self._text(cell.text, self._style(area), self._text_width(width), scroll_x)
        return Strip.join([self._marker(row.hunk), gutter, text])

    def _side(self, cell: Cell | None, focus: str | None, width: int, scroll_x: int) -> Strip:
        if cell is None:
            return self._piece(" " * width, self._style("diff-view--filler"))
        area = LINE_CLASSES.get(cell.op, focus)
        n = self._number_width
        gutter = self._piece(
            f"{cell.number:>{n}} {cell.op} ", self._style(area, "diff-view--gutter")
        )
        return Strip.join(
            [gutter, self._text(cell.text, self._style(area), width - n - 3, scroll_x)]
        )

    def _text(self, text: str, style: Style, width: int, scroll_x: int) -> Strip:
        segments = self._highlighter.line(text).render_segments(style)
        return Strip(segments).crop_extend(scroll_x, scroll_x + max(0, width), style.rich_style)

    def _text_row(self, row: TextRow, width: int) -> Strip:
        if row.kind == "hunk":
            return self._hunk_row(row, width)
        if row.kind == "titles":
            left = (width - 2) // 2
            style = self._style("diff-view--titles")
            titles = f" {row.text:<{left - 1}}│ {row.right}"
            return Strip.join([self._marker(None), self._piece(titles, style)])
        kind = "gutter" if row.kind == "eof" else row.kind
        return Strip.join(
            [self._marker(row.hunk), self._piece(row.text, self._style(f"diff-view--{kind}"))]
        )

    def _hunk_row(self, row: TextRow, width: int) -> Strip:
        area = "diff-view--hunk-focus" if row.hunk == self.current_hunk else "diff-view--hunk"
        hunk = self._hunks[row.hunk] if row.hunk is not None else None
        conflict = self._model is not None and row.hunk in self._model.conflicts
        if conflict:
            mark, mark_class = "! conflict at the last sync", "diff-view--conflict"
        elif hunk is not None and hunk.decision is Decision.APPROVED:
            mark, mark_class = "✓ approved", "diff-view--approved"
        else:
            mark, mark_class = "· pending", "diff-view--pending"
        header = self._piece(f" {row.text}  ", self._style(area))
        fill = self._piece(" " * width, self._style(area))
        return Strip.join(
            [self._marker(row.hunk), header, self._piece(mark, self._style(area, mark_class)), fill]
        )


def _cells(text: str) -> int:
    """At least the cells a line takes on screen (cheap: most lines are ASCII)."""
    width = len(text) if text.isascii() else cell_len(text)
    return width + text.count("\t") * (TAB_SIZE - 1)
