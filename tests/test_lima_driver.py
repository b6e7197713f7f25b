"""The async `limactl` driver against the fake limactl: commands, progress and typed errors."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from lima.errors import (
    InstanceBroken,
    InstanceExists,
    InstanceNotFound,
    InstanceNotRunning,
    LimactlNotFound,
    LimactlRefusesRoot,
    StartFailed,
)
from lima.limactl import Limactl
from lima.progress import StartProgress
from lima.template import render_template
from tests.fakes.lima import FakeLima

TEMPLATE = render_template(cpus=2, memory="2GiB", disk="10GiB")


async def started(name: str = "airlock-demo", **kwargs: object) -> Limactl:
    limactl = Limactl()
    await limactl.ensure_running(name, TEMPLATE, **kwargs)  # type: ignore[arg-type]
    return limactl


def processes_with(text: str) -> list[int]:
    """Pids of processes whose command line contains `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry))
    return found


async def test_version_is_read_without_the_v(fake_limactl: FakeLima) -> None:
    assert await Limactl().version() == "2.2.0"


async def test_no_instances_is_an_empty_list(fake_limactl: FakeLima) -> None:
    assert await Limactl().instances() == []


async def test_creating_from_the_template_reports_progress_and_runs(
    fake_limactl: FakeLima,
) -> None:
    events: list[StartProgress] = []
    limactl = Limactl()
    created = await limactl.ensure_running("airlock-demo", TEMPLATE, on_progress=events.append)
    assert created
    assert events[0].line() == "[1/7] creating the instance …"
    assert "[5/7] airlock sandbox provisioned: ok" in [event.line() for event in events]
    assert events[-1].line() == "[7/7] ready"
    (instance,) = await limactl.instances()
    assert (instance.name, instance.status, instance.cpus, instance.memory) == (
        "airlock-demo",
        "Running",
        2,
        2 << 30,
    )
    assert fake_limactl.workspace("airlock-demo").is_dir()


async def test_progress_arrives_while_limactl_is_still_starting(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_DELAY", "0.2")
    running_during_ssh: list[bool] = []

    def seen(event: StartProgress) -> None:
        if event.message.startswith("waiting for ssh"):
            running_during_ssh.append(bool(processes_with("--name=airlock-slow")))

    await Limactl().ensure_running("airlock-slow", TEMPLATE, on_progress=seen)
    assert running_during_ssh == [True]


async def test_a_stopped_instance_is_started_again(fake_limactl: FakeLima) -> None:
    limactl = await started()
    await limactl.stop("airlock-demo")
    assert (await limactl.instance("airlock-demo")).status == "Stopped"  # type: ignore[union-attr]
    events: list[StartProgress] = []
    assert not await limactl.ensure_running("airlock-demo", TEMPLATE, on_progress=events.append)
    assert events[0].line() == "[1/7] using the existing instance airlock-demo"
    assert (await limactl.instance("airlock-demo")).running  # type: ignore[union-attr]


async def test_starting_a_running_instance_does_nothing(fake_limactl: FakeLima) -> None:
    limactl = await started()
    assert not await limactl.ensure_running("airlock-demo", TEMPLATE)


async def test_create_on_a_taken_name_is_instance_exists(
    fake_limactl: FakeLima, tmp_path: Path
) -> None:
    limactl = await started()
    template = tmp_path / "t.yaml"
    template.write_text(TEMPLATE)
    with pytest.raises(InstanceExists, match="'airlock-demo' already exists"):
        await limactl.create("airlock-demo", template)
    with pytest.raises(InstanceExists):
        await limactl.start("airlock-demo", template=template)


async def test_stop_force_and_delete(fake_limactl: FakeLima) -> None:
    limactl = await started()
    await limactl.stop("airlock-demo", force=True)
    await limactl.delete("airlock-demo")
    assert await limactl.instances() == []
    assert not fake_limactl.instance_dir("airlock-demo").exists()


async def test_unknown_instances_are_instance_not_found(fake_limactl: FakeLima) -> None:
    limactl = Limactl()
    assert await limactl.instance("nosuch") is None
    with pytest.raises(InstanceNotFound, match="'nosuch' does not exist"):
        await limactl.stop("nosuch")
    with pytest.raises(InstanceNotFound):
        await limactl.shell("nosuch", ["true"])


async def test_shell_runs_in_the_guest_with_stdin_and_exit_code(fake_limactl: FakeLima) -> None:
    limactl = await started()
    chunks: list[tuple[str, bytes]] = []
    result = await limactl.shell(
        "airlock-demo",
        ["sh", "-c", "pwd; cat; echo oops >&2; exit 7"],
        workdir="/workspace",
        stdin=b"from the host\n",
        on_output=lambda stream, chunk: chunks.append((stream, chunk)),
    )
    assert result.exit_code == 7
    assert result.stdout == b"/workspace\nfrom the host\n"
    assert result.stderr == b"oops\n"
    assert b"".join(c for s, c in chunks if s == "stdout") == result.stdout


async def test_shell_arguments_arrive_unchanged(fake_limactl: FakeLima) -> None:
    limactl = await started()
    weird = ["it's", 'a "quote"', "back\\slash", "new\nline", "$HOME", "*", "--flag"]
    result = await limactl.shell("airlock-demo", ["printf", "%s\\0", *weird])
    assert result.stdout.split(b"\0")[:-1] == [arg.encode() for arg in weird]


async def test_shell_without_workdir_starts_in_the_guest_home(fake_limactl: FakeLima) -> None:
    limactl = await started()
    result = await limactl.shell("airlock-demo", ["sh", "-c", 'pwd; echo "$HOME"'])
    home = result.stdout.decode().split()
    assert home[0] == home[1] and home[0].endswith(".guest")


async def test_missing_workdir_fails_like_bash(fake_limactl: FakeLima) -> None:
    limactl = await started()
    result = await limactl.shell("airlock-demo", ["true"], workdir="/nowhere")
    assert result.exit_code == 1
    assert b"cd: /nowhere: No such file or directory" in result.stderr


async def test_shell_on_a_stopped_instance_is_instance_not_running(fake_limactl: FakeLima) -> None:
    limactl = await started()
    await limactl.stop("airlock-demo")
    with pytest.raises(InstanceNotRunning, match="is not running"):
        await limactl.shell("airlock-demo", ["true"])


async def test_shell_timeout_kills_limactl_but_the_guest_command_survives(
    fake_limactl: FakeLima,
) -> None:
    """As with real ssh: the caller must clean up in the guest (the sandbox does)."""
    limactl = await started()
    script = "echo $$ > /workspace/pid; echo started; exec sleep 30"
    result = await limactl.shell("airlock-demo", ["sh", "-c", script], timeout=1)
    assert result.timed_out and result.exit_code == 124
    assert result.stdout == b"started\n"
    pid = int((fake_limactl.workspace("airlock-demo") / "pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    os.kill(pid, 9)


async def test_copy_in_both_directions(fake_limactl: FakeLima, tmp_path: Path) -> None:
    limactl = await started()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("hello")
    await limactl.copy([str(tmp_path / "in")], "airlock-demo:/workspace/", recursive=True)
    assert (fake_limactl.workspace("airlock-demo") / "in" / "a.txt").read_text() == "hello"
    await limactl.copy(["airlock-demo:/workspace/in/a.txt"], str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "hello"


async def test_start_failure_carries_the_last_log_lines(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "qemu-missing")
    with pytest.raises(StartFailed) as caught:
        await started()
    error = caught.value
    assert error.reason == "the VM's host agent exited"
    assert error.hint is not None and error.hint.endswith("ha.stderr.log`")
    assert any("qemu-system" in line for line in error.log_tail)
    assert "| [hostagent] exec:" in str(error)


