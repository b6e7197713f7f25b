"""`LimaSandbox.spawn`, what stdio MCP servers run on, against the fake limactl."""

from __future__ import annotations

import asyncio
from pathlib import Path

from airlock.config import ProjectConfig
from airlock.review.store import ObjectStore
from airlock.sandbox.lima import LimaSandbox, instance_name
from tests.fakes.lima import FakeLima
from tests.sandbox_support import process_gone

# It outlives its stdin, as a server might: only a kill in the guest stops it.
ECHO = 'echo $$ > /tmp/echo.pid; while read -r l; do echo "$GREETING $l in $PWD"; done; sleep 600'


async def test_spawned_process_talks_over_pipes_and_close_stops_it_in_the_guest(
    fake_limactl: FakeLima, tmp_path: Path
) -> None:
    project = ProjectConfig(name="notes", path=tmp_path / "project")
    sandbox = LimaSandbox(project, tmp_path / "session")
    (tmp_path / "session").mkdir()
    await sandbox.start()
    await sandbox.load({}, ObjectStore(tmp_path / "objects"))
    process = await sandbox.spawn(["sh", "-c", ECHO], env={"GREETING": "got"})
    assert process.stdin is not None and process.stdout is not None
    for word in ("hello", "again"):
        process.stdin.write(word.encode() + b"\n")
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert line == f"got {word} in /workspace\n".encode()
    pid_file = fake_limactl.instance_dir(instance_name(project)) / "guest" / "tmp" / "echo.pid"
    guest_pid = int(pid_file.read_text())
    await sandbox.close()
    assert process.returncode is not None
    assert process_gone(guest_pid)  # killing limactl alone would have left it running
