"""XDG base directories for Airlock's config, data and state.

The same layout is used on Linux and macOS (`~/.config`, `~/.local/share`,
`~/.local/state`) unless the XDG variables say otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

APP = "airlock"


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var, "")
    # The spec says relative paths must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / default


class AirlockPaths(BaseModel):
    """Where Airlock keeps its files."""

    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def user_themes_dir(self) -> Path:
        return self.config_dir / "themes"

    @property
    def objects_dir(self) -> Path:
        """Content-addressed store shared by every project (deduplicated)."""
        return self.data_dir / "objects"

    @property
    def projects_dir(self) -> Path:
        """Per-project state: baselines, sessions, journal, memory."""
        return self.data_dir / "projects"


def airlock_paths() -> AirlockPaths:
    """Resolve the directories from the environment (read on every call)."""
    return AirlockPaths(
        config_dir=_xdg("XDG_CONFIG_HOME", ".config") / APP,
        data_dir=_xdg("XDG_DATA_HOME", ".local/share") / APP,
        state_dir=_xdg("XDG_STATE_HOME", ".local/state") / APP,
    )
