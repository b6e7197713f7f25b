"""The sessions screen (ctrl+s): the project's sessions, newest first; open or delete one."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from airlock.config import ProjectConfig
from airlock.errors import AirlockError
from airlock.sanitize import sanitize
from airlock.sessions import SessionRecord, delete_session, list_records
from tui.screens.confirm import ConfirmScreen
from tui.tables import RowTable, cursor_key, status_text
from tui.task_news import seen_ids

COLUMNS = ("", "Started", "Status", "Pending", "Task", "First prompt")
TITLE_SHOWN = 60  # characters of the first prompt
STATUS_COLOURS = {"running": "warning", "error": "error", "idle": "success"}
HINT = (
    "Enter opens a session in the workspace (the one open there is closed; a turn still "
    "running must end first). Scheduled tasks run in sessions of their own: open one to "
    "review what it proposes."
)


class SessionsScreen(Screen[str | None]):
    """Dismisses with the id of the session to open in the workspace, or None."""

    OPENED_BY = "sessions"

    CSS_PATH = "sessions.tcss"
    AUTO_FOCUS = "DataTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True, id="sessions.open"),
        Binding("d", "delete", "Delete", id="sessions.delete"),
        Binding("escape", "dismiss(None)", "Back", id="sessions.back"),
    ]

    def __init__(self, project: ProjectConfig, current: str | None) -> None:
        """`current` is the session open in the workspace."""
        super().__init__()
        self.project = project
        self.current = current
        self.records: dict[str, SessionRecord] = {}

    def compose(self) -> ComposeResult:
        yield RowTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static(HINT, id="sessions-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = f"Sessions of {self.project.name}"
        table.add_columns(*COLUMNS)
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the project's sessions again, keeping the selected one selected."""
        table = self.query_one(DataTable)
        selected = cursor_key(table) or self.current
        self.records = {record.id: record for record in list_records(self.project)}
        seen = seen_ids()
        table.clear()
        for record in self.records.values():
            table.add_row(*self._cells(record, record.id in seen), key=record.id)
        if selected in self.records:
            table.move_cursor(row=table.get_row_index(selected))
        table.border_subtitle = "" if self.records else "no sessions yet: send a prompt"

    def _cells(self, record: SessionRecord, seen: bool) -> list[Text]:
        task = record.task or ""
        if task and record.pending and not seen:
            task += " (new)"
        title = " ".join(sanitize(record.title).split()) or "(no prompt yet)"
        if len(title) > TITLE_SHOWN:
            title = title[: TITLE_SHOWN - 1] + "…"
        return [
            Text("▶" if record.id == self.current else ""),
            Text(started(record)),
            status_text(self.app, record.status, STATUS_COLOURS),
            Text(str(record.pending) if record.pending else "–", justify="right"),
            Text(task, style=Style(bold=True)),
            Text(title),
        ]

    def _selected(self) -> SessionRecord | None:
        return self.records.get(cursor_key(self.query_one(DataTable)) or "")

    def action_open(self) -> None:
        record = self._selected()
        if record is None:
            return
        if record.status == "running" and record.id != self.current:
            self.notify(f"{describe(record)} is still running: open it once it ends", markup=False)
            return
        self.dismiss(record.id)

    def action_delete(self) -> None:
        record = self._selected()
        if record is None:
            return
        if record.id == self.current:
            self.notify("This session is open in the workspace: open another one first")
            return
        question = f"Delete {describe(record)}? Its pending changes are lost for good."
        self.app.push_screen(ConfirmScreen(question), partial(self._delete, record.id))

    def _delete(self, session_id: str, confirmed: bool | None) -> None:
        if not confirmed:
            return
        try:
            record = delete_session(self.project, session_id)
        except AirlockError as exc:
            self.notify(str(exc), severity="error", markup=False)
        else:
            self.notify(f"deleted {describe(record)}", markup=False)
        self.reload()


def started(record: SessionRecord) -> str:
    """When the session started, in local time."""
    return f"{record.created.astimezone():%Y-%m-%d %H:%M}"


def describe(record: SessionRecord) -> str:
    """A session as the user knows it: its task, and when it started."""
    what = f"task {record.task!r}" if record.task else "the session"
    return f"{what} of {started(record)}"
