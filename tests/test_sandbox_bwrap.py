"""The bubblewrap sandbox, for real: isolation, exec, and the staging copy's life cycle."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import stat
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from airlock.review.models import EntryType, Manifest
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore, sha256_bytes
from airlock.sandbox.base import SandboxError
from airlock.sandbox.bwrap import BwrapSandbox
from airlock.sandbox.bwrap_args import (
    Bind,
    NamespaceSpec,
    SystemLayout,
    bwrap_argv,
    detect_system,
)
from tests.sandbox_support import changed, run

OLD = 1_600_000_000  # a whole second, so `touch -d @OLD` restores it exactly


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[BwrapSandbox]:
    box = BwrapSandbox(tmp_path / "sandbox")
    await box.start()
    yield box
    await box.close()


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects")


@pytest.fixture
def baseline(tmp_path: Path, store: ObjectStore) -> Manifest:
    """A small project with a script, a symlink, nested and empty folders."""
    project = tmp_path / "project"
    (project / "dir" / "deep").mkdir(parents=True)
    (project / "empty").mkdir()
    (project / "a.txt").write_text("hello\n")
    (project / "gone.txt").write_text("bye\n")
    (project / "dir" / "b.txt").write_text("b\n")
    (project / "dir" / "deep" / "c.txt").write_text("c\n")
    (project / "run.sh").write_text("#!/bin/sh\necho run\n")
    (project / "run.sh").chmod(0o755)
    (project / "link").symlink_to("a.txt")
    for path in project.rglob("*"):
        os.utime(path, (OLD, OLD), follow_symlinks=False)
    return scan_tree(project, store=store)


# Isolation


async def test_commands_run_as_an_unprivileged_user_in_workspace(sandbox: BwrapSandbox) -> None:
    out = await run(sandbox, "id -u; id -g; id -un; pwd; hostname")
    assert out.split() == ["1000", "1000", "agent", "/workspace", "airlock"]


async def test_host_environment_never_enters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    box = BwrapSandbox(tmp_path / "sandbox", env={"FROM_SESSION": "yes"})
    await box.start()
    result = await box.exec(["env"], env={"FROM_CALL": "1"})
    env = dict(line.split("=", 1) for line in result.stdout.decode().splitlines())
    assert "secret" not in result.stdout.decode()
    assert env["HOME"] == "/home/agent"
    assert env["FROM_SESSION"] == "yes"
    assert env["FROM_CALL"] == "1"
    assert set(env) <= {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM", "PWD", "SHLVL", "_"} | {
        "FROM_SESSION",
        "FROM_CALL",
    }


async def test_no_network_not_even_the_hosts_loopback(sandbox: BwrapSandbox) -> None:
    connections: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await sandbox.exec(f"echo hi > /dev/tcp/127.0.0.1/{port}")
        interfaces = await run(sandbox, "tail -n +3 /proc/net/dev | cut -d: -f1")
    assert result.exit_code != 0
    assert connections == []
    assert interfaces.split() == ["lo"]


async def test_host_filesystem_is_read_only_and_the_rest_of_the_host_invisible(
    tmp_path: Path, sandbox: BwrapSandbox
) -> None:
    (tmp_path / "secret.txt").write_text("do not read")
    script = f"""
        for path in /usr/x /etc/x /x /home/x {tmp_path}/x; do
            touch "$path" 2>/dev/null && echo "wrote $path"
        done
        cat {tmp_path}/secret.txt 2>/dev/null
        ls /root 2>/dev/null && echo "sees /root"
        grep -c '^root:' /etc/passwd
        touch /workspace/ok /tmp/ok ~/ok && echo writable
    """
    result = await sandbox.exec(script)
    assert result.stdout.decode().split("\n") == ["0", "writable", ""]
    assert (sandbox.workspace / "ok").exists()
    assert not (tmp_path / "x").exists()


async def test_host_processes_are_invisible(sandbox: BwrapSandbox) -> None:
    out = await run(sandbox, "cat /proc/[0-9]*/comm")
    assert set(out.split()) <= {"bwrap", "bash", "cat"}  # the namespace's init, the command


async def test_extra_binds_env_and_wrapper_reach_the_command(tmp_path: Path) -> None:
    """What the egress proxy needs: its Unix socket inside, proxy variables, a forwarder."""
    folder = tmp_path / "proxy"
    folder.mkdir()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / "proxy.sock"))
    listener.listen(1)
    box = BwrapSandbox(
        tmp_path / "sandbox",
        env={"HTTPS_PROXY": "http://127.0.0.1:3128"},
        binds=[Bind(source=folder, dest="/run/airlock")],
        wrapper=["env", "FORWARDER=on"],
    )
    await box.start()
    send = "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/airlock/proxy.sock')"
    result = await box.exec(f'echo "$FORWARDER $HTTPS_PROXY"; python3 -c "{send}; s.send(b\'hi\')"')
    connection, _ = listener.accept()
    assert connection.recv(2) == b"hi"
    assert result.stdout == b"on http://127.0.0.1:3128\n"
    connection.close()
    listener.close()


def test_argv_keeps_binds_inside_the_read_only_root_and_the_wrapper_before_the_command() -> None:
    spec = NamespaceSpec(
        workspace=Path("/data/ws"),
        home=Path("/data/home"),
        identity=Path("/data/etc"),
        system=SystemLayout(links={"bin": "usr/bin"}, shell="/bin/bash"),
        binds=[Bind(source=Path("/run/proxy"), dest="/run/airlock")],
        wrapper=["/opt/forward"],
        env={"HOME": "/elsewhere"},
    )
    argv = bwrap_argv("bwrap", spec, ["make", "test"], env={"X": "1"})
    assert argv[-4:] == ["--", "/opt/forward", "make", "test"]
    assert argv.index("/run/airlock") < argv.index("--remount-ro") < argv.index("--clearenv")
    assert {"--unshare-all", "--die-with-parent", "--new-session", "--disable-userns"} <= set(argv)
    runs = {tuple(argv[i : i + 3]) for i in range(len(argv))}
    assert ("--bind", "/data/ws", "/workspace") in runs
    assert ("--setenv", "HOME", "/elsewhere") in runs  # the caller's env wins
    assert ("--setenv", "X", "1") in runs


def test_system_layout_follows_the_host_usrmerged_or_not(tmp_path: Path) -> None:
    merged, classic = tmp_path / "merged", tmp_path / "classic"
    (merged / "usr" / "bin").mkdir(parents=True)
    (merged / "usr" / "bin" / "bash").touch()
    (merged / "bin").symlink_to("usr/bin")
    (classic / "bin").mkdir(parents=True)
    (classic / "lib").mkdir()
    assert detect_system(merged) == SystemLayout(links={"bin": "usr/bin"}, shell="/bin/bash")
    assert detect_system(classic) == SystemLayout(folders=["bin", "lib"], shell="/bin/sh")


# Exec


async def test_output_is_streamed_with_exit_code_and_duration(sandbox: BwrapSandbox) -> None:
    chunks: list[tuple[str, bytes]] = []
    result = await sandbox.exec(
        "echo out; echo err >&2; exit 3", on_output=lambda name, data: chunks.append((name, data))
    )
    assert result.exit_code == 3
    assert result.duration > 0
    assert (result.stdout, result.stderr) == (b"out\n", b"err\n")
    assert b"".join(data for name, data in chunks if name == "stdout") == b"out\n"
    assert b"".join(data for name, data in chunks if name == "stderr") == b"err\n"


async def test_stdin_is_fed_and_argv_is_not_shell_parsed(sandbox: BwrapSandbox) -> None:
    assert (await sandbox.exec(["cat"], stdin=b"piped\n")).stdout == b"piped\n"
    assert (await sandbox.exec(["printf", "%s", "$HOME; ls"])).stdout == b"$HOME; ls"


async def test_timeout_ends_with_124(sandbox: BwrapSandbox) -> None:
    result = await sandbox.exec("echo started; sleep 1000", timeout=0.5)
    assert (result.exit_code, result.timed_out, result.stdout) == (124, True, b"started\n")


async def test_cancel_kills_the_whole_process_tree(sandbox: BwrapSandbox) -> None:
    """Every process holds the fifo open; its reader sees EOF only when all are dead."""
    fifo = sandbox.workspace / "alive"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    ready = asyncio.Event()
    command = "exec 3>alive; sleep 1000 & setsid sleep 1000 & echo ready; sleep 1000"
    task = asyncio.create_task(
        sandbox.exec(command, on_output=lambda _, data: ready.set() if b"ready" in data else None)
    )
    await ready.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(select.select, [reader], [], [], 30)
    try:
        assert os.read(reader, 1) == b""  # EOF: no writer left (BlockingIOError otherwise)
    finally:
        os.close(reader)


async def test_spawned_process_talks_over_pipes_and_is_killed_on_close(
    sandbox: BwrapSandbox,
) -> None:
    process = await sandbox.spawn(["sh", "-c", "id -u; exec cat"])
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"ping\n")
    await process.stdin.drain()
    assert await process.stdout.readline() == b"1000\n"
    assert await process.stdout.readline() == b"ping\n"
    await sandbox.close()
    assert process.returncode is not None


# Errors at start


async def test_missing_bwrap_says_how_to_install_it(tmp_path: Path) -> None:
    box = BwrapSandbox(tmp_path / "sandbox", bwrap=str(tmp_path / "no-bwrap"))
    with pytest.raises(SandboxError, match="not installed") as caught:
        await box.start()
    assert caught.value.hint is not None and "apt install bubblewrap" in caught.value.hint


async def test_disabled_user_namespaces_say_what_to_do(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "bubblewrap 0.8.0"; exit 0; fi\n'
        "echo 'bwrap: setting up uid map: Permission denied' >&2\n"
        "exit 1\n"
    )
    fake.chmod(0o755)
    box = BwrapSandbox(tmp_path / "sandbox", bwrap=str(fake))
    with pytest.raises(SandboxError, match="user namespaces") as caught:
        await box.start()
    assert caught.value.hint is not None and "sysctl" in caught.value.hint


# Staging copy: load, scan, read, write, revert


async def test_loaded_workspace_matches_the_baseline(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    assert changed(baseline, await sandbox.scan()) == set()
    out = await run(sandbox, "cat a.txt; readlink link; stat -c %a run.sh; ls empty | wc -l")
    assert out.split("\n") == ["hello", "a.txt", "755", "0", ""]
    assert (sandbox.root / "loaded.json").exists()


async def test_scan_reports_exactly_what_commands_changed(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await run(
        sandbox,
        "echo new > added.txt; echo more >> dir/b.txt; rm gone.txt; chmod 700 run.sh;"
        "ln -s /etc/passwd escape; mkfifo dir/pipe; chmod u+s dir/deep/c.txt",
    )
    scan = await sandbox.scan()
    assert changed(baseline, scan) == {
        "added.txt",
        "dir/b.txt",
        "gone.txt",
        "run.sh",
        "escape",
        "dir/pipe",
        "dir/deep/c.txt",
    }
    assert scan["dir/b.txt"].digest == sha256_bytes(b"b\nmore\n")
    assert scan["run.sh"].mode == 0o700
    assert (scan["escape"].type, scan["escape"].target) == (EntryType.SYMLINK, "/etc/passwd")
    assert (scan["dir/pipe"].type, scan["dir/pipe"].special) == (EntryType.OTHER, "fifo")
    assert scan["dir/deep/c.txt"].mode == 0o4644


async def test_same_size_rewrite_right_after_load_is_detected(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await run(sandbox, f"printf 'HELLO\\n' > a.txt; touch -d @{OLD} a.txt")
    scan = await sandbox.scan()
    assert (scan["a.txt"].size, scan["a.txt"].mtime_ns) == (6, OLD * 10**9)
    assert scan["a.txt"].digest == sha256_bytes(b"HELLO\n")


async def test_directory_swapped_for_a_symlink_to_root_is_never_followed(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await run(sandbox, "rm -rf dir && ln -s / dir")
    scan = await sandbox.scan()
    assert (scan["dir"].type, scan["dir"].target) == (EntryType.SYMLINK, "/")
    assert not [path for path in scan if path.startswith("dir/")]
    with pytest.raises(SandboxError, match=r"dir/b\.txt"):
        await sandbox.read(["dir/b.txt"])
    with pytest.raises(SandboxError):
        await sandbox.write({"dir/usr/evil": b"x"})
    assert not Path("/usr/evil").exists()


async def test_reading_a_fifo_fails_cleanly(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await run(sandbox, "mkfifo a.pipe")
    with pytest.raises(SandboxError, match="not a regular file"):
        await sandbox.read(["a.txt", "a.pipe"])
    assert await sandbox.read(["a.txt", "dir/b.txt"]) == {"a.txt": b"hello\n", "dir/b.txt": b"b\n"}


async def test_write_keeps_the_mode_of_existing_files_and_makes_new_ones_0644(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await sandbox.write({"run.sh": b"#!/bin/sh\necho edited\n", "new/deep.txt": b"x"})
    assert await run(sandbox, "./run.sh; stat -c %a new/deep.txt") == "edited\n644\n"


async def test_revert_puts_back_contents_modes_and_symlinks_and_removes_added_trees(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await run(
        sandbox,
        "echo changed > a.txt; chmod 600 run.sh; rm link; ln -s /etc link; rm -rf empty;"
        "mkdir -p added/deep && echo y > added/deep/f; chmod 555 added/deep;"
        "rm -rf dir && echo not-a-dir > dir; rm gone.txt && mkdir gone.txt",
    )
    scan = await sandbox.scan()
    paths = changed(baseline, scan)
    assert {"a.txt", "run.sh", "link", "empty", "added", "dir", "dir/deep/c.txt"} <= paths
    await sandbox.revert({path: baseline.get(path) for path in paths}, store)
    assert changed(baseline, await sandbox.scan()) == set()
    assert await run(sandbox, "cat a.txt; cat dir/deep/c.txt") == "hello\nc\n"


async def test_reload_fixes_drift_and_leaves_files_already_in_place(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    untouched = (sandbox.workspace / "dir" / "b.txt").stat().st_ino
    await run(sandbox, "echo changed >> a.txt; rm -rf dir/deep; touch extra; chmod 777 run.sh")
    await sandbox.load(baseline, store)
    assert changed(baseline, await sandbox.scan()) == set()
    assert (sandbox.workspace / "dir" / "b.txt").stat().st_ino == untouched


async def test_store_objects_stay_intact_when_the_agent_rewrites_files_in_place(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    await sandbox.load(baseline, store)
    await run(sandbox, "echo tampered >> a.txt; chmod 666 a.txt")
    digest = baseline["a.txt"].digest
    assert digest is not None
    assert store.read(digest) == b"hello\n"
    assert stat.S_IMODE(store.path(digest).stat().st_mode) == 0o444


async def test_load_never_sets_setuid_setgid_or_sticky_bits(
    sandbox: BwrapSandbox, baseline: Manifest, store: ObjectStore
) -> None:
    tricky = {
        **baseline,
        "run.sh": replace(baseline["run.sh"], mode=0o6755),
        "empty": replace(baseline["empty"], mode=0o1777),
    }
    await sandbox.load(tricky, store)
    scan = await sandbox.scan()
    assert (scan["run.sh"].mode, scan["empty"].mode) == (0o755, 0o777)
