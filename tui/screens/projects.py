"""The project switcher (ctrl+o): every project, fuzzy-filtered; add and edit from here."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from airlock.config import ProjectConfig, load_config
from airlock.errors import AirlockError
from airlock.projects import add_project
from tui.screens.directory_picker import DirectoryPicker
from tui.screens.project_editor import ProjectEditor

NO_PROJECTS = (
    "No projects yet. Press [b]n[/] to add a folder, "
    "or quit and run [b]airlock demo[/] to try a sample first."
)


class ProjectSwitcher(ModalScreen[ProjectConfig | None]):
    """Dismisses with the project to open, or None."""

    OPENED_BY = "projects"

    CSS_PATH = "projects.tcss"
    AUTO_FOCUS = "OptionList"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="projects.close"),
        Binding("slash", "filter", "Filter", id="projects.filter"),
        Binding("n", "add", "Add folder", id="projects.add"),
        Binding("e", "edit", "Edit", id="projects.edit"),
        Binding("down", "move(1)", "Next", show=False, id="projects.next"),
        Binding("up", "move(-1)", "Previous", show=False, id="projects.previous"),
    ]

    def __init__(self, open_projects: list[ProjectConfig], current: ProjectConfig | None) -> None:
        super().__init__()
        self.open_paths = {project.path for project in open_projects}
        self.open_projects = open_projects
        self.current = current
        self.projects: list[ProjectConfig] = []
        self.registered: set[Path] = set()

    def compose(self) -> ComposeResult:
        with Vertical(id="switcher"):
            yield Static(NO_PROJECTS, id="empty")
            yield Input(placeholder="/ filters by name or folder", id="filter")
            yield OptionList(id="projects")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#switcher").border_title = "Projects"
        self.reload(self.current.path if self.current else None)

    def reload(self, highlight: Path | None = None) -> None:
        """Read the registered projects again (plus the open unregistered ones) and refill."""
        try:
            registered = load_config().projects
        except AirlockError as exc:
            self.notify(str(exc), severity="error", markup=False)
            registered = []
        self.registered = {project.path for project in registered}
        extra = [project for project in self.open_projects if project.path not in self.registered]
        self.projects = [*registered, *extra]
        self.query_one("#empty").display = not self.projects
        self._fill(highlight)

    def _fill(self, highlight: Path | None = None) -> None:
        query = self.query_one("#filter", Input).value.strip()
        matcher = Matcher(query) if query else None
        scored = [
            (max(matcher.match(project.name), matcher.match(str(project.path))), project)
            if matcher
            else (1.0, project)
            for project in self.projects
        ]
        shown = [project for score, project in sorted(scored, key=lambda s: -s[0]) if score > 0]
        options = self.query_one(OptionList)
        options.set_options(
            Option(self._prompt(project), id=str(project.path)) for project in shown
        )
        if shown:
            wanted = str(highlight) if highlight and highlight in {p.path for p in shown} else None
            options.highlighted = options.get_option_index(wanted) if wanted else 0

    def _prompt(self, project: ProjectConfig) -> Content:
        notes = []
        if project.path in self.open_paths:
            notes.append("open")
        if project.path not in self.registered:
            notes.append("not registered")
        return Content.assemble(
            (project.name, "bold"),
            "  ",
            (str(project.path), "$text-muted"),
            ("  (" + ", ".join(notes) + ")" if notes else "", "italic $text-accent"),
        )

    def _highlighted(self) -> ProjectConfig | None:
        option = self.query_one(OptionList).highlighted_option
        if option is None:
            return None
        return next((p for p in self.projects if str(p.path) == option.id), None)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#filter")
    @on(OptionList.OptionSelected)
    def _chosen(self) -> None:
        project = self._highlighted()
        if project is not None:
            self.dismiss(project)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = ((options.highlighted or 0) + step) % options.option_count

    def action_add(self) -> None:
        self.app.push_screen(DirectoryPicker(Path.home()), self._add_folder)

    def _add_folder(self, folder: Path | None) -> None:
        if folder is None:
            return
        try:
            project = add_project(folder)
        except AirlockError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"added {project.name}: enter opens it", markup=False)
        self.reload(project.path)

    def action_edit(self) -> None:
        project = self._highlighted()
        if project is not None:
            self.app.push_screen(ProjectEditor(project), lambda _: self.reload(project.path))
