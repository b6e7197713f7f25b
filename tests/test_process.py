"""Running a process: its exit is seen at once, even while something it left holds its output."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from lima.process import run_process


async def test_exit_code_output_and_stdin() -> None:
    result = await run_process(["sh", "-c", "cat; echo err >&2; exit 3"], stdin=[b"a", b"b"])
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"ab", b"err\n")


async def test_a_child_left_holding_the_output_does_not_hold_the_run(tmp_path: Path) -> None:
    pidfile = tmp_path / "daemon.pid"
    script = f"sleep 60 & echo $! > {pidfile}; echo started"
    result = await run_process(["sh", "-c", script])
    daemon = int(pidfile.read_text())
    try:
        assert result.exit_code == 0
        assert result.stdout == b"started\n"
        os.kill(daemon, 0)  # still running: the run did not wait for it
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(daemon, signal.SIGKILL)


async def test_timeout_kills_the_process_group() -> None:
    result = await run_process(["sh", "-c", "sleep 60"], timeout=0.2)
    assert (result.exit_code, result.timed_out) == (124, True)
