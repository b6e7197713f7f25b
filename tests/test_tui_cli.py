"""`airlock` with no command, `airlock open DIR`, `--theme`: what the TUI is opened on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airlock.config import AirlockConfig, load_config
from airlock.projects import add_project
from tests.conftest import CliRunner
from tui.recent import remember_project
from tui.screens.workspace import Opening


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Opening | None]:
    """What the app would have been started on (the app itself is not run here)."""
    calls: list[Opening | None] = []

    def run_app(config: AirlockConfig, opening: Opening | None) -> int:
        calls.append(opening)
        return 0

    monkeypatch.setattr("airlock.commands.ui.run_app", run_app)
    return calls


def test_no_command_and_no_history_opens_the_project_switcher(
    cli: CliRunner, opened: list[Any]
) -> None:
    assert cli().code == 0
    assert opened == [None]


def test_no_command_reopens_the_last_project(
    cli: CliRunner, opened: list[Opening | None], tmp_path: Path
) -> None:
    (tmp_path / "notes").mkdir()
    project = add_project(tmp_path / "notes")
    remember_project(project.path)
    assert cli().code == 0
    assert opened[0] is not None and opened[0].project == project


def test_a_vanished_last_project_falls_back_to_the_switcher(
    cli: CliRunner, opened: list[Any], tmp_path: Path
) -> None:
    (tmp_path / "gone").mkdir()
    remember_project(tmp_path / "gone")
    shutil.rmtree(tmp_path / "gone")
    assert cli().code == 0
    assert opened == [None]


def test_open_takes_any_folder_without_registering_it(
    cli: CliRunner, opened: list[Opening | None], tmp_path: Path
) -> None:
    (tmp_path / "scratch").mkdir()
    assert cli("open", tmp_path / "scratch", "--sandbox", "bwrap").code == 0
    opening = opened[0]
    assert opening is not None
    assert (opening.project.name, opening.project.path) == ("scratch", tmp_path / "scratch")
    assert opening.sandbox == "bwrap"
    assert load_config().projects == []


def test_open_a_missing_folder_is_one_clear_line(cli: CliRunner, opened: list[Any]) -> None:
    result = cli("open", "/no/such/folder")
    assert (result.code, result.err) == (1, "airlock: no such folder: /no/such/folder\n")
    assert opened == []


def test_theme_is_checked_and_remembered(cli: CliRunner, opened: list[Any]) -> None:
    result = cli("--theme", "no-such-theme")
    assert result.code == 2
    assert "unknown theme 'no-such-theme'" in result.err
    assert "airlock-light" in result.err and "nord" in result.err
    assert opened == []
    assert cli("--theme", "airlock-light").code == 0
    assert load_config().theme == "airlock-light"


def test_help_never_imports_textual_nor_the_sdk() -> None:
    """The engine stays UI-free, and `airlock --help` fast: no Textual, no anthropic SDK."""
    code = (
        "import sys, contextlib, io\n"
        "from airlock.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print('textual' in sys.modules, 'anthropic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "False False\n", result.stderr


def test_the_app_module_leaves_the_sdk_to_a_background_load() -> None:
    """The first frame does not wait for the engine: `tui.app` imports no anthropic SDK."""
    code = (
        "import sys, tui.app\nprint('anthropic' in sys.modules, 'airlock.session' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "False False\n", result.stderr


def test_without_a_terminal_the_app_refuses_instead_of_spinning(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    for argv in (["open", str(tmp_path / "proj")], ["demo", str(tmp_path / "demo")], []):
        result = subprocess.run(
            [sys.executable, "-m", "airlock", *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, argv
        assert "needs a terminal" in result.stderr
    assert not (tmp_path / "demo").exists()  # refused before the demo folder was made
