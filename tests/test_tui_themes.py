"""Themes in the app: user files load, broken ones are reported, the choice is remembered."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList

from airlock.config import load_config, save_config
from airlock.paths import airlock_paths
from tests.tui_support import SIZE, app_for, toasts, type_text, wait_until


async def test_user_themes_load_and_broken_files_are_reported_in_one_toast() -> None:
    folder = airlock_paths().user_themes_dir
    folder.mkdir(parents=True)
    (folder / "sunrise.toml").write_text(
        'name = "sunrise"\nprimary = "#ff8800"\n[variables]\nplan-in-progress = "#ffffff"\n'
    )
    (folder / "broken.toml").write_text("name = \n")
    (folder / "ugly.toml").write_text('name = "ugly"\nprimary = "not a colour"\n')
    config = load_config()
    config.theme = "sunrise"
    save_config(config)
    async with app_for(None).run_test(size=SIZE, notifications=True) as pilot:
        assert pilot.app.theme == "sunrise"
        assert pilot.app.theme_variables["plan-in-progress"] == "#ffffff"
        assert pilot.app.theme_variables["diff-added"]  # Airlock's defaults fill the rest
        shown = toasts(pilot)
        assert len(shown) == 1
        assert "broken.toml" in shown[0] and "ugly.toml" in shown[0]


async def test_an_unknown_theme_in_the_config_falls_back_and_says_so() -> None:
    config = load_config()
    config.theme = "vanished"
    save_config(config)
    async with app_for(None).run_test(size=SIZE, notifications=True) as pilot:
        assert pilot.app.theme == "airlock-dark"
        assert any("theme 'vanished' not found" in toast for toast in toasts(pilot))


async def test_a_theme_picked_in_the_palette_is_remembered(tmp_path: Path) -> None:
    async with app_for(None).run_test(size=SIZE) as pilot:
        await pilot.press("escape", "ctrl+p")
        await type_text(pilot, "theme")
        palette = pilot.app.screen
        await wait_until(pilot, lambda: palette.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen is not palette)
        await type_text(pilot, "airlock-light")
        await wait_until(pilot, lambda: pilot.app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.theme == "airlock-light")
    assert load_config().theme == "airlock-light"
