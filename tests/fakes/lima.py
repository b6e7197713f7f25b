"""Put the fake `limactl` first on PATH with a fresh LIMA_HOME, and reach into its instances."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FAKE_LIMACTL = Path(__file__).parent / "bin" / "limactl"


@dataclass
class FakeLima:
    """A LIMA_HOME served by the fake limactl."""

    home: Path

    def instance_dir(self, name: str) -> Path:
        return self.home / name

    def workspace(self, name: str) -> Path:
        """The host folder the fake guest sees as `/workspace`."""
        return self.home / name / "guest" / "workspace"


@contextlib.contextmanager
def fake_lima(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLima]:
    """The fake first on PATH and a fresh LIMA_HOME, short enough for Lima.

    Lima needs `LIMA_HOME/NAME/ssh.sock.<16 digits>` under 108 bytes, so the home
    lives directly under the temp dir rather than in pytest's long tmp_path.
    """
    root = Path(tempfile.mkdtemp(prefix="lh-"))
    bin_dir = root / "bin"
    bin_dir.mkdir()
    # Run the fake with this interpreter, without site-packages (it needs only the
    # stdlib): a pyenv shim or a heavy site costs 0.05-0.2 s on every call.
    launcher = bin_dir / "limactl"
    python = shlex.quote(os.path.realpath(sys.executable))
    launcher.write_text(f'#!/bin/sh\nexec {python} -S -E {shlex.quote(str(FAKE_LIMACTL))} "$@"\n')
    launcher.chmod(0o755)
    home = root / "h"
    home.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("LIMA_HOME", str(home))
    for var in ("FAKE_LIMACTL_REFUSE_ROOT", "FAKE_LIMACTL_START_FAIL", "FAKE_LIMACTL_START_DELAY"):
        monkeypatch.delenv(var, raising=False)
    try:
        yield FakeLima(home)
    finally:
        _open_up(root)
        shutil.rmtree(root)


def _open_up(root: Path) -> None:
    """Tests leave read-only folders behind; make them removable."""
    for folder, subdirs, _ in os.walk(root):
        for sub in subdirs:
            path = os.path.join(folder, sub)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
