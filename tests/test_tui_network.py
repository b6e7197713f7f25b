"""Network questions answered from the keyboard, the live request list, the allowlist editor."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, TextArea

from airlock.config import load_config
from airlock.demo.messages_server import Reply, Text, ToolUse
from tests.scripted_api import ScriptedApi
from tests.tui_support import (
    SIZE,
    app_for,
    log_lines,
    make_project,
    toasts,
    wait_until,
    workspace,
)
from tui.screens.network import NetworkScreen

CURL = "curl -sS -m 20 -o /dev/null -w '%{http_code}\\n' http://example.invalid/"


def fetch_script() -> list[Reply]:
    return [
        Reply(blocks=[ToolUse(name="bash", input={"command": CURL})]),
        Reply(blocks=[Text(text="Fetched.")]),
    ]


async def test_a_denied_host_is_asked_about_and_ctrl_b_denies_it(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "web", {"index.html": "<p>hi</p>\n"})
    scripted_api.serve(fetch_script())
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("fetch it")
        question = "web: the sandbox wants example.invalid:80"
        await wait_until(pilot, lambda: any(question in toast for toast in toasts(pilot)))
        assert any("^g allow once · ^t always · ^b deny" in toast for toast in toasts(pilot))
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: not screen.working)
        assert "  403" in log_lines(pilot)
        await pilot.press("ctrl+b")  # nothing is asked any more: the key does nothing

        await pilot.press("ctrl+n")
        network = pilot.app.screen
        assert isinstance(network, NetworkScreen)
        table = network.query_one(DataTable)
        row = [str(cell) for cell in table.get_row_at(table.row_count - 1)]
        assert row[1:4] == ["denied", "GET", "example.invalid:80"]
        assert row[4].endswith("denied by the user")


async def test_always_adds_the_host_to_the_project_s_allowlist(
    tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = make_project(tmp_path, "web", {"index.html": "<p>hi</p>\n"})
    scripted_api.serve(fetch_script())
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        screen = workspace(pilot)
        screen.send("fetch it")
        await wait_until(pilot, lambda: any("example.invalid" in toast for toast in toasts(pilot)))
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: not screen.working)
    assert load_config().projects[0].allowlist == ["example.invalid"]


async def test_the_allowlist_is_edited_checked_and_saved(tmp_path: Path) -> None:
    project = make_project(tmp_path, "web", {"index.html": "<p>hi</p>\n"})
    async with app_for(project).run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+n")
        network = pilot.app.screen
        assert isinstance(network, NetworkScreen)
        editor = network.query_one("#allowlist", TextArea)
        editor.text = "pypi.org\nnot a host!\n"
        await pilot.press("ctrl+s")
        assert any("Allowlist not saved" in toast for toast in toasts(pilot))
        assert load_config().projects[0].allowlist == []

        editor.text = "pypi.org\n*.pythonhosted.org\n"
        await pilot.press("ctrl+s")
        assert load_config().projects[0].allowlist == ["pypi.org", "*.pythonhosted.org"]
        assert workspace(pilot).project.allowlist == ["pypi.org", "*.pythonhosted.org"]

        editor.move_cursor(editor.document.end)
        await pilot.press(*"allowed.test")  # typed where the focus is: the allowlist
        await pilot.press("escape")  # unsaved: a warning, still here
        assert pilot.app.screen is network
        assert any("unsaved edits" in toast for toast in toasts(pilot))
        await pilot.press("ctrl+s", "escape")
        assert pilot.app.screen is not network
        assert load_config().projects[0].allowlist[-1] == "allowed.test"
