"""The Lima sandbox against the fake limactl: start, exec, and the copy-in / scan / copy-out cycle.

The fake runs guest commands for real (bubblewrap, an unprivileged user, the guest's
`/workspace`), so the backend's guest scripts, tar streams and kills are exercised.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from airlock.commands.common import started
from airlock.config import AirlockConfig, ProjectConfig, VMConfig
from airlock.errors import AirlockError
from airlock.network.client_env import proxy_env
from airlock.review.models import EntryType, Manifest
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore, sha256_bytes
from airlock.sandbox.base import SandboxError
from airlock.sandbox.lima import STATE_FILE, LimaSandbox, instance_name
from airlock.sandbox.lima_egress import PORT_BASE, PORT_SPAN, choose_port, derived_port
from airlock.session import Session
from lima.limactl import Limactl
from lima.models import Instance
from tests.fakes import miniyaml
from tests.fakes.lima import FakeLima
from tests.sandbox_support import changed, process_gone, run, shape
from tests.test_network_cli import FETCH, site  # noqa: F401 (a fixture)

OLD = 1_600_000_000
WEIRD = os.fsdecode(b"we ird\n'q\"\\\xff.txt")  # newline, quotes, backslash, invalid UTF-8


def project(tmp_path: Path, name: str = "notes", **vm: object) -> ProjectConfig:
    return ProjectConfig(name=name, path=tmp_path / "project", vm=VMConfig(**vm))  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects")


@pytest.fixture
def baseline(tmp_path: Path, store: ObjectStore) -> Manifest:
    """A small project: a script, a symlink, nested and empty folders, an awkward name."""
    root = tmp_path / "project"
    (root / "dir" / "deep").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_text("hello\n")
    (root / "gone.txt").write_text("bye\n")
    (root / "dir" / "b.txt").write_text("b\n")
    (root / "dir" / "deep" / "c.txt").write_text("c\n")
    (root / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("a.txt")
    (root / WEIRD).write_bytes(b"weird\n")
    for path in root.rglob("*"):
        os.utime(path, (OLD, OLD), follow_symlinks=False)
    return scan_tree(root, store=store)


@pytest.fixture
async def box(fake_limactl: FakeLima, tmp_path: Path) -> AsyncIterator[LimaSandbox]:
    sandbox = LimaSandbox(project(tmp_path), tmp_path / "session")
    (tmp_path / "session").mkdir()
    await sandbox.start()
    yield sandbox
    await sandbox.close()


# Start


async def test_start_creates_the_instance_sized_from_the_project_with_progress(
    fake_limactl: FakeLima, tmp_path: Path
) -> None:
    sandbox = LimaSandbox(project(tmp_path, cpus=3, memory="3GiB"), tmp_path / "s")
    lines: list[str] = []
    assert sandbox.label == "lima: airlock-notes"
    await sandbox.start(lines.append)
    assert lines[0] == "[1/7] creating the instance …"
    assert lines[-1] == "[7/7] ready"
    assert sandbox.kind == "lima" and sandbox.label == "lima: airlock-notes (Running)"
    instance = await sandbox.limactl.instance("airlock-notes")
    assert instance is not None and (instance.cpus, instance.memory) == (3, 3 << 30)


async def test_starting_again_reuses_the_running_instance(box: LimaSandbox) -> None:
    lines: list[str] = []
    await box.start(lines.append)
    assert lines == []


# Exec


async def test_commands_run_unprivileged_in_workspace(box: LimaSandbox) -> None:
    out = await run(box, "id -u; pwd")
    uid, cwd = out.split()
    assert uid != "0" and cwd == "/workspace"


async def test_output_is_streamed_with_exit_code(box: LimaSandbox) -> None:
    chunks: list[tuple[str, bytes]] = []
    result = await box.exec(
        "echo out; echo err >&2; exit 3", on_output=lambda s, c: chunks.append((s, c))
    )
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"out\n", b"err\n")
    assert ("stdout", b"out\n") in chunks and ("stderr", b"err\n") in chunks


async def test_stdin_is_fed_and_argv_is_not_shell_parsed(box: LimaSandbox) -> None:
    result = await box.exec(["sh", "-c", 'cat; printf "[%s]" "$0"', "$HOME *"], stdin=b"in\n")
    assert result.stdout == b"in\n[$HOME *]"


async def test_environment_is_clean_apart_from_the_proxy_and_what_is_passed(
    box: LimaSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-host-secret")
    env = dict(
        line.split("=", 1)
        for line in (await box.exec(["env"], env={"K": "v w"})).stdout.decode().splitlines()
    )
    assert env["K"] == "v w"
    assert "ANTHROPIC_API_KEY" not in env
    port = await box.egress_port()
    assert set(env) <= {"HOME", "USER", "LOGNAME", "PATH", "LANG", "TERM", "K", *proxy_env(port)}
    assert env["https_proxy"].endswith(f":{port}")  # the host, as the (fake) guest sees it
    with pytest.raises(SandboxError, match="invalid environment variable name"):
        await box.exec("true", env={"A=B": "x"})


async def test_timeout_ends_with_124_and_kills_the_command_in_the_guest(
    box: LimaSandbox, fake_limactl: FakeLima
) -> None:
    result = await box.exec("echo $$ > pid; echo started; exec sleep 60", timeout=1)
    assert result.timed_out and result.exit_code == 124
    assert result.stdout == b"started\n"
    pid = int((fake_limactl.workspace(box.name) / "pid").read_text())
    assert process_gone(pid)


async def test_cancel_kills_the_whole_command_tree_in_the_guest(
    box: LimaSandbox, fake_limactl: FakeLima
) -> None:
    ready = asyncio.Event()
    command = "sleep 60 & echo $! > child; echo $$ > pid; echo ready; wait"
    task = asyncio.ensure_future(box.exec(command, on_output=lambda stream, chunk: ready.set()))
    await ready.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    workspace = fake_limactl.workspace(box.name)
    for name in ("pid", "child"):
        assert process_gone(int((workspace / name).read_text())), name


# Load, scan, read, write, revert


async def test_loaded_workspace_matches_the_baseline(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await run(box, "echo leftover > stale.txt")
    await box.load(baseline, store)
    assert shape(await box.scan()) == shape(baseline)


async def test_scan_reports_exactly_what_a_command_changed(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await box.load(baseline, store)
    await run(
        box,
        "echo more >> a.txt; rm gone.txt; chmod 700 run.sh; ln -s dir newlink; "
        "mkfifo pipe; mkdir -p new/sub && echo x > new/sub/n.txt; "
        "find . -name 'we*' -type f -exec sh -c 'echo changed > \"$1\"' sh {} ';'",
    )
    after = await box.scan()
    assert changed(baseline, after) == {
        "a.txt", "gone.txt", "run.sh", "newlink", "pipe", "new", "new/sub", "new/sub/n.txt", WEIRD,
    }  # fmt: skip
    assert after["a.txt"].digest == sha256_bytes(b"hello\nmore\n")
    assert after["run.sh"].mode == 0o700
    assert (after["newlink"].type, after["newlink"].target) == (EntryType.SYMLINK, "dir")
    assert (after["pipe"].type, after["pipe"].special) == (EntryType.OTHER, "fifo")
    assert after[WEIRD].digest == sha256_bytes(b"changed\n")


async def test_same_size_rewrite_right_after_load_is_detected(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await box.load(baseline, store)
    await run(box, f"printf 'HELLO\\n' > a.txt; touch -d @{OLD} a.txt")
    assert changed(baseline, await box.scan()) == {"a.txt"}


async def test_unchanged_files_keep_the_loaded_digest_without_being_read(
    fake_limactl: FakeLima, box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    """A resumed sandbox reads the load snapshot; only files touched since are hashed."""
    await box.load(baseline, store)
    state_path = box.root / STATE_FILE
    state = json.loads(state_path.read_text())
    state["manifest"]["dir/b.txt"]["digest"] = "f" * 64  # what the load recorded
    state_path.write_text(json.dumps(state))
    await run(box, "echo new > dir/deep/c.txt")
    resumed = LimaSandbox(box.project, box.root)
    after = await resumed.scan()
    assert after["dir/b.txt"].digest == "f" * 64
    assert after["dir/deep/c.txt"].digest == sha256_bytes(b"new\n")


async def test_read_returns_contents_in_one_round_trip(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await box.load(baseline, store)
    assert await box.read(["a.txt", WEIRD, "dir/deep/c.txt"]) == {
        "a.txt": b"hello\n",
        WEIRD: b"weird\n",
        "dir/deep/c.txt": b"c\n",
    }
    assert await box.read([]) == {}


@pytest.mark.parametrize("path", ["link", "dir", "missing.txt", "pipe"])
async def test_reading_anything_but_a_regular_file_fails_cleanly(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore, path: str
) -> None:
    await box.load(baseline, store)
    await run(box, "mkfifo pipe")
    with pytest.raises(SandboxError, match=f"cannot read {path}"):
        await box.read([path])


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", ""])
async def test_paths_outside_the_workspace_are_refused(box: LimaSandbox, path: str) -> None:
    with pytest.raises(SandboxError):
        await box.read([path])
    with pytest.raises(SandboxError):
        await box.write({path: b"x"})


async def test_write_keeps_the_mode_of_existing_files_and_makes_new_ones_0644(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await box.load(baseline, store)
    await box.write({"run.sh": b"#!/bin/sh\necho new\n", "deep/new/file.txt": b"n", "link": b"l"})
    after = await box.scan()
    assert (after["run.sh"].mode, after["run.sh"].digest) == (
        0o755,
        sha256_bytes(b"#!/bin/sh\necho new\n"),
    )
    assert after["deep/new/file.txt"].mode == 0o644
    assert after["link"].type is EntryType.FILE  # a symlink is replaced, never followed
    assert after["a.txt"].digest == sha256_bytes(b"hello\n")


async def test_big_files_stream_both_ways(
    box: LimaSandbox, tmp_path: Path, store: ObjectStore
) -> None:
    big = os.urandom(3 << 20)  # several chunks of the tar stream
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "blob.bin").write_bytes(big)
    await box.load(scan_tree(tmp_path / "big", store=store), store)
    await box.write({"copy.bin": big[::-1]})
    assert await box.read(["blob.bin", "copy.bin"]) == {"blob.bin": big, "copy.bin": big[::-1]}
    scanned = await box.scan()
    assert scanned["blob.bin"].digest == sha256_bytes(big)
    assert scanned["copy.bin"].digest == sha256_bytes(big[::-1])


async def test_writing_over_a_folder_fails_and_keeps_it(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await box.load(baseline, store)
    with pytest.raises(SandboxError, match="could not write files in the Lima sandbox"):
        await box.write({"dir": b"x"})
    assert (await box.read(["dir/b.txt"])) == {"dir/b.txt": b"b\n"}


async def test_revert_restores_contents_modes_links_and_removes_added_trees(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await box.load(baseline, store)
    await run(
        box,
        "echo changed > a.txt; rm gone.txt; chmod 600 run.sh; rm link; mkdir link; "
        "mkdir -p added/deep && touch added/deep/f; chmod 500 added/deep added dir",
    )
    await box.revert(
        {
            "a.txt": baseline["a.txt"],
            "gone.txt": baseline["gone.txt"],
            "run.sh": baseline["run.sh"],
            "link": baseline["link"],
            "added": None,
            "added/deep": None,
            "added/deep/f": None,
            "dir": baseline["dir"],
        },
        store,
    )
    assert shape(await box.scan()) == shape(baseline)


async def test_load_never_sets_setuid_setgid_or_sticky_bits(
    box: LimaSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    from dataclasses import replace

    risky = dict(baseline)
    risky["run.sh"] = replace(baseline["run.sh"], mode=0o6755)
    risky["dir"] = replace(baseline["dir"], mode=0o1777)
    await box.load(risky, store)
    after = await box.scan()
    assert (after["run.sh"].mode, after["dir"].mode) == (0o755, 0o777)


# Failures


async def test_missing_limactl_is_a_clear_sandbox_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="limactl not found") as caught:
        await LimaSandbox(project(tmp_path), tmp_path / "s").start()
    assert "lima-vm.io" in (caught.value.hint or "")


async def test_start_failure_shows_the_last_log_lines(
    fake_limactl: FakeLima, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "exiting")
    with pytest.raises(SandboxError) as caught:
        await LimaSandbox(project(tmp_path), tmp_path / "s").start()
    message = caught.value.message
    assert message.startswith("Lima instance 'airlock-notes' failed to start: the VM's host agent")
    assert "| [hostagent] Driver stopped due to error" in message
    assert "ha.stderr.log" in (caught.value.hint or "")


async def test_broken_instance_is_reported_with_its_errors(
    fake_limactl: FakeLima, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LIMACTL_START_FAIL", "broken")
    await LimaSandbox(project(tmp_path), tmp_path / "s").start()
    with pytest.raises(SandboxError, match="is broken: host agent is running but driver is not"):
        await LimaSandbox(project(tmp_path), tmp_path / "s").start()


async def test_commands_on_a_stopped_vm_say_so(box: LimaSandbox) -> None:
    await box.limactl.stop(box.name)
    with pytest.raises(SandboxError, match="is not running"):
        await box.exec("true")
    assert box.label == "lima: airlock-notes (Stopped)"


def test_instance_names_are_valid_short_and_distinct(tmp_path: Path) -> None:
    names = {
        instance_name(project(tmp_path, name=name))
        for name in ("notes", "Notes", "my_notes", "my-notes", "my.notes", "x" * 63, "x" * 62 + "y")
    }
    assert len(names) == 7
    assert instance_name(project(tmp_path, name="notes")) == "airlock-notes"
    for name in names:
        assert len(name) <= 48
        assert all(part.isalnum() for part in name.split("-")), name


# Egress: the instance's proxy port, passed as Lima params; a session behind it


def lima_params_on_disk(fake: FakeLima, name: str) -> dict[str, str]:
    data = miniyaml.loads((fake.instance_dir(name) / "lima.yaml").read_text())
    return dict(data["param"])


def lima_session(tmp_path: Path) -> Session:
    """A new Lima session on a project of one file."""
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "a.txt").write_text("a\n")
    return Session.create(project(tmp_path), AirlockConfig(), sandbox_choice="lima")


async def test_a_lima_session_listens_on_the_port_its_instance_is_made_with(
    fake_limactl: FakeLima, tmp_path: Path
) -> None:
    session = lima_session(tmp_path)
    await session.start()
    try:
        box = session.sandbox
        assert isinstance(box, LimaSandbox)
        port = box.proxy_port
        assert port is not None and PORT_BASE <= port < PORT_BASE + PORT_SPAN
        assert lima_params_on_disk(fake_limactl, box.name) == {
            "AIRLOCK_PROXY_PORT": str(port),
            "AIRLOCK_ALLOW_DNS": "false",
        }
        _, writer = await asyncio.open_connection("127.0.0.1", port)  # the proxy is there
        writer.close()
    finally:
        await session.close()


async def test_a_stopped_instance_boots_with_the_project_s_current_egress_params(
    box: LimaSandbox, fake_limactl: FakeLima, tmp_path: Path
) -> None:
    port = await box.egress_port()
    await box.limactl.stop(box.name)
    dns = LimaSandbox(box.project.model_copy(update={"allow_dns": True}), box.root)
    await dns.start()
    assert lima_params_on_disk(fake_limactl, box.name) == {
        "AIRLOCK_PROXY_PORT": str(port),
        "AIRLOCK_ALLOW_DNS": "true",
    }
    instance = await box.limactl.instance(box.name)
    assert instance is not None and instance.config is not None
    assert instance.config["param"]["AIRLOCK_ALLOW_DNS"] == "true"
    with pytest.raises(SandboxError, match="runs with other egress settings") as caught:
        await LimaSandbox(box.project, box.root).start()  # still running with DNS allowed
    assert (
        caught.value.hint
        == f"stop it (`airlock vm stop {box.name}`); the next session starts it anew"
    )


async def test_a_busy_port_moves_a_stopped_instance_and_stops_a_session_on_a_running_one(
    box: LimaSandbox, fake_limactl: FakeLima, tmp_path: Path
) -> None:
    port = await box.egress_port()
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        session = Session.create(box.project, AirlockConfig(), sandbox_choice="lima")
        with pytest.raises(AirlockError) as caught:
            await session.start()
        await session.close()
        assert str(caught.value).startswith(
            f"the egress proxy cannot listen on 127.0.0.1:{port}: Address already in use"
        )
        assert "another Airlock session of this project" in (caught.value.hint or "")
        await box.limactl.stop(box.name)
        moved = LimaSandbox(box.project, box.root)
        await moved.start()
    assert moved.proxy_port not in (None, port)
    assert lima_params_on_disk(fake_limactl, box.name)["AIRLOCK_PROXY_PORT"] == str(
        moved.proxy_port
    )


async def test_an_instance_made_without_the_firewall_is_refused(
    fake_limactl: FakeLima, tmp_path: Path
) -> None:
    sandbox = LimaSandbox(project(tmp_path), tmp_path / "s")
    await sandbox.limactl.start(sandbox.name, template="template:default")
    with pytest.raises(
        SandboxError, match="was not made with the Airlock egress firewall"
    ) as caught:
        await sandbox.start()
    assert caught.value.hint == (
        f"delete it (`airlock vm delete {sandbox.name}`); the next session recreates it"
    )


def test_ports_stay_apart_from_other_instances() -> None:
    def made(name: str, port: int) -> Instance:
        param = {"AIRLOCK_PROXY_PORT": str(port), "AIRLOCK_ALLOW_DNS": "false"}
        return Instance(name=name, status="Stopped", config={"param": param})

    wanted = derived_port("airlock-a")
    assert derived_port("airlock-a") == wanted  # the same on every machine
    assert choose_port("airlock-a", [made("airlock-b", wanted)], False) != wanted
    assert choose_port("airlock-a", [made("airlock-a", 23456)], False) == 23456


needs_network_tools = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="the fake guest's network needs bubblewrap"
)


@needs_network_tools
async def test_a_lima_session_reaches_exactly_the_allowed_domain_through_its_proxy(
    fake_limactl: FakeLima,
    tmp_path: Path,
    site: int,  # noqa: F811 (the imported fixture)
) -> None:
    (tmp_path / "project").mkdir()
    allowed = project(tmp_path).model_copy(update={"allowlist": ["allowed.test"]})
    session = Session.create(allowed, AirlockConfig(), sandbox_choice="lima")
    await session.start()
    try:

        async def fetch(url: str) -> tuple[int, bytes, bytes]:
            result = await session.exec(["python3", "-c", FETCH, url])
            return result.exit_code, result.stdout, result.stderr

        assert await fetch("http://allowed.test/") == (0, b"hello from allowed.test\n", b"")
        code, _, err = await fetch("http://denied.test/")
        assert code == 1 and b"HTTP 403" in err
        direct = f"import socket; print(socket.socket().connect_ex(('127.0.0.1', {site})))"
        result = await session.exec(["python3", "-c", direct])
        assert result.stdout.strip() != b"0"  # nothing but the proxy leads out
    finally:
        await session.close()


async def test_the_fake_limactl_takes_params_like_lima(
    box: LimaSandbox, fake_limactl: FakeLima
) -> None:
    """`start NAME --param K=V` rewrites lima.yaml; a param the template lacks is fatal."""
    await box.limactl.stop(box.name)
    undeclared = await box.limactl.run(["start", "--param", "NOPE=1", box.name])
    assert undeclared.exit_code == 1 and b"template does not define param" in undeclared.stderr
    started = await box.limactl.run(["start", "--param", "AIRLOCK_PROXY_PORT=23456", box.name])
    assert started.exit_code == 0
    assert lima_params_on_disk(fake_limactl, box.name)["AIRLOCK_PROXY_PORT"] == "23456"


async def test_a_deleted_vm_is_noticed_and_never_shows_the_project_as_deleted(
    fake_limactl: FakeLima, tmp_path: Path
) -> None:
    async with started(lima_session(tmp_path)) as session:
        await session.exec("echo precious > precious.txt")
        assert [c.path for c in await session.refresh()] == ["precious.txt"]
        name = session.sandbox.name  # type: ignore[attr-defined]
    await Limactl().delete(name, force=True)

    statuses: list[str] = []
    again = Session.resume(project(tmp_path), AirlockConfig())
    again.listeners.append(lambda event: statuses.append(getattr(event, "message", "")))
    async with started(again):
        assert any("no longer holds this session's copy" in s for s in statuses)
        assert await again.refresh() == []  # the project as it is, not all of it deleted
        assert (fake_limactl.workspace(name) / "a.txt").read_text() == "a\n"
