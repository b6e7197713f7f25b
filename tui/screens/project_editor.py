"""Edit a project's custom instructions and its memory file (AIRLOCK.md)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from airlock.config import ProjectConfig, load_config
from airlock.errors import AirlockError
from airlock.memory import read_memory, write_memory
from airlock.projects import find_project, update_project

UNREGISTERED = "(this folder is not a registered project: add it with n in the list first)"


class ProjectEditor(ModalScreen[ProjectConfig | None]):
    """ctrl+s saves both texts; esc leaves without saving."""

    CSS_PATH = "project_editor.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="editor.save"),
        Binding("escape", "dismiss(None)", "Cancel", id="editor.cancel"),
    ]

    class Saved(Message):
        """The project's instructions (and memory) were saved."""

        def __init__(self, project: ProjectConfig) -> None:
            super().__init__()
            self.project = project

    def __init__(self, project: ProjectConfig) -> None:
        super().__init__()
        self.project = project
        self.registered = _registered(project)

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"), Horizontal():
            with Vertical(classes="pane"):
                yield Static("Instructions (sent with every prompt)", classes="title")
                yield TextArea(
                    self.project.instructions if self.registered else UNREGISTERED,
                    id="instructions",
                    soft_wrap=True,
                    read_only=not self.registered,
                )
            with Vertical(classes="pane"):
                yield Static("Memory (AIRLOCK.md; the agent adds to it)", classes="title")
                yield TextArea(read_memory(self.project), id="memory", soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#editor").border_title = f"Project {self.project.name}"

    def action_save(self) -> None:
        project = self.project
        try:
            if self.registered:
                instructions = self.query_one("#instructions", TextArea).text
                project = project.model_copy(update={"instructions": instructions})
                update_project(project)
            write_memory(project, self.query_one("#memory", TextArea).text)
        except (AirlockError, OSError) as exc:
            self.notify(f"not saved: {exc}", severity="error", markup=False)
            return
        self.app.post_message(self.Saved(project))
        self.notify(f"saved {project.name}", markup=False)
        self.dismiss(project)


def _registered(project: ProjectConfig) -> bool:
    try:
        found = find_project(load_config(), project.name)
    except AirlockError:
        return False
    return found is not None and found.path == project.path
