"""`airlock scheduler --install`: a systemd user timer (Linux) or a launchd agent (macOS)
that runs `airlock run-due` every minute, so tasks run without the TUI open."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from pydantic import BaseModel, Field

from airlock.atomic import write_atomic
from airlock.errors import AirlockError

UNIT = "airlock-run-due"
LAUNCHD_LABEL = "dev.airlock.run-due"


class InstalledFiles(BaseModel):
    files: list[Path]
    next_steps: list[str]  # commands for the user to activate them
    env_file: Path = Field(default_factory=lambda: env_file())  # read by `run-due`


def env_file() -> Path:
    """NAME=VALUE lines `run-due` adds to its environment (the API key, for a timer)."""
    from airlock.paths import airlock_paths

    return airlock_paths().config_dir / "env"


def load_env_file(path: Path | None = None) -> None:
    """Set the variables of the env file that the environment does not already have."""
    try:
        text = (path or env_file()).read_text(encoding="utf-8")
    except OSError:
        return
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        name = name.removeprefix("export ").strip()
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name, value.strip().strip("'\""))


def airlock_command() -> list[str]:
    """How to call this very airlock (the venv's script, or `python -m airlock`)."""
    found = shutil.which("airlock")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "airlock"]


def systemd_units(command: list[str]) -> dict[str, str]:
    exec_start = " ".join(shlex.quote(part) for part in [*command, "run-due"])
    service = (
        "[Unit]\nDescription=Airlock: run due scheduled tasks\n\n"
        f"[Service]\nType=oneshot\nExecStart={exec_start}\n"
    )
    timer = (
        "[Unit]\nDescription=Airlock: check scheduled tasks every minute\n\n"
        "[Timer]\nOnCalendar=*-*-* *:*:00\nPersistent=true\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def launchd_plist(command: list[str]) -> str:
    arguments = "".join(f"\n    <string>{_xml(part)}</string>" for part in [*command, "run-due"])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0">\n<dict>\n'
        f"  <key>Label</key>\n  <string>{LAUNCHD_LABEL}</string>\n"
        f"  <key>ProgramArguments</key>\n  <array>{arguments}\n  </array>\n"
        "  <key>StartInterval</key>\n  <integer>60</integer>\n"
        "  <key>RunAtLoad</key>\n  <true/>\n"
        "</dict>\n</plist>\n"
    )


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install(home: Path | None = None, platform: str = sys.platform) -> InstalledFiles:
    """Write the timer files for this platform; returns them and how to activate them."""
    home = home or Path.home()
    command = airlock_command()
    if platform == "darwin":
        path = home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
        write_atomic(path, launchd_plist(command).encode())
        return InstalledFiles(
            files=[path], next_steps=[f"launchctl load -w {shlex.quote(str(path))}"]
        )
    if platform.startswith("linux"):
        from airlock.paths import airlock_paths

        folder = airlock_paths().config_dir.parent / "systemd" / "user"
        files = []
        for name, text in systemd_units(command).items():
            write_atomic(folder / name, text.encode())
            files.append(folder / name)
        return InstalledFiles(
            files=files,
            next_steps=[
                "systemctl --user daemon-reload",
                f"systemctl --user enable --now {UNIT}.timer",
            ],
        )
    raise AirlockError(f"installing a scheduler is not supported on {platform}")
