"""The VM screen against the fake limactl: list, start with progress, stop, delete, no Lima."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Log, ProgressBar, Static

from lima.limactl import Limactl
from lima.template import render_template
from tests.fakes.lima import FakeLima
from tests.tui_support import SIZE, app_for, toasts, wait_until
from tui.screens.confirm import ConfirmScreen
from tui.screens.vms import VMScreen


def stopped_template(fake: FakeLima) -> Path:
    template = fake.home.parent / "airlock.yaml"
    template.write_text(render_template(cpus=2, memory="4GiB", disk="20GiB"))
    return template


def rows(screen: VMScreen) -> list[tuple[str, str]]:
    table = screen.query_one(DataTable)
    return [
        (str(table.get_row_at(index)[0]), str(table.get_row_at(index)[1]))
        for index in range(table.row_count)
    ]


async def test_without_limactl_the_screen_says_lima_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    async with app_for(None).run_test(size=SIZE) as pilot:
        await pilot.press("escape", "ctrl+l")
        screen = pilot.app.screen
        assert isinstance(screen, VMScreen)
        missing = screen.query_one("#missing", Static)
        await wait_until(pilot, lambda: missing.display)
        assert "limactl not found on PATH: Lima is not installed" in str(missing.render())
        assert not screen.query_one(DataTable).display
        await pilot.pause()
        shown = {
            active.binding.action for active in pilot.app.active_bindings.values() if active.enabled
        }
        assert "start" not in shown and "shell" not in shown  # no keys that cannot work
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, VMScreen)


async def test_start_shows_progress_then_stop_and_delete_after_asking(
    fake_limactl: FakeLima,
) -> None:
    await Limactl().create("airlock-notes", stopped_template(fake_limactl))
    async with app_for(None).run_test(size=SIZE) as pilot:
        await pilot.press("escape", "ctrl+l")
        screen = pilot.app.screen
        assert isinstance(screen, VMScreen)
        await wait_until(pilot, lambda: rows(screen) == [("airlock-notes", "Stopped")])
        table = screen.query_one(DataTable)
        assert [str(column.label) for column in table.columns.values()] == [
            "Name", "Status", "VM type", "Arch", "CPUs", "Memory", "Disk", "Dir"
        ]  # fmt: skip
        assert str(table.get_row_at(0)[7]) == str(fake_limactl.instance_dir("airlock-notes"))

        await pilot.press("s")
        await wait_until(pilot, lambda: rows(screen) == [("airlock-notes", "Running")])
        log = screen.query_one("#start-log", Log)
        assert log.lines[-1] == "[7/7] ready"
        assert "[4/7] waiting for ssh (1 of 2) …" in log.lines
        assert screen.query_one(ProgressBar).progress == 7

        await pilot.press("x")
        await wait_until(pilot, lambda: rows(screen) == [("airlock-notes", "Stopped")])

        await pilot.press("d")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("n")
        assert rows(screen) == [("airlock-notes", "Stopped")]
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: rows(screen) == [])
    assert not fake_limactl.instance_dir("airlock-notes").exists()


async def test_shell_needs_a_running_instance(fake_limactl: FakeLima) -> None:
    await Limactl().create("airlock-notes", stopped_template(fake_limactl))
    async with app_for(None).run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("escape", "ctrl+l")
        screen = pilot.app.screen
        assert isinstance(screen, VMScreen)
        await wait_until(pilot, lambda: rows(screen) != [])
        await pilot.press("e")
        assert pilot.app.screen is screen
        assert any("airlock-notes is not running: press s to start" in t for t in toasts(pilot))
