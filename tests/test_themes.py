"""Theme files: every shipped one loads; broken user files are reported, not fatal."""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

from tui.themes import VARIABLE_DEFAULTS, bundled_themes_dir, load_themes


def test_every_shipped_theme_loads_into_a_textual_theme() -> None:
    files = sorted(bundled_themes_dir().glob("*.toml"))
    assert len(files) >= 2
    themes, errors = load_themes(bundled_themes_dir())
    assert errors == []
    assert len(themes) == len(files)
    assert all(isinstance(theme, Theme) for theme in themes)
    assert {"airlock-dark", "airlock-light"} <= {theme.name for theme in themes}


def test_shipped_themes_only_override_known_variables() -> None:
    themes, _ = load_themes(bundled_themes_dir())
    for theme in themes:
        assert set(theme.variables) <= set(VARIABLE_DEFAULTS), theme.name


def test_broken_theme_files_are_reported_and_good_ones_still_load(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text('name = "mine"\nprimary = "#123456"\n')
    (tmp_path / "bad-toml.toml").write_text("name = \n")
    (tmp_path / "bad-colour.toml").write_text('name = "x"\nprimary = "not a colour!"\n')
    themes, errors = load_themes(tmp_path)
    assert [theme.name for theme in themes] == ["mine"]
    assert sorted(error.path.name for error in errors) == ["bad-colour.toml", "bad-toml.toml"]
    assert any("primary" in str(error) for error in errors)
