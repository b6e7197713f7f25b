"""`airlock doctor`: one ok/warn/fail line per check, with a fix for what is not ok."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import socket
import sys
from pathlib import Path

import pytest

from airlock.config import ProjectConfig
from airlock.paths import airlock_paths
from airlock.sandbox.lima import LimaSandbox
from lima.limactl import Limactl
from tests.conftest import CliRunner
from tests.fakes.lima import FakeLima
from tests.test_network_cli import site  # noqa: F401 (a fixture)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux checks")


def doctor(cli: CliRunner) -> tuple[int, dict[str, dict[str, str | None]]]:
    """Exit code and the checks by name (from `--json`)."""
    result = cli("doctor", "--json")
    return result.code, {check["name"]: check for check in json.loads(result.out)}


def line(check: dict[str, str | None]) -> str:
    return f"{check['status']} {check['detail']}"


@pytest.fixture
def fake_qemu(fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A `qemu-system-<arch>` on PATH, so the VM driver check has something to find."""
    machine = {"arm64": "aarch64"}.get(platform.machine(), platform.machine())
    bin_dir = tmp_path / "qemu-bin"
    bin_dir.mkdir()
    qemu = bin_dir / f"qemu-system-{machine}"
    qemu.write_text("#!/bin/sh\nexit 0\n")
    qemu.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


@linux_only
def test_all_good_with_lima(cli: CliRunner, fake_qemu: None) -> None:
    code, checks = doctor(cli)
    assert line(checks["lima"]).startswith("ok limactl 2.2.0 (")
    assert checks["vm driver"]["status"] in ("ok", "warn")  # warn: no usable /dev/kvm
    assert line(checks["sandbox"]) == "ok lima (auto)"
    assert line(checks["config"]).endswith("config.toml yet: defaults apply")
    assert {checks[name]["status"] for name in ("config dir", "data dir", "state dir")} == {"ok"}
    assert code == 0


def test_each_check_is_one_line_with_its_fix_below(cli: CliRunner, fake_limactl: FakeLima) -> None:
    lines = cli("doctor").out.splitlines()
    assert lines[0].split()[:4] == ["ok", "lima", "limactl", "2.2.0"]
    key = next(
        index for index, text in enumerate(lines) if text.split()[:3] == ["warn", "api", "key"]
    )
    assert lines[key + 1].strip().startswith("fix: export ANTHROPIC_API_KEY=")


