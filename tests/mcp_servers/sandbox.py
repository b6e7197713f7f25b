"""Running the SDK-based test servers inside a bubblewrap sandbox.

The sandbox's `python3` is the system's, which has no `mcp` package. The tests (only
they) bind this virtualenv's site-packages read-only at `/opt/mcp-sdk` and point
`PYTHONPATH` at it, so a server written with the SDK runs in the sandbox unchanged.
That works when the system python has the virtualenv's version (compiled modules).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import mcp
import pytest

from airlock.network.egress import SessionEgress
from airlock.sandbox.bwrap_args import Bind

SITE_PACKAGES = Path(mcp.__file__).resolve().parents[1]
SDK_DIR = "/opt/mcp-sdk"
SERVER_ENV = {"PYTHONPATH": SDK_DIR}
NOTES_SERVER = Path(__file__).parent / "notes_server.py"


def sdk_bind() -> Bind:
    return Bind(source=SITE_PACKAGES, dest=SDK_DIR)


def require_sandbox_python() -> None:
    """Skip unless bwrap exists and /usr/bin/python3 can load this virtualenv's packages."""
    python = Path("/usr/bin/python3")
    if shutil.which("bwrap") is None or not python.exists():
        pytest.skip("needs bubblewrap and /usr/bin/python3")
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    if version != str(sys.version_info[:2]):
        pytest.skip(f"the system python is {version}, this virtualenv's {sys.version_info[:2]}")


def give_sessions_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every session's bwrap sandbox also sees the SDK (next to the egress proxy's mounts)."""
    original = SessionEgress.bwrap_options

    def with_sdk(self: SessionEgress) -> tuple[dict[str, str], list[Bind], list[str]]:
        env, binds, wrapper = original(self)
        return env, [*binds, sdk_bind()], wrapper

    monkeypatch.setattr(SessionEgress, "bwrap_options", with_sdk)
