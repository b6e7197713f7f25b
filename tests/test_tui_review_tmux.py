"""The `$EDITOR` hand-off for real: the review screen in a tmux terminal suspends for the editor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.review_support import needs_bwrap, write_tree

pytestmark = [
    needs_bwrap,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
ROOT = Path(__file__).resolve().parent.parent
PROGRAM = """\
import sys
from pathlib import Path
from tests.test_tui_review import ReviewHarness, sandbox_edits

ReviewHarness(Path(sys.argv[1]), sandbox_edits("echo proposed > b.txt")).run()
"""
# Writes only when it really has the terminal: stdin is a tty while the app is suspended.
EDITOR = """\
#!/bin/sh
[ -t 0 ] && printf 'edited in a terminal\\n' >> "$1"
"""


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    """Run tmux commands on a private server (its own socket), killed afterwards."""
    socket = f"airlock-review-{os.getpid()}"

    def run(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return done.stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_editor_runs_in_the_terminal_and_its_text_becomes_the_approved_content(
    tmp_path: Path, tmux: Callable[..., str]
) -> None:
    project = tmp_path / "project"
    write_tree(project, {"a.txt": "a\n"})
    (tmp_path / "program.py").write_text(PROGRAM)
    editor = tmp_path / "editor.sh"
    editor.write_text(EDITOR)
    editor.chmod(0o755)
    env = {**os.environ, "EDITOR": str(editor), "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    env.pop("VISUAL", None)
    options = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    command = f"{sys.executable} {tmp_path / 'program.py'} {project}"
    tmux("new-session", "-d", "-x", "120", "-y", "40", *options, command)

    def screen() -> str:
        return tmux("capture-pane", "-p")

    def sandbox_copies() -> list[str]:
        return [path.read_text() for path in Path(env["HOME"]).rglob("workspace/b.txt")]

    wait_for(lambda: "b.txt" in screen(), "the review screen")
    tmux("send-keys", "e")
    wait_for(lambda: "proposed\nedited in a terminal\n" in sandbox_copies(), "the edit")
    wait_for(lambda: "✓" in screen() and "edited in a terminal" in screen(), "the app to return")
    tmux("send-keys", "C-q")
