"""The MCP stdio transport over a process the sandbox already started.

`mcp.client.stdio` starts its own subprocess on the host; a stdio server here runs in
the sandbox (`Sandbox.spawn`), so this bridges that process's pipes to the client's
streams instead: one JSON-RPC message a line each way, and its stderr kept as a tail
for error messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import mcp_types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

Streams = tuple[
    MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]
]
CHUNK = 64 * 1024
MAX_LINE = 16 * 1024 * 1024  # a server sending a longer line is broken (or hostile)


class StderrTail:
    """The last few KB a server wrote to stderr (servers log there; it must be drained)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._data = bytearray()

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(CHUNK):
            self._data += chunk
            del self._data[: -self.limit]

    def last_lines(self, count: int = 2) -> str:
        """Its last non-empty lines, joined with ` | ` (one line for an event)."""
        text = self._data.decode("utf-8", "replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return " | ".join(lines[-count:])


@contextlib.asynccontextmanager
async def process_streams(process: asyncio.subprocess.Process) -> AsyncIterator[Streams]:
    """The client's (read, write) streams over `process`'s stdout and stdin."""
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    incoming_writer, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    outgoing, outgoing_reader = anyio.create_memory_object_stream[SessionMessage](0)

    async def read() -> None:
        async with incoming_writer:
            pending = bytearray()
            while chunk := await stdout.read(CHUNK):
                pending += chunk
                if b"\n" not in chunk:  # a long message arriving: split only once it is whole
                    if len(pending) > MAX_LINE:
                        await incoming_writer.send(ValueError("the server sent a line over 16 MiB"))
                        return
                    continue
                *lines, rest = pending.split(b"\n")
                pending = bytearray(rest)
                for line in lines:
                    if line.strip():
                        await incoming_writer.send(_parse(bytes(line)))

    async def write() -> None:
        async with outgoing_reader:
            async for message in outgoing_reader:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                stdin.write(data.encode() + b"\n")
                await stdin.drain()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_until_gone, read)
        tasks.start_soon(_until_gone, write)
        try:
            yield incoming, outgoing
        finally:
            stdin.close()
            tasks.cancel_scope.cancel()


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:  # the client reports it; the connection goes on
        return exc


async def _until_gone(pump: Callable[[], Awaitable[None]]) -> None:
    """Run one direction of the pipe until either end goes away (that is not a crash here:
    the client sees the connection close)."""
    with contextlib.suppress(ConnectionError, anyio.ClosedResourceError, anyio.BrokenResourceError):
        await pump()
