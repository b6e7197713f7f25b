"""The live shell log: every command the agent runs, with its output, capped and batched."""

from __future__ import annotations

from collections import deque
from typing import Self

from rich.highlighter import Highlighter
from rich.style import Style
from rich.text import Text
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Log

from airlock.events import Event, McpServerStatus, ShellOutput, Status, ToolCall, ToolResult
from airlock.sanitize import sanitize

MAX_LINES = 10_000
MAX_LINE_LENGTH = 4_096  # an unfinished line longer than this is shown as is
FLUSH_INTERVAL = 1 / 30  # at most ~30 writes a second, whatever the output rate
WRITE_RATE = 50_000  # lines a second; a flood's big batches come further apart
STDOUT, STDERR, COMMAND, OK, FAILED, NOTE = "  ", "! ", "$ ", "✓ ", "✗ ", "· "


class LineStyles(Highlighter):
    """Colours a log line by its two-character prefix (command, stderr, result, note)."""

    def __init__(self) -> None:
        self.styles: dict[str, Style] = {}

    def use_theme(self, variables: dict[str, str]) -> None:
        self.styles = {
            COMMAND: Style(color=variables.get("primary"), bold=True),
            STDERR: Style(color=variables.get("error")),
            OK: Style(color=variables.get("success"), dim=True),
            FAILED: Style(color=variables.get("warning")),
            NOTE: Style(dim=True, italic=True),
        }

    def highlight(self, text: Text) -> None:
        style = self.styles.get(text.plain[:2])
        if style is not None:
            text.stylize(style)


class ShellLog(Log):
    """A `Log` fed in batches: lines wait in a bounded buffer and are written once a frame."""

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None) -> None:
        super().__init__(highlight=True, max_lines=max_lines, id=id)
        self.highlighter = self.line_styles = LineStyles()
        # Only the newest lines wait: a flood drops what the cap would drop anyway.
        self._pending: deque[str] = deque(maxlen=max_lines)
        self._partial: dict[tuple[str, str], str] = {}
        self._flush_timer: Timer | None = None
        self._last_batch = 0

    def on_mount(self) -> None:
        self.border_title = "Shell"
        self._restyle(self.app.current_theme)
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, theme: Theme) -> None:
        self.line_styles.use_theme(theme.to_color_system().generate())
        self.refresh()

    def show(self, event: Event) -> None:
        """Take the events the log shows; others are ignored."""
        if isinstance(event, ToolCall) and event.name == "bash":
            command = sanitize(str(event.input.get("command") or "(restart the shell)"))
            first, *rest = command.splitlines() or [""]
            self._add([COMMAND + first + (" …" if rest else "")])
        elif isinstance(event, ShellOutput):
            self._output(event.call_id, event.stream, sanitize(event.text))
        elif isinstance(event, ToolResult) and event.exit_code is not None:
            self._end_of(event.call_id)
            mark = OK if event.exit_code == 0 else FAILED
            self._add([f"{mark}exit {event.exit_code} · {event.duration or 0:.1f}s"])
        elif isinstance(event, Status):
            self.note(event.message)
        elif isinstance(event, McpServerStatus) and event.status == "ready":
            self.note(f"mcp {event.server} ready: {', '.join(event.tools) or 'no tools'}")
        elif isinstance(event, McpServerStatus) and event.status == "failed":
            self.note(f"mcp {event.server} failed: {event.message}")

    def clear(self) -> Self:
        """Empty the log, with the lines still waiting to be written."""
        self._pending.clear()
        self._partial.clear()
        return super().clear()

    def note(self, message: str) -> None:
        """A line of Airlock's own (sandbox progress, errors)."""
        self._add([NOTE + line for line in sanitize(message).splitlines()])

    def _output(self, call_id: str, stream: str, text: str) -> None:
        key = (call_id, stream)
        lines = (self._partial.pop(key, "") + text).split("\n")
        if len(lines[-1]) > MAX_LINE_LENGTH:
            lines.append("")
        elif lines[-1]:
            self._partial[key] = lines[-1]
        prefix = STDERR if stream == "stderr" else STDOUT
        complete = lines[:-1][-(self.max_lines or len(lines)) :]  # the cap drops the rest
        self._add([prefix + line for line in complete])

    def _end_of(self, call_id: str) -> None:
        for stream, prefix in (("stdout", STDOUT), ("stderr", STDERR)):
            rest = self._partial.pop((call_id, stream), None)
            if rest is not None:
                self._add([prefix + rest])

    def _add(self, lines: list[str]) -> None:
        self._pending.extend(lines)
        if self._flush_timer is None:
            delay = max(FLUSH_INTERVAL, self._last_batch / WRITE_RATE)
            self._flush_timer = self.set_timer(delay, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        lines = list(self._pending)
        self._pending.clear()
        self._last_batch = len(lines)
        self.write_lines(lines)
