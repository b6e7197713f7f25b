"""The fake limactl prints what Lima v2.2.0 prints (the recorded fixtures), times and paths aside.

If the fake drifts from the real CLI, the driver tests stop meaning anything: these
compare its stdout, stderr and exit codes with tests/fakes/fixtures/limactl.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from lima.logline import parse_log
from lima.template import render_template
from tests.fakes.lima import FakeLima

FIXTURES = Path(__file__).parent / "fakes" / "fixtures" / "limactl"


def limactl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["limactl", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def messages(stderr: str, fake: FakeLima | None = None) -> list[tuple[str | None, str]]:
    """(level, message) of each line, with paths and ports made comparable."""
    result = []
    for line in parse_log(stderr):
        text = line.msg
        if fake is not None:
            text = text.replace(str(fake.home), "/home/alice/.lima")
        text = re.sub(r"SSH Local Port: \d+", "SSH Local Port: N", text)
        text = re.sub(r"status=\{.*\}", "status={…}", text)
        result.append((line.level, text))
    return result


def fixture_messages(name: str) -> list[tuple[str | None, str]]:
    return messages((FIXTURES / name).read_text())


@pytest.fixture
def demo(fake_limactl: FakeLima, tmp_path: Path) -> Path:
    """The airlock template written to `airlock-demo.yaml`."""
    path = tmp_path / "airlock.yaml"
    path.write_text(render_template(cpus=4, memory="4GiB", disk="20GiB"))
    return path


def start_demo(template: Path) -> subprocess.CompletedProcess[str]:
    return limactl("start", "--tty=false", "--name=airlock-demo", str(template))


def test_version_matches(fake_limactl: FakeLima) -> None:
    assert limactl("--version").stdout == (FIXTURES / "version.txt").read_text()


def test_empty_list_warns_and_succeeds(fake_limactl: FakeLima) -> None:
    result = limactl("list")
    assert (result.returncode, result.stdout) == (0, "")
    assert messages(result.stderr) == fixture_messages("list-empty-stderr.log")


def test_new_plain_start_logs_the_recorded_sequence(fake_limactl: FakeLima, demo: Path) -> None:
    result = start_demo(demo)
    assert result.returncode == 0 and result.stdout == ""
    expected = fixture_messages("start-plain-new-stderr.log")
    # Our own template's probe has its own description (the fixture's is the firewall's).
    expected = [
        (level, text.replace("airlock egress firewall applied", "PROBE"))
        for level, text in expected
    ]
    got = messages(result.stderr, fake_limactl)
    got = [(level, text.replace("airlock sandbox provisioned", "PROBE")) for level, text in got]
    assert got == expected


def test_json_log_format_has_sorted_keys(fake_limactl: FakeLima, demo: Path) -> None:
    result = limactl(
        "--log-format", "json", "start", "--tty=false", "--name=airlock-demo", str(demo)
    )
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert records and all(list(record) == sorted(record) for record in records)


def test_list_json_has_lima_key_order(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    ours = json.loads(limactl("list", "--json").stdout)
    theirs = json.loads((FIXTURES / "list-json-airlock-running.jsonl").read_text())
    assert list(ours) == list(theirs)
    for key in ("name", "status", "vmType", "arch", "cpus", "memory", "disk", "protected"):
        assert ours[key] == theirs[key], key
    assert ours["config"]["plain"] is True and ours["config"]["user"]["passwordlessSudo"] is False


def test_table_quiet_and_template_formats(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    header = (FIXTURES / "list-table.txt").read_text().splitlines()[0]
    table = limactl("list").stdout.splitlines()
    assert re.split(r"\s+", table[0]) == re.split(r"\s+", header)
    assert re.split(r"\s+", table[1])[:2] == ["airlock-demo", "Running"]
    assert limactl("list", "-q").stdout == "airlock-demo\n"
    assert limactl("list", "--format", "{{.Name}} {{.Status}}").stdout == "airlock-demo Running\n"


def test_unmatched_name_prints_the_header_then_fails(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    result = limactl("list", "nosuch")
    assert result.returncode == 1
    assert result.stdout == (FIXTURES / "list-table-unmatched-stdout.txt").read_text()
    assert messages(result.stderr) == fixture_messages("list-unmatched-stderr.log")


def test_already_running_start_succeeds(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    result = limactl("start", "airlock-demo")
    assert result.returncode == 0
    assert messages(result.stderr) == fixture_messages("start-already-running-stderr.log")


@pytest.mark.parametrize(
    ("args", "fixture"),
    [
        (("create", "--name", "airlock-demo", "template:default"), "create-fail-exists-stderr.log"),
        (("delete", "airlock-demo"), "delete-fail-running-stderr.log"),
        (("delete", "nosuch"), "delete-nonexistent-stderr.log"),
        (("shell", "nosuch", "true"), "shell-fail-nonexistent-stderr.log"),
    ],
)
def test_errors_match_the_recorded_ones(
    fake_limactl: FakeLima, demo: Path, args: tuple[str, ...], fixture: str
) -> None:
    start_demo(demo)
    result = limactl(*args)
    failing = "fatal" in (FIXTURES / fixture).read_text()
    assert result.returncode == (1 if failing else 0)
    assert messages(result.stderr, fake_limactl) == fixture_messages(fixture)


def test_stop_and_stopped_errors_match(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    stop = limactl("stop", "airlock-demo")
    assert messages(stop.stderr, fake_limactl) == [
        (level, re.sub(r"process \d+", "process 1", text))
        for level, text in fixture_messages("stop-stderr.log")
    ]
    for args, fixture in (
        (("stop", "airlock-demo"), "stop-fail-not-running-stderr.log"),
        (("shell", "airlock-demo", "true"), "shell-fail-stopped-stderr.log"),
        (("copy", "airlock-demo:/etc/hosts", "."), "copy-fail-stopped-stderr.log"),
    ):
        result = limactl(*args)
        assert result.returncode == 1
        assert messages(result.stderr, fake_limactl) == fixture_messages(fixture)


def test_stopped_instance_directory_looks_like_lima_s(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    limactl("stop", "airlock-demo")
    recorded = set((FIXTURES / "instance-dir-stopped-plain-qemu.txt").read_text().split())
    present = {entry.name for entry in fake_limactl.instance_dir("airlock-demo").iterdir()}
    assert {"lima.yaml", "lima-version", "ssh.config", "disk", "cidata.iso"} <= recorded & present
    assert not {name for name in present if name.endswith((".pid", ".sock"))}


def test_shell_exit_code_and_streams_pass_through(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    result = limactl(
        "shell", "airlock-demo", "--", "sh", "-c", "cat; echo e >&2; exit 7", stdin="in"
    )
    assert (result.returncode, result.stdout, result.stderr) == (7, "in", "e\n")


def test_guest_sees_no_host_files_and_runs_unprivileged(fake_limactl: FakeLima, demo: Path) -> None:
    start_demo(demo)
    result = limactl(
        "shell", "airlock-demo", "sh", "-c", f"id -u; test -e {demo} && echo visible; env"
    )
    lines = result.stdout.splitlines()
    assert lines[0] != "0"
    assert "visible" not in lines
    assert not any(line.startswith(("LIMA_HOME=", "FAKE_LIMACTL")) for line in lines)