async def test_start_that_never_gets_ready_times_out_with_a_stop_hint(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "timeout")
    with pytest.raises(StartFailed, match="timed out waiting for the VM") as caught:
        await started(timeout=1)
    assert "limactl stop -f airlock-demo" in (caught.value.hint or "")


async def test_degraded_start_fails(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "degraded")
    with pytest.raises(StartFailed, match="a readiness check failed"):
        await started()


async def test_cancelling_a_start_kills_limactl(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "timeout")  # hangs until --timeout
    waiting = asyncio.Event()

    def seen(event: StartProgress) -> None:
        if event.message.startswith("waiting for ssh"):
            waiting.set()

    task = asyncio.ensure_future(started("airlock-hang", on_progress=seen))
    await waiting.wait()
    assert processes_with("--name=airlock-hang")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert processes_with("--name=airlock-hang") == []


async def test_broken_instance_is_refused_with_its_errors(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "broken")
    limactl = await started()
    instance = await limactl.instance("airlock-demo")
    assert instance is not None and instance.broken
    assert instance.errors == ["host agent is running but driver is not"]
    with pytest.raises(InstanceBroken, match="host agent is running but driver is not") as caught:
        await limactl.ensure_running("airlock-demo", TEMPLATE)
    assert "stop -f airlock-demo" in (caught.value.hint or "")
    with pytest.raises(InstanceBroken):
        await limactl.start("airlock-demo")


async def test_limactl_refusing_root_is_a_clear_error(
    fake_limactl: FakeLima, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_REFUSE_ROOT", "1")
    with pytest.raises(LimactlRefusesRoot, match="refuses to run as the root user"):
        await Limactl().instances()


async def test_missing_limactl_names_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LimactlNotFound) as caught:
        await Limactl().instances()
    assert "limactl not found on PATH" in caught.value.message
    assert "lima-vm.io" in (caught.value.hint or "")
