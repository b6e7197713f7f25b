"""Pick a folder to add as a project: browse a tree of folders, or type a path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Input, Static

HINT = "type a path and press enter · or tab to the folders: space opens one, enter picks it"


class FolderTree(DirectoryTree):
    """Folders only, hidden ones left out."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if path.is_dir() and not path.name.startswith(".")]


class DirectoryPicker(ModalScreen[Path | None]):
    """Dismisses with the chosen folder, or None."""

    CSS_PATH = "directory_picker.tcss"
    AUTO_FOCUS = "#path"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="picker.cancel")]

    def __init__(self, start: Path) -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Input(str(self.start), id="path")
            tree = FolderTree(self.start)
            tree.auto_expand = False
            yield tree
            yield Static(HINT, classes="hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#picker").border_title = "Add a project folder"
        self.query_one(FolderTree).root.expand()

    @on(DirectoryTree.NodeHighlighted)
    def _highlighted(self, event: DirectoryTree.NodeHighlighted[object]) -> None:
        node_path = getattr(event.node.data, "path", None)
        if isinstance(node_path, Path):
            self.query_one("#path", Input).value = str(node_path)

    @on(DirectoryTree.DirectorySelected)
    def _picked(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        self.dismiss(event.path)

    @on(Input.Submitted, "#path")
    def _typed(self, event: Input.Submitted) -> None:
        path = Path(event.value).expanduser()
        if path.is_dir():
            self.dismiss(path.resolve())
        else:
            self.notify(f"not a folder: {path}", severity="error", markup=False)
