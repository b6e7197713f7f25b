"""`airlock doctor`: one ok/warn/fail line per check, with a fix for what is not ok."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from pathlib import Path

import pytest

from airlock.paths import airlock_paths
from tests.conftest import CliRunner
from tests.fakes.lima import FakeLima

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


def test_unwritable_data_dir_fails(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "a-file"))
    _, checks = doctor(cli)
    assert line(checks["data dir"]).startswith(f"fail {tmp_path}/a-file/airlock is not writable")
    assert checks["config dir"]["status"] == "ok"
