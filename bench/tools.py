"""The standard tools the benchmarks compare with, and the scratch setups they share."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_IDENTITY = ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid")
# git with its defaults: no user or system config (fsmonitor, untracked cache…) in the numbers.
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


@dataclass(frozen=True)
class Repo:
    """A git repository kept outside the tree it tracks, so no other tool sees it."""

    git_dir: Path
    work_tree: Path

    def argv(self, *args: str) -> list[str]:
        location = [f"--git-dir={self.git_dir}", f"--work-tree={self.work_tree}"]
        return ["git", *GIT_IDENTITY, *location, *args]

    def run(self, *args: str) -> bytes:
        """Run a git command (failure raised); its output."""
        return subprocess.run(self.argv(*args), env=GIT_ENV, check=True, capture_output=True).stdout

    def init(self) -> None:
        """Start over with an empty repository."""
        shutil.rmtree(self.git_dir, ignore_errors=True)
        self.run("init", "-q")


class MissingTool(Exception):
    """A tool the benchmark compares with is not installed: the benchmark is skipped."""


def need(*names: str) -> None:
    """Raise `MissingTool` unless every executable is on PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise MissingTool(f"needs {', '.join(missing)} on PATH")


def copy_tree(source: Path, target: Path) -> None:
    """An identical copy (modes and times kept)."""
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
