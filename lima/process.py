"""Run a subprocess in its own process group: streamed output, stdin, timeout, cancel.

Used by the `limactl` driver, and reused by the bubblewrap sandbox. Cancelling the
awaiting task, or a timeout, kills the whole process group (SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel

Stream = Literal["stdout", "stderr"]
OnOutput = Callable[[Stream, bytes], None]

READ_CHUNK = 64 * 1024
TIMEOUT_EXIT = 124  # what coreutils `timeout` returns


class ProcessResult(BaseModel):
    """How a process ended; output kept head + tail within the capture limit."""

    exit_code: int  # negative signal number when killed by a signal
    duration: float
    stdout: bytes = b""
    stderr: bytes = b""
    omitted_bytes: int = 0
    timed_out: bool = False


class OutputCapture:
    """Keeps the first and last `limit // 2` bytes of a stream, counting what it drops."""

    def __init__(self, limit: int) -> None:
        self.half = max(limit // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.omitted = 0

    def add(self, data: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        excess = len(self.tail) - self.half
        if excess > 0:
            del self.tail[:excess]
            self.omitted += excess

    def value(self) -> bytes:
        return bytes(self.head + self.tail)


def kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the process group the child leads (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def run_process(
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    on_output: OnOutput | None = None,
    capture_limit: int = 1 << 20,
) -> ProcessResult:
    """Run `argv` to completion, streaming chunks to `on_output` as they arrive."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    captures = {"stdout": OutputCapture(capture_limit), "stderr": OutputCapture(capture_limit)}

    async def pump(name: Stream, reader: asyncio.StreamReader | None) -> None:
        assert reader is not None
        while chunk := await reader.read(READ_CHUNK):
            captures[name].add(chunk)
            if on_output is not None:
                on_output(name, chunk)

    async def feed() -> None:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.write(stdin or b"")
            await process.stdin.drain()
        process.stdin.close()

    tasks = [
        asyncio.ensure_future(pump("stdout", process.stdout)),
        asyncio.ensure_future(pump("stderr", process.stderr)),
    ]
    if stdin is not None:
        tasks.append(asyncio.ensure_future(feed()))
    timed_out = False
    try:
        try:
            await asyncio.wait_for(asyncio.gather(*tasks, process.wait()), timeout)
        except TimeoutError:
            timed_out = True
            kill_group(process)
            await process.wait()
    except BaseException:
        kill_group(process)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.shield(process.wait())
        raise
    finally:
        for task in tasks:
            task.cancel()
    code = process.returncode if process.returncode is not None else -signal.SIGKILL
    return ProcessResult(
        exit_code=TIMEOUT_EXIT if timed_out else code,
        duration=time.monotonic() - started,
        stdout=captures["stdout"].value(),
        stderr=captures["stderr"].value(),
        omitted_bytes=captures["stdout"].omitted + captures["stderr"].omitted,
        timed_out=timed_out,
    )
