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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

Stream = Literal["stdout", "stderr"]
OnOutput = Callable[[Stream, bytes], None]

READ_CHUNK = 64 * 1024
TIMEOUT_EXIT = 124  # what coreutils `timeout` returns
STREAM_LIMIT = 1 << 16  # asyncio's default buffer limit for the output streams
DRAIN_GRACE = 1.0  # seconds output may trail the child's exit


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


class _ExitProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """asyncio's subprocess protocol, also telling as soon as the child has exited.

    `Process.wait()` also waits for every pipe to close, which a daemon the child left
    behind (e.g. an ssh ControlMaster holding stderr) can put off for ever.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=STREAM_LIMIT, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


async def _start(
    argv: Sequence[str], **options: Any
) -> tuple[asyncio.subprocess.Process, asyncio.SubprocessTransport, asyncio.Future[None]]:
    """`asyncio.create_subprocess_exec`, plus its transport and a future done at the exit."""
    loop = asyncio.get_running_loop()
    protocol = _ExitProtocol(loop)
    transport, _ = await loop.subprocess_exec(lambda: protocol, *argv, **options)
    return asyncio.subprocess.Process(transport, protocol, loop), transport, protocol.exited


async def _exited(process: asyncio.subprocess.Process, exited: asyncio.Future[None]) -> int:
    """The child's exit status, as soon as it is gone (its pipes may still be open)."""
    await exited
    assert process.returncode is not None
    return process.returncode


async def _until_exit(
    exit_task: asyncio.Future[int], helpers: Sequence[asyncio.Future[None]], timeout: float | None
) -> bool:
    """Wait for the child to exit (True) or for the timeout (False); helper errors propagate."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    pending: set[asyncio.Future[Any]] = {exit_task, *helpers}
    while not exit_task.done():
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            return False
        done, pending = await asyncio.wait(
            pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            task.result()  # a failed pump or stdin feed ends the run now
    return True


def kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the process group the child leads (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def run_process(
    argv: Sequence[str],
    *,
    stdin: bytes | Iterable[bytes] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float | None = None,
    on_output: OnOutput | None = None,
    capture_limit: int = 1 << 20,
) -> ProcessResult:
    """Run `argv` to completion, streaming chunks to `on_output` as they arrive.

    `stdin` is bytes, or an iterable of chunks written as the child reads them
    (e.g. a tar stream built on the fly); None means `/dev/null`.
    """
    started = time.monotonic()
    process, transport, exited = await _start(
        argv,
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
        chunks = [stdin] if isinstance(stdin, bytes) else stdin or ()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for chunk in chunks:
                process.stdin.write(chunk)
                await process.stdin.drain()
        process.stdin.close()

    pumps = [
        asyncio.ensure_future(pump("stdout", process.stdout)),
        asyncio.ensure_future(pump("stderr", process.stderr)),
    ]
    helpers = [*pumps, *([asyncio.ensure_future(feed())] if stdin is not None else [])]
    exit_task = asyncio.ensure_future(_exited(process, exited))
    timed_out = False
    try:
        timed_out = not await _until_exit(exit_task, helpers, timeout)
        if timed_out:
            kill_group(process)
            await exit_task
        # What is still in the pipes, unless something the child left behind holds them.
        drained, _ = await asyncio.wait(pumps, timeout=DRAIN_GRACE)
        for task in drained:
            task.result()
    except BaseException:
        kill_group(process)
        with contextlib.suppress(BaseException):
            await asyncio.shield(exit_task)
        raise
    finally:
        transport.close()  # the pipes, even those something the child left still holds
        exit_task.cancel()
        for task in helpers:
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
