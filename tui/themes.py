"""Theme files: TOML documents validated by `ThemeFile` and turned into Textual themes.

Shipped themes live in the repository's `themes/` folder (packaged as
`tui/bundled_themes`); users add `*.toml` files to `$XDG_CONFIG_HOME/airlock/themes/`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from textual.theme import BUILTIN_THEMES, Theme

from airlock.paths import airlock_paths

COLOUR = r"^(#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?|#[0-9A-Fa-f]{3}|[a-z]+(\([0-9., %]+\))?)$"

# App-specific colours every theme has (a theme file may override them).
VARIABLE_DEFAULTS = {
    "diff-added": "#1f4d2b",
    "diff-removed": "#5c1f24",
    "diff-hunk-focus": "#3a3f58",
    "plan-in-progress": "#e5c07b",
    "net-allowed": "#98c379",
    "net-denied": "#e06c75",
}


class ThemeFile(BaseModel):
    """The format of a theme file (see `themes/airlock-dark.toml`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    dark: bool = True
    primary: str = Field(pattern=COLOUR)
    secondary: str | None = Field(default=None, pattern=COLOUR)
    accent: str | None = Field(default=None, pattern=COLOUR)
    warning: str | None = Field(default=None, pattern=COLOUR)
    error: str | None = Field(default=None, pattern=COLOUR)
    success: str | None = Field(default=None, pattern=COLOUR)
    foreground: str | None = Field(default=None, pattern=COLOUR)
    background: str | None = Field(default=None, pattern=COLOUR)
    surface: str | None = Field(default=None, pattern=COLOUR)
    panel: str | None = Field(default=None, pattern=COLOUR)
    boost: str | None = Field(default=None, pattern=COLOUR)
    variables: dict[str, str] = Field(default_factory=dict)

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())


class ThemeLoadError(Exception):
    """A theme file that could not be used, with the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path


def bundled_themes_dir() -> Path:
    """The shipped themes: inside the wheel, or the repository folder in a dev install."""
    packaged = Path(__file__).parent / "bundled_themes"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "themes"


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return ThemeFile.model_validate(data).to_theme()
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeLoadError(path, f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThemeLoadError(path, f"invalid TOML: {exc}") from exc
    except ValidationError as exc:
        from airlock.config import describe_validation_error

        raise ThemeLoadError(path, describe_validation_error(exc)) from exc


def load_themes(*folders: Path) -> tuple[list[Theme], list[ThemeLoadError]]:
    """Every `*.toml` theme in the folders, in order; broken files are reported, not fatal."""
    themes: list[Theme] = []
    errors: list[ThemeLoadError] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                themes.append(load_theme_file(path))
            except ThemeLoadError as exc:
                errors.append(exc)
    return themes, errors


def app_themes() -> tuple[list[Theme], list[ThemeLoadError]]:
    """The shipped themes, then the user's (a user file may replace a shipped theme)."""
    return load_themes(bundled_themes_dir(), airlock_paths().user_themes_dir)


def theme_names(themes: list[Theme]) -> list[str]:
    """Every theme a user may pick: Textual's own and the loaded ones."""
    return sorted({*BUILTIN_THEMES, *(theme.name for theme in themes)})
