"""Moving bytes between the client and the upstream server, and closing both safely."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

CHUNK = 64 * 1024

Count = Callable[[int], None]


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Count) -> None:
    """Copy until EOF, then half-close the other side; connection errors propagate."""
    while data := await reader.read(CHUNK):
        writer.write(data)
        count(len(data))
        await writer.drain()
    if writer.can_write_eof() and not writer.is_closing():
        writer.write_eof()


async def relay(
    upstream: Awaitable[None], downstream: Awaitable[None], *, done_on_down: bool
) -> None:
    """Run both directions until both reach EOF, either fails, or (if `done_on_down`)
    the downstream one (upstream → client) finishes."""
    up = asyncio.ensure_future(upstream)
    down = asyncio.ensure_future(downstream)
    pending = {up, down}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(task.exception() for task in done) or (done_on_down and down in done):
                return
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)


async def close_writer(writer: asyncio.StreamWriter, grace: float) -> None:
    """Close gracefully (flushing what is buffered) within `grace` seconds, else abort."""
    writer.close()
    try:
        async with asyncio.timeout(grace):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise


async def linger_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, grace: float
) -> None:
    """After an error response: half-close, discard what the client still sends (so the
    kernel does not reset the connection before it reads the response), then close."""
    with contextlib.suppress(OSError, TimeoutError):
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(grace):
            while await reader.read(CHUNK):
                pass
    await close_writer(writer, grace)
