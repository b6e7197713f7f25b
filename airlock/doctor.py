"""`airlock doctor`: is everything Airlock needs here, and if not, what to do about it."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from airlock.config import AirlockConfig, SandboxChoice, load_config
from airlock.errors import AirlockError
from airlock.paths import airlock_paths
from lima.errors import LimactlNotFound, LimaError, install_hint
from lima.limactl import Limactl

Status = Literal["ok", "warn", "fail"]
MIN_LIMA = (2, 2, 0)  # the template's `minimumLimaVersion` (passwordlessSudo: false)


class Check(BaseModel):
    """One line of the report; `fix` says what to do when it is not ok."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


async def run_checks() -> list[Check]:
    """Every check, in the order they are shown."""
    linux = sys.platform.startswith("linux")
    lima = await check_limactl(bwrap_fallback=linux and shutil.which("bwrap") is not None)
    checks = [lima]
    if lima.status == "ok":
        checks.append(check_vm_driver())
    if linux:
        checks.append(check_bwrap(lima_ok=lima.status == "ok"))
    config_check, config = check_config()
    choice = config.sandbox if config is not None else "auto"
    checks += [check_sandbox(choice), check_api_key(), config_check, *check_dirs()]
    return checks


async def check_limactl(bwrap_fallback: bool) -> Check:
    """limactl is installed, runs, and is recent enough for the airlock template."""
    limactl = Limactl()
    try:
        version = await limactl.version()
    except LimactlNotFound as exc:
        if bwrap_fallback:
            return Check(
                name="lima",
                status="warn",
                detail="limactl not found: sandboxes use bubblewrap instead of a VM",
                fix=install_hint(),
            )
        return Check(name="lima", status="fail", detail=exc.message, fix=exc.hint)
    except LimaError as exc:
        return Check(name="lima", status="fail", detail=exc.message, fix=exc.hint)
    numbers = tuple(int(part) for part in _leading_numbers(version))
    if numbers < MIN_LIMA:
        wanted = ".".join(map(str, MIN_LIMA))
        return Check(
            name="lima",
            status="fail",
            detail=f"limactl {version} is too old: the airlock VM template needs Lima {wanted}",
            fix="upgrade Lima (e.g. `brew upgrade lima`)",
        )
    return Check(name="lima", status="ok", detail=f"limactl {version} ({limactl.path()})")


async def run_vm_checks(name: str, domain: str) -> list[Check]:
    """The egress lockdown of the running airlock VM `name`, checked from inside it."""
    from airlock.network.guest_check import check_guest

    return [
        Check(
            name=result.name,
            status="ok" if result.ok else "fail",
            detail=result.detail,
            fix=result.fix,
        )
        for result in await check_guest(name, domain)
    ]


def _leading_numbers(version: str) -> list[str]:
    parts = version.split("-")[0].split(".")
    return [part for part in parts[:3] if part.isdigit()]


def check_vm_driver() -> Check:
    """What Lima boots VMs with: vz on recent macOS, else QEMU (with KVM on Linux)."""
    if sys.platform == "darwin":
        release = tuple(int(x) for x in platform.mac_ver()[0].split(".")[:2] if x.isdigit())
        if release >= (13, 5):
            return Check(name="vm driver", status="ok", detail="vz (Apple Virtualization)")
        if shutil.which("qemu-img") is None:
            return Check(
                name="vm driver",
                status="fail",
                detail="macOS before 13.5 needs QEMU, which is not installed",
                fix="brew install qemu",
            )
        return Check(name="vm driver", status="ok", detail="qemu")
    machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(platform.machine(), platform.machine())
    qemu = f"qemu-system-{machine}"
    if shutil.which(qemu) is None:
        return Check(
            name="vm driver",
            status="fail",
            detail=f"{qemu} not found: Lima cannot boot VMs",
            fix="install QEMU (e.g. `apt install qemu-system`)",
        )
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return Check(
            name="vm driver",
            status="warn",
            detail="qemu without KVM: VMs boot very slowly",
            fix="add yourself to the `kvm` group (sudo usermod -aG kvm $USER), then log in again",
        )
    return Check(name="vm driver", status="ok", detail="qemu with KVM")


def check_bwrap(lima_ok: bool) -> Check:
    """bubblewrap, the Linux sandbox used when Lima is not there."""
    found = shutil.which("bwrap")
    if found is not None:
        return Check(name="bubblewrap", status="ok", detail=found)
    return Check(
        name="bubblewrap",
        status="warn" if lima_ok else "fail",
        detail="bwrap not found" + ("" if lima_ok else ": no sandbox is available"),
        fix="install bubblewrap (apt install bubblewrap, dnf install bubblewrap)",
    )


def check_sandbox(choice: SandboxChoice) -> Check:
    """Which backend the `sandbox` setting picks on this machine."""
    from airlock.sandbox.factory import pick_backend

    try:
        return Check(name="sandbox", status="ok", detail=f"{pick_backend(choice)} ({choice})")
    except AirlockError as exc:
        return Check(name="sandbox", status="fail", detail=exc.message, fix=exc.hint)


def check_api_key() -> Check:
    """The Anthropic API key is in the environment (its value is never shown)."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        return Check(name="api key", status="ok", detail="ANTHROPIC_API_KEY is set")
    return Check(
        name="api key",
        status="warn",
        detail="ANTHROPIC_API_KEY is not set: the agent cannot call Claude",
        fix="export ANTHROPIC_API_KEY=… (create a key at https://console.anthropic.com)",
    )


def check_config() -> tuple[Check, AirlockConfig | None]:
    """The config file parses and validates (and the config, when it does)."""
    path = airlock_paths().config_file
    try:
        config = load_config(path)
    except AirlockError as exc:
        return Check(name="config", status="fail", detail=exc.message, fix=f"edit {path}"), None
    if not path.exists():
        return Check(name="config", status="ok", detail=f"no {path} yet: defaults apply"), config
    detail = f"{path} ({len(config.projects)} project(s))"
    gone = [project for project in config.projects if not project.path.is_dir()]
    if gone:
        names = ", ".join(f"{p.name} ({p.path})" for p in gone)
        fix = f"put the folders back, or `airlock project remove {gone[0].name}`"
        return Check(
            name="config", status="warn", detail=f"{detail}; folders gone: {names}", fix=fix
        ), config
    return Check(name="config", status="ok", detail=detail), config


def check_dirs() -> list[Check]:
    """Airlock can create and write its config, data and state folders."""
    paths = airlock_paths()
    checks = []
    for label, folder in (
        ("config dir", paths.config_dir),
        ("data dir", paths.data_dir),
        ("state dir", paths.state_dir),
    ):
        problem = _write_problem(folder)
        if problem is None:
            checks.append(Check(name=label, status="ok", detail=f"{folder} is writable"))
        else:
            checks.append(
                Check(
                    name=label,
                    status="fail",
                    detail=f"{folder} is not writable: {problem}",
                    fix="fix its permissions, or point the XDG_*_HOME variables elsewhere",
                )
            )
    return checks


def _write_problem(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    return None
