"""A private HOME and XDG folders, so that benchmarks never touch the user's Airlock config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

XDG = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
    "XDG_CACHE_HOME": ".cache",
}


def home_env(workdir: Path) -> dict[str, str]:
    """The variables pointing HOME and the XDG folders below `workdir/home`."""
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **{name: str(home / sub) for name, sub in XDG.items()}}


@contextmanager
def private_home(workdir: Path) -> Iterator[None]:
    """Set `home_env(workdir)` in this process for the duration."""
    saved = {name: os.environ.get(name) for name in ("HOME", *XDG)}
    os.environ.update(home_env(workdir))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
