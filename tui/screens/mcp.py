"""The MCP screen (f2): the project's MCP servers, their status, live, and their tools.

A server's policy can be changed for the open session (`p`) and saved to the project's
config (`s`), like `airlock mcp set-policy`.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from airlock.config import McpPolicy, McpServerConfig, ProjectConfig, load_config
from airlock.errors import AirlockError
from airlock.events import Event, McpServerStatus
from airlock.projects import find_project, update_project
from airlock.sanitize import sanitize
from tui.tables import RowTable, cursor_key, status_text

if TYPE_CHECKING:
    from airlock.session import Session

COLUMNS = ("Server", "Transport", "Policy", "Status", "Tools", "Message")
POLICIES: tuple[McpPolicy, ...] = ("auto", "ask", "deny")
STATUS_COLOURS = {"ready": "success", "failed": "error", "starting": "warning"}
NOT_STARTED = "not started"
MESSAGE_SHOWN = 80  # characters of a status message in the table (the detail has it all)
NO_SERVERS = "No MCP servers in this project: add some with `airlock mcp import`."


class McpScreen(Screen[None]):
    """One row a server: from the config, then as the session's bridge reports it."""

    OPENED_BY = "mcp"

    CSS_PATH = "mcp.tcss"
    AUTO_FOCUS = "DataTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="mcp.back"),
        Binding("p", "cycle_policy", "Policy for this session", id="mcp.policy"),
        Binding("s", "save_policy", "Save policy", id="mcp.save"),
    ]

    def __init__(self, project: ProjectConfig, session: Session | None) -> None:
        super().__init__()
        self.project = project
        self.session = session
        self.live: dict[str, McpServerStatus] = {}
        self.saved: dict[str, McpPolicy] = {server.name: server.policy for server in project.mcp}

    def compose(self) -> ComposeResult:
        yield RowTable(id="servers", cursor_type="row", zebra_stripes=True)
        yield Static(id="server-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = f"MCP servers of {self.project.name}"
        table.add_columns(*COLUMNS)
        self.query_one("#server-detail").border_title = "Server"
        for server in self.project.mcp:
            table.add_row(*self._cells(server.name), key=server.name)
        if self.session is not None:
            for status in self.session.mcp.statuses():
                self._show(status)
            self.session.listeners.append(self._on_event)
        table.border_subtitle = "" if self.project.mcp else NO_SERVERS
        self._show_detail()

    def on_unmount(self) -> None:
        if self.session is not None and self._on_event in self.session.listeners:
            self.session.listeners.remove(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, McpServerStatus):
            self.call_later(self._show, event)

    def _show(self, status: McpServerStatus) -> None:
        self.live[status.server] = status
        self._refresh_row(status.server)

    def _refresh_row(self, name: str) -> None:
        table = self.query_one(DataTable)
        if name in table.rows:
            for column, cell in zip(table.columns, self._cells(name), strict=True):
                table.update_cell(name, column, cell, update_width=True)
        self._show_detail()

    def _config(self, name: str) -> McpServerConfig | None:
        return next((server for server in self.project.mcp if server.name == name), None)

    def _policy(self, name: str) -> McpPolicy:
        live = self.live.get(name)
        config = self._config(name)
        return live.policy if live else config.policy if config else "ask"

    def _cells(self, name: str) -> list[Text]:
        live, config = self.live.get(name), self._config(name)
        status: str
        transport: str
        if live is not None:
            status, transport = live.status, live.transport
        else:
            status = NOT_STARTED if config is None or config.enabled else "disabled"
            transport = (config.transport if config else None) or ""
        policy = self._policy(name)
        unsaved = " (not saved)" if policy != self.saved.get(name) else ""
        tools = str(len(live.tools)) if live and live.status == "ready" else "–"
        message = " ".join(sanitize(live.message).split()) if live else ""
        if len(message) > MESSAGE_SHOWN:
            message = message[: MESSAGE_SHOWN - 1] + "…"
        return [
            Text(sanitize(name), style=Style(bold=True)),
            Text(transport),
            Text(policy + unsaved),
            status_text(self.app, status, STATUS_COLOURS),
            Text(tools, justify="right"),
            Text(message),
        ]

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        """The highlighted server's command or URL, its whole message and all its tools."""
        name = cursor_key(self.query_one(DataTable))
        detail = self.query_one("#server-detail", Static)
        if name is None:
            detail.update(NO_SERVERS)
            return
        live, config = self.live.get(name), self._config(name)
        lines = [name]
        if config is not None:
            what = shlex.join([config.command, *config.args]) if config.command else config.url
            lines[0] += f": {what}"
        if live and live.message:
            lines.append(live.message)
        if live and live.tools:
            lines.append("Tools: " + ", ".join(live.tools))
        elif not live:
            lines.append("Its tools are listed once it has started (with the first prompt).")
        detail.update(Text(sanitize("\n".join(lines))))

    def action_cycle_policy(self) -> None:
        """The next policy, for this session only (servers not started yet start with it)."""
        name = cursor_key(self.query_one(DataTable))
        config = self._config(name) if name else None
        if name is None or config is None:
            return
        policy = POLICIES[(POLICIES.index(self._policy(name)) + 1) % len(POLICIES)]
        if self.session is not None and name in self.live:
            self.session.mcp.set_policy(name, policy)  # announced back as a status event
        else:
            config.policy = policy
            self._refresh_row(name)
        self.notify(f"{name}: policy {policy} for this session (s saves it)", markup=False)

    def action_save_policy(self) -> None:
        name = cursor_key(self.query_one(DataTable))
        if name is None:
            return
        policy = self._policy(name)
        try:
            registered = find_project(load_config(), self.project.name)
            if registered is None or registered.path != self.project.path:
                raise AirlockError("this folder is not a registered project: nothing to save")
            server = next((s for s in registered.mcp if s.name == name), None)
            if server is None:
                raise AirlockError(f"{name} is no longer in the project's config")
            server.policy = policy
            update_project(registered)
        except AirlockError as exc:
            self.notify(str(exc), title="Policy not saved", severity="error", markup=False)
            return
        self.saved[name] = policy
        config = self._config(name)
        if config is not None:
            config.policy = policy  # the workspace's next sessions start with it
        self._refresh_row(name)
        self.notify(f"{name}: policy {policy} saved", markup=False)
