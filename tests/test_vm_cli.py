"""`airlock vm …` end to end against the fake limactl, and without limactl at all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from airlock.cli import main
from airlock.config import VMConfig
from airlock.projects import add_project, update_project
from tests.conftest import CliRunner
from tests.fakes.lima import FakeLima

LIST_KEYS = {"name", "status", "vmType", "arch", "cpus", "memory", "disk", "dir"}


def test_list_with_no_instances(cli: CliRunner, fake_limactl: FakeLima) -> None:
    assert cli("vm", "list").out == "no Lima instances yet: `airlock vm start NAME` creates one\n"
    result = cli("vm", "list", "--json")
    assert (result.code, json.loads(result.out)) == (0, [])


def test_start_creates_the_instance_and_shows_progress(
    cli: CliRunner, fake_limactl: FakeLima
) -> None:
    result = cli("vm", "start", "airlock-demo")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        "airlock-demo does not exist: creating it from the airlock template "
        "(2 CPUs, 4GiB memory, 20GiB disk, sized by the defaults)"
    )
    assert "[4/7] waiting for ssh (1 of 2) …" in lines
    assert "[5/7] airlock sandbox provisioned: ok" in lines
    assert lines[-2:] == [
        "[7/7] ready",
        "airlock-demo is running: `airlock vm shell airlock-demo` opens a shell in it",
    ]
    assert "\x1b[" not in result.out  # not a terminal: no colours
    # Created like a session would: with its egress firewall's proxy port.
    lima_yaml = (fake_limactl.instance_dir("airlock-demo") / "lima.yaml").read_text()
    assert re.search(r'AIRLOCK_PROXY_PORT: "?2\d{4}"?', lima_yaml)


def test_start_sizes_a_project_s_instance_from_its_config(
    cli: CliRunner, fake_limactl: FakeLima, tmp_path: Path
) -> None:
    (tmp_path / "notes").mkdir()
    project = add_project(tmp_path / "notes")
    update_project(project.model_copy(update={"vm": VMConfig(cpus=3, memory="3GiB", disk="9GiB")}))
    result = cli("vm", "start", "airlock-notes")
    assert "(3 CPUs, 3GiB memory, 9GiB disk, sized by project 'notes')" in result.out
    (instance,) = json.loads(cli("vm", "list", "--json").out)
    assert instance.keys() >= LIST_KEYS
    assert (instance["cpus"], instance["memory"], instance["disk"]) == (3, 3 << 30, 9 << 30)
    table = cli("vm", "list").out.splitlines()
    assert table[0].split() == [
        "NAME", "STATUS", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "PROJECT", "DIR"
    ]  # fmt: skip
    row = ["airlock-notes", "Running", "qemu", instance["arch"], "3", "3GiB", "9GiB", "notes"]
    assert table[1].split()[:8] == row


def test_start_of_a_running_instance_says_so(cli: CliRunner, fake_limactl: FakeLima) -> None:
    cli("vm", "start", "airlock-demo")
    result = cli("vm", "start", "airlock-demo")
    assert result.code == 0
    assert "does not exist" not in result.out
    assert result.out.endswith("opens a shell in it\n")


def test_stop_then_delete(cli: CliRunner, fake_limactl: FakeLima) -> None:
    cli("vm", "start", "airlock-demo")
    assert cli("vm", "stop", "airlock-demo").out == "stopped airlock-demo\n"
    assert cli("vm", "stop", "airlock-demo").out == "airlock-demo is already stopped\n"
    assert json.loads(cli("vm", "list", "--json").out)[0]["status"] == "Stopped"
    result = cli("vm", "delete", "airlock-demo")
    assert result.out.startswith("deleted airlock-demo")
    assert json.loads(cli("vm", "list", "--json").out) == []


def test_delete_of_a_running_instance_needs_force(cli: CliRunner, fake_limactl: FakeLima) -> None:
    cli("vm", "start", "airlock-demo")
    result = cli("vm", "delete", "airlock-demo")
    assert result.code == 1
    assert result.err == (
        "airlock: Lima instance 'airlock-demo' is running\n"
        "  hint: stop it first (`airlock vm stop airlock-demo`), or delete it with --force\n"
    )
    assert cli("vm", "delete", "--force", "airlock-demo").code == 0
    assert not fake_limactl.instance_dir("airlock-demo").exists()


def test_broken_instance_is_explained_and_force_stop_recovers_it(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "broken")
    cli("vm", "start", "airlock-demo")
    monkeypatch.delenv("FAKE_LIMACTL_START_FAIL")
    assert json.loads(cli("vm", "list", "--json").out)[0]["errors"] == [
        "host agent is running but driver is not"
    ]
    result = cli("vm", "stop", "airlock-demo")
    assert result.code == 1
    assert "is broken: host agent is running but driver is not" in result.err
    assert "airlock vm stop --force airlock-demo" in result.err
    assert cli("vm", "stop", "--force", "airlock-demo").out == "stopped airlock-demo\n"
    assert cli("vm", "start", "airlock-demo").code == 0


def test_failed_start_shows_the_last_log_lines(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "qemu-missing")
    result = cli("vm", "start", "airlock-demo")
    assert result.code == 1
    assert "failed: the VM's host agent exited\n" in result.out
    err = result.err.splitlines()
    assert (
        err[0]
        == "airlock: Lima instance 'airlock-demo' failed to start: the VM's host agent exited"
    )
    assert any("qemu-system" in line and line.startswith("  | ") for line in err)
    assert err[-1].startswith("  hint: see `") and err[-1].endswith("ha.stderr.log`")


def test_unknown_instance(cli: CliRunner, fake_limactl: FakeLima) -> None:
    for action in ("stop", "delete", "shell"):
        result = cli("vm", action, "nosuch")
        assert result.code == 1
        assert result.err.startswith("airlock: Lima instance 'nosuch' does not exist\n")


def test_shell_hands_over_to_limactl_shell_in_workspace(
    fake_limactl: FakeLima, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["vm", "start", "airlock-demo"]) == 0
    capfd.readouterr()
    code = main(["vm", "shell", "airlock-demo", "--", "sh", "-c", "pwd; exit 5"])
    assert (code, capfd.readouterr().out) == (5, "/workspace\n")


def test_shell_on_a_stopped_instance_says_how_to_start_it(
    cli: CliRunner, fake_limactl: FakeLima
) -> None:
    cli("vm", "start", "airlock-demo")
    cli("vm", "stop", "airlock-demo")
    result = cli("vm", "shell", "airlock-demo")
    assert result.code == 1
    assert result.err == (
        "airlock: Lima instance 'airlock-demo' is not running\n"
        "  hint: start it with `airlock vm start airlock-demo`\n"
    )


def test_without_limactl_every_command_says_how_to_install_it(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    for args in (("list",), ("start", "airlock-x"), ("stop", "airlock-x"), ("shell", "airlock-x")):
        result = cli("vm", *args)
        assert result.code == 1
        first, hint = result.err.splitlines()
        assert first == "airlock: limactl not found on PATH: Lima is not installed"
        assert hint.startswith("  hint: install Lima")


def test_limactl_refusing_root_is_one_clear_line(
    cli: CliRunner, fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_REFUSE_ROOT", "1")
    result = cli("vm", "list")
    assert result.code == 1
    assert result.err == (
        "airlock: limactl refuses to run as the root user\n  hint: run it as a normal user\n"
    )
