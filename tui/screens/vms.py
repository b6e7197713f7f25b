"""The VM screen (ctrl+l): Lima instances, lazydocker-style, with start progress and a shell."""

from __future__ import annotations

import subprocess

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Log, ProgressBar, Static

from lima.errors import LimactlNotFound, LimaError
from lima.limactl import Limactl
from lima.models import Instance, format_bytes
from lima.progress import PHASES, StartProgress
from tui.screens.confirm import ConfirmScreen
from tui.tables import RowTable, cursor_key, status_text

REFRESH_SECONDS = 5.0
NO_LIMA = "Without Lima, Airlock sandboxes projects with bubblewrap (Linux only)."
COLUMNS = ("Name", "Status", "VM type", "Arch", "CPUs", "Memory", "Disk", "Dir")
STATUS_COLOURS = {"Running": "success", "Broken": "error"}
INSTANCE_ACTIONS = {"start", "stop", "restart", "delete", "shell"}


class VMScreen(Screen[None]):
    """The instances `limactl list --json` reports, refreshed every few seconds."""

    OPENED_BY = "vms"

    CSS_PATH = "vms.tcss"
    AUTO_FOCUS = "DataTable"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="vms.back"),
        Binding("s", "start", "Start", id="vms.start"),
        Binding("x", "stop", "Stop", id="vms.stop"),
        Binding("r", "restart", "Restart", id="vms.restart"),
        Binding("d", "delete", "Delete", id="vms.delete"),
        Binding("e", "shell", "Shell", id="vms.shell"),
        Binding("f5", "reload", "Refresh", id="vms.refresh"),
    ]

    def __init__(self, limactl: Limactl | None = None) -> None:
        super().__init__()
        self.limactl = limactl or Limactl()
        self.instances: dict[str, Instance] = {}
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Static(id="missing", markup=False)
        yield RowTable(id="instances", cursor_type="row", zebra_stripes=True)
        with Vertical(id="starting"):
            yield ProgressBar(total=len(PHASES), show_eta=False, id="progress")
            yield Log(max_lines=200, id="start-log")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.border_title = "Lima VMs"
        table.add_columns(*COLUMNS)
        self.query_one("#missing").display = False
        self.query_one("#starting").display = False
        self.action_reload()
        self.set_interval(REFRESH_SECONDS, self.action_reload)

    @work(exclusive=True, group="list")
    async def action_reload(self) -> None:
        try:
            instances = await self.limactl.instances()
        except LimactlNotFound as exc:
            self._missing(str(exc))
            return
        except LimaError as exc:
            self.notify(str(exc), title="limactl list", severity="error", markup=False)
            return
        self._show(instances)

    def _missing(self, message: str) -> None:
        missing = self.query_one("#missing", Static)
        missing.update(f"{message}\n\n{NO_LIMA}")
        missing.border_title = "Lima VMs"
        missing.display = True
        self.query_one(DataTable).display = False
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Without Lima only refresh and back are offered."""
        return not (action in INSTANCE_ACTIONS and self.query_one("#missing").display)

    def _show(self, instances: list[Instance]) -> None:
        table = self.query_one(DataTable)
        selected = cursor_key(table)
        self.instances = {instance.name: instance for instance in instances}
        table.clear()
        for item in instances:
            cells = [item.vm_type, item.arch, str(item.cpus), format_bytes(item.memory)]
            cells += [format_bytes(item.disk), item.dir]
            table.add_row(
                Text(item.name), self._status(item.status), *map(Text, cells), key=item.name
            )
        if selected in self.instances:
            table.move_cursor(row=table.get_row_index(selected))
        if not instances:
            table.border_subtitle = "no instances yet: a project's first session creates one"
        else:
            table.border_subtitle = ""

    def _status(self, status: str) -> Text:
        return status_text(self.app, status or "?", STATUS_COLOURS)

    def _selected(self) -> Instance | None:
        name = cursor_key(self.query_one(DataTable))
        if self.busy:
            self.notify("Wait for the current operation to finish.")
            return None
        if name is None:
            self.notify("No VM yet: a project's first session in a Lima sandbox creates one.")
            return None
        return self.instances.get(name)

    # -- actions ---------------------------------------------------------------

    def action_start(self) -> None:
        if instance := self._selected():
            self._run(instance.name, start=True)

    def action_stop(self) -> None:
        if instance := self._selected():
            self._run(instance.name, stop=True)

    def action_restart(self) -> None:
        if instance := self._selected():
            self._run(instance.name, stop=instance.running, start=True)

    def action_delete(self) -> None:
        instance = self._selected()
        if instance is None:
            return
        running = " It is running: it will be stopped first." if instance.running else ""
        question = (
            f"Delete {instance.name} and its disk?{running} Project folders are not touched, "
            "but changes its sessions proposed and you have not synced are lost."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(instance.name, delete=True)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="operation")
    async def _run(
        self, name: str, *, start: bool = False, stop: bool = False, delete: bool = False
    ) -> None:
        self.busy = True
        try:
            if stop:
                self.notify(f"stopping {name}…", markup=False)
                await self.limactl.stop(name)
            if delete:
                await self.limactl.delete(name, force=True)
                self.notify(f"deleted {name}", markup=False)
            if start:
                await self._start(name)
        except LimaError as exc:
            self.notify(str(exc), title=name, severity="error", timeout=15, markup=False)
        finally:
            self.busy = False
            self.query_one("#starting").display = False
            self.action_reload()

    async def _start(self, name: str) -> None:
        bar = self.query_one(ProgressBar)
        log = self.query_one("#start-log", Log)
        bar.update(progress=0)
        log.clear()
        box = self.query_one("#starting")
        box.border_title = f"starting {name}"
        box.display = True

        def progress(event: StartProgress) -> None:
            bar.update(progress=event.step if event.ok is not False else bar.progress)
            log.write_line(event.line())

        await self.limactl.start(name, on_progress=progress)
        self.notify(f"{name} is running", markup=False)

    def action_shell(self) -> None:
        """Hand the terminal to `limactl shell`; the app comes back when the shell exits."""
        instance = self._selected()
        if instance is None:
            return
        if not instance.running:
            self.notify(f"{instance.name} is not running: press s to start it", markup=False)
            return
        workdir = "/workspace" if instance.name.startswith("airlock-") else None
        try:
            argv = [self.limactl.path(), *self.limactl.shell_args(instance.name, workdir=workdir)]
            with self.app.suspend():
                subprocess.call(argv)
        except (LimaError, SuspendNotSupported, OSError) as exc:
            self.notify(f"cannot open a shell: {exc}", severity="error", markup=False)