@linux_only
def test_without_lima_bubblewrap_takes_over(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap is not installed")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "bwrap").symlink_to(bwrap)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    _, checks = doctor(cli)
    assert (
        line(checks["lima"]) == "warn limactl not found: sandboxes use bubblewrap instead of a VM"
    )
    assert "lima-vm.io" in str(checks["lima"]["fix"])
    assert "vm driver" not in checks
    assert checks["bubblewrap"]["status"] == "ok"
    assert line(checks["sandbox"]) == "ok bwrap (auto)"


@linux_only
def test_without_any_sandbox_it_fails(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, checks = doctor(cli)
    assert code == 1
    assert line(checks["lima"]) == "fail limactl not found on PATH: Lima is not installed"
    assert line(checks["bubblewrap"]) == "fail bwrap not found: no sandbox is available"
    assert str(checks["bubblewrap"]["fix"]).startswith("install bubblewrap")


def test_limactl_refusing_root_is_a_failure_with_a_fix(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_REFUSE_ROOT", "1")
    code, checks = doctor(cli)
    assert code == 1
    assert line(checks["lima"]) == "fail limactl refuses to run as the root user"
    assert checks["lima"]["fix"] == "run it as a normal user"


def test_api_key_presence_is_reported_but_never_its_value(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert doctor(cli)[1]["api key"]["status"] == "warn"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value")
    assert line(doctor(cli)[1]["api key"]) == "ok ANTHROPIC_API_KEY is set"
    assert "sk-ant-secret-value" not in cli("doctor").out


def test_invalid_config_fails_and_the_other_checks_still_run(
    cli: CliRunner, fake_limactl: FakeLima
) -> None:
    path = airlock_paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text("sandbox = 'vmware'\n")
    code, checks = doctor(cli)
    assert code == 1
    assert line(checks["config"]).startswith(f"fail {path}: sandbox:")
    assert checks["config"]["fix"] == f"edit {path}"
    assert checks["lima"]["status"] == "ok"


def test_a_project_whose_folder_is_gone_is_a_warning(
    cli: CliRunner, fake_limactl: FakeLima, tmp_path: Path
) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    cli("project", "add", folder)
    folder.rmdir()
    _, checks = doctor(cli)
    assert checks["config"]["status"] == "warn"
    assert f"folders gone: gone ({folder})" in checks["config"]["detail"]
    assert "airlock project remove gone" in checks["config"]["fix"]


def test_unwritable_data_dir_fails(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "a-file"))
    _, checks = doctor(cli)
    assert line(checks["data dir"]).startswith(f"fail {tmp_path}/a-file/airlock is not writable")
    assert checks["config dir"]["status"] == "ok"


# `airlock doctor --vm NAME`: the egress lockdown, checked from inside the (fake) guest


@pytest.fixture
def vm(fake_limactl: FakeLima, tmp_path: Path) -> str:
    """A running instance made from the airlock template by a session's sandbox."""
    if shutil.which("bwrap") is None or shutil.which("curl") is None:
        pytest.skip("the fake guest needs bubblewrap and curl")
    sandbox = LimaSandbox(ProjectConfig(name="notes", path=tmp_path), tmp_path / "session")
    asyncio.run(sandbox.start())
    return sandbox.name


def vm_checks(cli: CliRunner, *args: str) -> tuple[int, dict[str, dict[str, str | None]]]:
    result = cli("doctor", "--vm", *args, "--json")
    assert result.err == ""
    return result.code, {check["name"]: check for check in json.loads(result.out)}


@linux_only
@pytest.mark.usefixtures("site")
def test_vm_check_proves_the_guest_reaches_only_allowed_domains_through_the_proxy(
    cli: CliRunner, vm: str
) -> None:
    code, checks = vm_checks(cli, vm, "--domain", "allowed.test")
    assert {name: check["status"] for name, check in checks.items()} == {
        "firewall applied": "ok",
        "no sudo": "ok",
        "direct connection blocked": "ok",
        "denied host refused by the proxy": "ok",
        "allowed host reachable through the proxy": "ok",
    }
    assert code == 0
    assert checks["allowed host reachable through the proxy"]["detail"] == (
        "exit code 0, printed '200'"
    )


@linux_only
@pytest.mark.usefixtures("site")
def test_vm_check_shows_what_failed_and_how_to_fix_it(
    cli: CliRunner, vm: str, fake_limactl: FakeLima
) -> None:
    (fake_limactl.instance_dir(vm) / "guest" / "run" / "airlock-fw-ok").unlink()
    result = cli("doctor", "--vm", vm, "--domain", "allowed.test")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["fail", "firewall", "applied"]
    assert lines[1].strip().startswith("fix: the firewall provision step failed")
    assert f"`airlock vm stop {vm}`" in lines[1]
    assert all(line.startswith(("ok", "fail", " ")) for line in lines)


@linux_only
def test_vm_check_needs_the_vm_running_and_its_port_free(cli: CliRunner, vm: str) -> None:
    instance = asyncio.run(Limactl().instance(vm))
    assert instance is not None and instance.config is not None
    port = int(instance.config["param"]["AIRLOCK_PROXY_PORT"])
    with socket.socket() as taken:  # as an open session holds it
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        busy = cli("doctor", "--vm", vm)
    assert busy.code == 1
    assert busy.err.splitlines() == [
        f"airlock: cannot check {vm}: port {port} is in use",
        f"  hint: close the Airlock session that uses {vm}, then try again",
    ]
    asyncio.run(Limactl().stop(vm))
    stopped = cli("doctor", "--vm", vm)
    assert stopped.code == 1 and "is not running" in stopped.err
    assert "airlock vm start" in stopped.err
    missing = cli("doctor", "--vm", "airlock-nope")
    assert missing.code == 1 and "does not exist" in missing.err
