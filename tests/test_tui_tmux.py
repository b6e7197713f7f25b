"""The installed `airlock demo` in a real terminal (tmux), driven only by keys."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

AIRLOCK = Path(sys.executable).parent / "airlock"
DEADLINE = 90.0  # a hang guard for the whole scripted demo, not a timing assertion

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux session on a private server, 120x40."""

    def __init__(self, command: list[str]) -> None:
        self.socket = f"airlock-test-{uuid.uuid4().hex[:8]}"
        # Textual believes COLUMNS/LINES over the terminal: let it measure the pane.
        line = " ".join(_quote(part) for part in ["env", "-u", "COLUMNS", "-u", "LINES", *command])
        self.tmux("new-session", "-d", "-x", "120", "-y", "40", f"{line}; echo EXITED=$?; sleep 60")
        self.socket_path = Path(self.tmux("display", "-p", "#{socket_path}").strip())

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", key)
            time.sleep(0.3)  # an Escape followed at once by a key would read as alt+key

    def wait_for(self, condition: Callable[[str], bool]) -> str:
        end = time.monotonic() + DEADLINE
        while True:
            text = self.screen()
            if condition(text):
                return text
            assert time.monotonic() < end, f"the screen never showed it; last screen:\n{text}"
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        self.socket_path.unlink(missing_ok=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def terminal_factory() -> Iterator[Callable[[list[str]], Terminal]]:
    made: list[Terminal] = []

    def make(command: list[str]) -> Terminal:
        made.append(Terminal(command))
        return made[-1]

    yield make
    for terminal in made:
        terminal.close()


def test_demo_review_approve_all_sync_from_the_keyboard(
    tmp_path: Path, terminal_factory: Callable[[list[str]], Terminal]
) -> None:
    folder = tmp_path / "demo"
    term = terminal_factory([str(AIRLOCK), "demo", str(folder)])
    term.wait_for(lambda s: "demo-model (scripted)" in s and "pending" in s and "idle" in s)
    assert not (folder / "REPORT.md").exists()  # the agent's work waits for review

    term.keys("C-r")
    term.wait_for(lambda s: "Changes " in s)
    term.keys("A")
    term.wait_for(lambda s: "Approved" in s)
    term.keys("s")
    term.wait_for(lambda s: "syncs" in s)
    term.keys("y")
    term.wait_for(lambda s: "Synced" in s)
    assert "# March 2026 — folder report" in (folder / "REPORT.md").read_text()
    assert "[x] sort out expenses" in (folder / "notes" / "todo.txt").read_text()
    assert not (folder / "todo.txt").exists()

    term.keys("Escape", "C-q")
    text = term.wait_for(lambda s: "EXITED=" in s)
    assert "EXITED=0" in text and f"demo folder: {folder}" in text
