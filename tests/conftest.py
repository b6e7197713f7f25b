"""Shared fixtures: every test gets its own HOME and XDG dirs, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from airlock.cli import main
from tests.fakes.lima import FakeLima, fake_lima


@dataclass
class CliResult:
    code: int
    out: str
    err: str


CliRunner = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def airlock_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and the XDG dirs at a fresh folder; no API key leaks in from the host."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `airlock ARGS…` in-process and capture what it printed."""

    def run(*args: str | os.PathLike[str]) -> CliResult:
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


pytest_plugins = ["tests.scripted_api"]


@pytest.fixture
def fake_limactl(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLima]:
    """The fake `limactl` (tests/fakes/bin) first on PATH, with a fresh, short LIMA_HOME."""
    with fake_lima(monkeypatch) as fake:
        yield fake
