"""The project switcher: welcome, fuzzy filter, switching workspaces, adding, editing."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, TextArea

from airlock.config import load_config
from airlock.demo.messages_server import Reply, Text
from airlock.memory import read_memory
from tests.scripted_api import ScriptedApi
from tests.tui_support import (
    SIZE,
    app_for,
    conversation_text,
    make_project,
    type_text,
    wait_until,
    workspace,
)
from tui.screens.directory_picker import DirectoryPicker
from tui.screens.project_editor import ProjectEditor
from tui.screens.projects import ProjectSwitcher


def shown_projects(switcher: ProjectSwitcher) -> list[str]:
    options = switcher.query_one(OptionList)
    return [
        str(options.get_option_at_index(i).prompt).split()[0] for i in range(options.option_count)
    ]


async def test_with_no_project_the_switcher_welcomes_and_n_adds_a_folder(
    airlock_home: Path,
) -> None:
    (airlock_home / "papers").mkdir()
    async with app_for(None).run_test(size=SIZE) as pilot:
        switcher = pilot.app.screen
        assert isinstance(switcher, ProjectSwitcher)
        welcome = str(switcher.query_one("#empty").render())
        assert "No projects yet. Press n to add a folder" in welcome
        await pilot.press("n")
        assert isinstance(pilot.app.screen, DirectoryPicker)
        await pilot.press("tab", "down", "enter")  # the tree starts at $HOME: its first folder
        assert pilot.app.screen is switcher
        assert shown_projects(switcher) == ["papers"]
        assert [p.name for p in load_config().projects] == ["papers"]
        await pilot.press("enter")
        assert workspace(pilot).project.path == airlock_home / "papers"


async def test_a_typed_path_in_the_picker_adds_that_folder(tmp_path: Path) -> None:
    (tmp_path / "deep" / "reports").mkdir(parents=True)
    async with app_for(None).run_test(size=SIZE) as pilot:
        await pilot.press("n")
        picker = pilot.app.screen
        picker.query_one("#path", Input).value = str(tmp_path / "deep" / "reports")
        picker.query_one("#path", Input).focus()
        await pilot.press("enter")
        assert shown_projects(pilot.app.screen) == ["reports"]  # type: ignore[arg-type]


async def test_the_filter_is_fuzzy_and_enter_switches_workspaces(tmp_path: Path) -> None:
    alpha = make_project(tmp_path, "alpha", {"a.txt": "a\n"})
    make_project(tmp_path, "beta", {"b.txt": "b\n"})
    make_project(tmp_path, "gamma", {"g.txt": "g\n"})
    async with app_for(alpha).run_test(size=SIZE) as pilot:
        first = workspace(pilot)
        await pilot.press("ctrl+o")
        switcher = pilot.app.screen
        assert isinstance(switcher, ProjectSwitcher)
        assert shown_projects(switcher) == ["alpha", "beta", "gamma"]
        await pilot.press("slash")
        await type_text(pilot, "bta")
        assert shown_projects(switcher) == ["beta"]
        await pilot.press("enter")
        assert workspace(pilot).project.name == "beta"
        assert workspace(pilot).header.project == "beta"

        await pilot.press("ctrl+o", "enter")  # the open project is highlighted first
        assert workspace(pilot).project.name == "beta"
        await pilot.press("ctrl+o", "up", "enter")
        assert workspace(pilot) is first  # the same workspace, state and all


async def test_switching_away_never_stops_a_running_task(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    alpha = make_project(tmp_path, "alpha", {"a.txt": "a\n"})
    make_project(tmp_path, "beta", {"b.txt": "b\n"})
    slow = Reply(blocks=[Text(text="alpha " * 60 + "finished.")], event_delay=0.02, chunk=20)
    scripted_api.serve([slow])
    async with app_for(alpha).run_test(size=SIZE) as pilot:
        first = workspace(pilot)
        await type_text(pilot, "work")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "alpha alpha" in conversation_text(pilot))
        await pilot.press("ctrl+o", "down", "enter")
        assert workspace(pilot).project.name == "beta"
        await wait_until(pilot, lambda: not first.working)
        await pilot.press("ctrl+o", "up", "enter")
        assert workspace(pilot) is first
        assert "finished." in conversation_text(pilot)
        assert first.header.activity == "idle"


async def test_e_edits_instructions_and_memory(tmp_path: Path) -> None:
    alpha = make_project(tmp_path, "alpha", {"a.txt": "a\n"})
    async with app_for(alpha).run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o", "e")
        editor = pilot.app.screen
        assert isinstance(editor, ProjectEditor)
        editor.query_one("#instructions", TextArea).focus()
        await type_text(pilot, "Metric.")
        editor.query_one("#memory", TextArea).focus()
        await type_text(pilot, "Tables")
        await pilot.press("ctrl+s")
        assert isinstance(pilot.app.screen, ProjectSwitcher)
        await pilot.press("escape")
        assert workspace(pilot).project.instructions == "Metric."
    assert load_config().projects[0].instructions == "Metric."
    assert read_memory(alpha) == "Tables"
