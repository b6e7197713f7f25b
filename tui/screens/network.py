"""The network screen (ctrl+n): the sandbox's requests, live, and the project's allowlist."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TextArea

from airlock.config import ProjectConfig, load_config
from airlock.errors import AirlockError
from airlock.events import Event, NetworkRequest
from airlock.network.allowlist import Allowlist
from airlock.network.netlog import read_network_log
from airlock.projects import find_project, update_project
from airlock.sanitize import sanitize
from tui.tables import RowTable

if TYPE_CHECKING:
    from airlock.session import Session

COLUMNS = ("Time", "Verdict", "Method", "Host", "Reason", "Up", "Down")
HINT = "One entry a line: example.com, *.example.com (subdomains), host:port. ctrl+s saves."


class NetworkScreen(Screen[None]):
    """Allowed requests in green, denied in red; the allowlist applies as soon as it is saved."""

    OPENED_BY = "network"

    CSS_PATH = "network.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="network.back"),
        Binding("ctrl+s", "save", "Save allowlist", priority=True, id="network.save"),
    ]

    def __init__(self, project: ProjectConfig, session: Session | None) -> None:
        super().__init__()
        self.project = project
        self.session = session
        self._saved = "\n".join(project.allowlist)  # the allowlist text as last saved
        self._warned = False  # esc was pressed once with unsaved edits

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield RowTable(id="requests", cursor_type="row")
            with Vertical(id="allow"):
                yield Static(HINT, classes="hint", markup=False)
                yield TextArea("\n".join(self.project.allowlist), id="allowlist")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = f"Network requests of {self.project.name}"
        table.add_columns(*COLUMNS)
        self.query_one("#allow").border_title = "Allowlist"
        self.query_one("#allowlist", TextArea).focus()  # typing edits it; tab reaches the log
        if self.session is not None:
            for event in read_network_log(self.session.dir / "network.jsonl"):
                self._show(event)
            self.session.listeners.append(self._on_event)

    def on_unmount(self) -> None:
        if self.session is not None and self._on_event in self.session.listeners:
            self.session.listeners.remove(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, NetworkRequest):
            self.call_later(self._show, event)

    def _show(self, event: NetworkRequest) -> None:
        table = self.query_one(DataTable)
        colour = self.app.theme_variables.get("net-allowed" if event.allowed else "net-denied")
        cells = [
            Text(time.strftime("%H:%M:%S", time.localtime(event.time))),
            Text("allowed" if event.allowed else "denied", style=Style(color=colour, bold=True)),
            Text(sanitize(event.method)),
            Text(sanitize(f"{event.host}:{event.port}")),
            Text(sanitize(event.reason)),
            Text(str(event.bytes_up)),
            Text(str(event.bytes_down)),
        ]
        key = event.request_id or None
        if key is not None and key in table.rows:
            for column, cell in zip(table.columns, cells, strict=True):
                table.update_cell(key, column, cell)
        else:
            table.add_row(*cells, key=key)
            table.move_cursor(row=table.row_count - 1)

    @property
    def unsaved(self) -> bool:
        """The allowlist has edits not saved yet."""
        return self.query_one("#allowlist", TextArea).text != self._saved

    def action_back(self) -> None:
        """Leave; unsaved allowlist edits need a second esc to be dropped."""
        if self.unsaved and not self._warned:
            self._warned = True
            self.notify("The allowlist has unsaved edits: ctrl+s saves, esc again drops them.")
            return
        self.app.pop_screen()

    def action_save(self) -> None:
        text = self.query_one("#allowlist", TextArea).text
        entries = [line.strip() for line in text.splitlines() if line.strip()]
        try:
            Allowlist(entries)
            registered = find_project(load_config(), self.project.name)
            if registered is not None and registered.path == self.project.path:
                update_project(registered.model_copy(update={"allowlist": entries}))
                where = "saved"
            else:
                where = "applied to this session (the folder is not a registered project)"
        except AirlockError as exc:
            self.notify(str(exc), title="Allowlist not saved", severity="error", markup=False)
            return
        self._saved, self._warned = text, False
        if self.session is not None:
            self.session.egress.set_allowlist(entries)
        else:
            self.project.allowlist = entries
        self.notify(f"allowlist {where}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
