"""limactl's output as the driver reads it: log lines, start progress, `list --json`.

The inputs are the recorded fixtures of Lima v2.2.0 (tests/fakes/fixtures/limactl).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lima.logline import LogLine, fatal_message, go_unquote, parse_log, parse_log_line
from lima.models import Instance, format_bytes, parse_list_json
from lima.progress import ProgressParser, StartProgress, split_hint

FIXTURES = Path(__file__).parent / "fakes" / "fixtures" / "limactl"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def progress(text: str) -> list[StartProgress]:
    parser = ProgressParser()
    events = (parser.feed(line) for line in parse_log(text))
    return [event for event in events if event is not None]


def test_logfmt_line_gives_level_message_and_sorted_fields() -> None:
    line = parse_log_line(fixture("create-stderr.log").splitlines()[1])
    assert line.level == "info"
    assert line.msg == "Attempting to download the image"
    assert line.time == "2026-07-22T10:14:30+02:00"
    assert line.fields["arch"] == "x86_64"
    assert line.fields["location"].endswith("ubuntu-26.04-server-cloudimg-amd64.img")


def test_go_quoting_is_undone_including_escaped_quotes_and_backquotes() -> None:
    line = parse_log_line(fixture("start-fail-qemu-missing-stderr.log").splitlines()[3])
    assert line.level == "error"
    assert line.msg == '[hostagent] exec: "qemu-system-x86_64": executable file not found in $PATH'
    assert line.fields == {"fields.level": "fatal"}
    assert go_unquote(r'"a\\b\nc\x41\u00e9"') == "a\\b\ncAé"
    assert go_unquote("bare") == "bare"


def test_raw_lines_pass_through_without_a_level() -> None:
    line = parse_log_line("Downloading the image (ubuntu-26.04-server-cloudimg-amd64.img)")
    assert line == LogLine(msg="Downloading the image (ubuntu-26.04-server-cloudimg-amd64.img)")


def test_json_log_format_reads_like_the_text_format() -> None:
    text = [line.msg for line in parse_log(fixture("start-plain-new-stderr.log"))]
    json = [line.msg for line in parse_log(fixture("start-plain-new-stderr.json.log"))]
    assert text == json


def test_fatal_message_is_the_last_fatal_line() -> None:
    lines = parse_log(fixture("start-fail-timeout-stderr.log"))
    assert fatal_message(lines) == "did not receive an event with the `running` status"
    assert fatal_message(parse_log(fixture("start-plain-new-stderr.log"))) is None


def test_new_plain_instance_start_walks_through_every_phase() -> None:
    lines = [event.line() for event in progress(fixture("start-plain-new-stderr.log"))]
    assert lines == [
        "[1/7] creating the instance …",
        "[1/7] starting airlock-demo (qemu) …",
        "[2/7] downloading the image …",
        "[2/7] downloaded the image",
        "[3/7] booting the VM (QEMU) …",
        "[4/7] waiting for ssh (1 of 2) …",
        "[4/7] ssh: ok",
        "[4/7] waiting for Explicitly start ssh ControlMaster (2 of 2) …",
        "[4/7] Explicitly start ssh ControlMaster: ok",
        "[5/7] waiting for airlock egress firewall applied (1 of 1) …",
        "[5/7] airlock egress firewall applied: ok",
        "[6/7] waiting for boot scripts must have finished (1 of 1) …",
        "[6/7] boot scripts must have finished: ok",
        "[7/7] ready",
    ]


def test_json_log_start_gives_the_same_progress() -> None:
    assert progress(fixture("start-plain-new-stderr.json.log")) == progress(
        fixture("start-plain-new-stderr.log")
    )


def test_existing_instance_start_reports_optional_requirements_and_ready() -> None:
    events = progress(fixture("start-existing-default-stderr.log"))
    assert events[0].line() == "[1/7] using the existing instance default"
    assert "[5/7] containerd binaries to be installed: ok" in [e.line() for e in events]
    assert events[-1] == StartProgress(phase="ready", message="ready", ok=True)


def test_already_running_is_reported_as_ready() -> None:
    events = progress(fixture("start-already-running-stderr.log"))
    assert events[-1].line() == "[7/7] airlock-demo is already running"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("start-fail-exiting-stderr.log", "the VM's host agent exited"),
        ("start-fail-qemu-missing-stderr.log", "the VM's host agent exited"),
        ("start-fail-timeout-stderr.log", "timed out waiting for the VM"),
    ],
)
def test_failed_start_ends_with_a_readable_failure(name: str, reason: str) -> None:
    events = progress(fixture(name))
    assert events[-1].ok is False
    assert events[-1].line().endswith(f"failed: {reason}")


def test_qemu_missing_is_shown_as_it_happens() -> None:
    failures = [e.message for e in progress(fixture("start-fail-qemu-missing-stderr.log"))]
    assert any("qemu-system-x86_64" in message for message in failures)


def test_hint_is_taken_out_of_a_fatal_message() -> None:
    message = fatal_message(parse_log(fixture("start-fail-exiting-stderr.log")))
    assert message is not None
    assert split_hint(message) == (
        "the VM's host agent exited",
        "see `/home/alice/.lima/airlock-demo/ha.stderr.log`",
    )


def test_list_json_lines_become_instances() -> None:
    demo, default = parse_list_json(fixture("list-json.jsonl"))
    assert (demo.name, demo.status, demo.vm_type, demo.arch) == (
        "airlock-demo",
        "Stopped",
        "qemu",
        "x86_64",
    )
    assert (demo.cpus, demo.memory, demo.disk) == (4, 4 << 30, 20 << 30)
    assert demo.config is not None and demo.config["plain"] is True
    assert default.running and default.ssh_local_port == 41823
    assert demo.lima_version == "2.2.0"


def test_broken_instances_carry_readable_errors() -> None:
    demo, probe = parse_list_json(fixture("list-json-broken.jsonl"))
    assert demo.broken and demo.errors == []
    assert probe.broken
    assert probe.errors == ["open /home/alice/.lima/probe/lima.yaml: no such file or directory"]


def test_unknown_fields_are_tolerated_and_json_uses_lima_names() -> None:
    instance = Instance.model_validate_json('{"name": "x", "status": "Running", "future": 1}')
    dumped = instance.model_dump(mode="json")
    assert dumped["name"] == "x" and "vmType" in dumped and "config" not in dumped
    assert Instance.model_validate_json('{"name": "y", "limaVersion": "v2.2.0"}').lima_version == (
        "2.2.0"
    )


def test_sizes_print_as_in_limactl_table() -> None:
    table = fixture("list-table-broken.txt")
    assert all(size in table for size in (format_bytes(4 << 30), format_bytes(100 << 30)))
    assert format_bytes(0) == "0B"
    assert format_bytes(1536 << 20) == "1.5GiB"
