"""Every action has a key: the help screen lists it, the palette runs it, the keymap remaps it."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable

from airlock.config import load_config, save_config
from tests.tui_support import SIZE, app_for, make_project, type_text, wait_until, workspace
from tui.screens.help import HelpScreen
from tui.screens.network import NetworkScreen
from tui.screens.vms import VMScreen


def help_rows(screen: HelpScreen) -> list[tuple[str, str, str]]:
    table = screen.query_one(DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]  # type: ignore[misc]


async def test_help_lists_the_workspace_keys_with_their_keymap_ids(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    async with app_for(project).run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        screen = pilot.app.screen
        assert isinstance(screen, HelpScreen)
        rows = help_rows(screen)
        for row in [
            ("⏎", "Send", "prompt.send"),
            ("^j", "New line", "prompt.newline"),
            ("esc", "Interrupt", "workspace.interrupt"),
            ("^r", "Review", "app.review"),
            ("^o", "Projects", "app.projects"),
            ("^l", "VMs", "app.vms"),
            ("^n", "Network", "app.network"),
            ("^s", "Sessions", "app.sessions"),
            ("f2", "MCP", "app.mcp"),
            ("^q", "Quit", "app.quit"),
            ("^p", "Commands", "app.commands"),
        ]:
            assert row in rows
        assert not any(row[2] == "app.allow-once" for row in rows)  # only while a question waits
        await pilot.press("escape")
        assert pilot.app.screen is workspace(pilot)


async def test_the_keymap_in_the_config_remaps_actions(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    config = load_config()
    config.keymap = {"app.vms": "f9", "workspace.interrupt": "ctrl+backslash"}
    save_config(config)
    async with app_for(project).run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")
        assert pilot.app.screen is workspace(pilot)
        await pilot.press("f9")
        assert isinstance(pilot.app.screen, VMScreen)
        await pilot.press("escape", "f1")
        rows = help_rows(pilot.app.screen)  # type: ignore[arg-type]
        assert ("f9", "VMs", "app.vms") in rows
        assert ("^\\", "Interrupt", "workspace.interrupt") in rows


async def test_the_command_palette_runs_any_action(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"a.txt": "a\n"})
    async with app_for(project).run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(pilot.app.screen, CommandPalette)
        palette = pilot.app.screen
        await type_text(pilot, "VMs")
        await wait_until(pilot, lambda: palette.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, VMScreen))


async def test_side_screens_replace_each_other_so_one_esc_goes_back(tmp_path: Path) -> None:
    project = make_project(tmp_path, "notes", {"notes.txt": "one\n"})
    async with app_for(project).run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l", "ctrl+n", "ctrl+l", "f2", "ctrl+n")
        assert isinstance(pilot.app.screen, NetworkScreen)
        assert len(pilot.app.screen_stack) == 2
        await pilot.press("escape")
        assert pilot.app.screen is workspace(pilot)
