"""One MCP server of a session: started in the sandbox (stdio) or reached from the host (HTTP).

It lives in a task of its own (the SDK's `Client` must be entered and left by the same
task); its state changes are reported through `on_change`, and a server that fails to
start, or dies, ends `failed` with a message carrying the end of its stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2
import mcp_types
from mcp import Client
from mcp.client import IncomingMessage, Transport
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from airlock.config import McpServerConfig
from airlock.mcp.pipes import StderrTail, process_streams
from airlock.mcp.results import result_text
from airlock.network.allowlist import Allowlist, AllowlistError
from airlock.sandbox.base import Sandbox
from lima.process import kill_group

Status = Literal["starting", "ready", "failed", "stopped"]
STOP_GRACE = 2.0  # seconds a stdio server gets to exit after its stdin closes
EXIT_GRACE = 0.3  # seconds one that never got ready gets before the kill
HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)  # the SDK's: a response may be a long stream


class ServerConnection:
    """A server's connection, status and tools; `call` never raises for the server's faults."""

    def __init__(
        self,
        config: McpServerConfig,
        on_change: Callable[[ServerConnection], None],
        *,
        sandbox: Sandbox,
        allowlist: list[str],
        project_dir: str,
        startup_timeout: float,
        mode: str = "auto",
    ) -> None:
        """`mode` is the SDK's protocol negotiation (`legacy` forces the initialize handshake)."""
        self.config = config
        self.on_change = on_change
        self.status: Status = "starting"
        self.message = ""
        self.tools: list[mcp_types.Tool] = []
        self._sandbox = sandbox
        self._allowlist = allowlist
        self._project_dir = project_dir
        self._startup_timeout = startup_timeout
        self._mode = mode
        self._client: Client | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._stderr = StderrTail()
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._settled = asyncio.Event()  # no longer starting
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"mcp server {self.name}")

    async def started(self) -> None:
        """Wait until the server is ready or has failed."""
        await self._settled.wait()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            if self.status == "starting":
                self._task.cancel()
            await asyncio.wait([self._task], timeout=STOP_GRACE + 3)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._process is not None and self._process.returncode is None:
            kill_group(self._process)
        if self.status in ("starting", "ready"):
            self._set("stopped", "the session closed")

    async def call(self, tool: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """Call a tool; every failure (timeout, refusal, crash) is an error result."""
        client = self._client
        if self.status != "ready" or client is None:
            return f"The MCP server {self.name} is not ready ({self.status}).", True
        try:
            result = await client.call_tool(
                tool, arguments, read_timeout_seconds=self.config.timeout
            )
        except MCPError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                limit = f"{self.config.timeout:g}"
                return f"The MCP tool {tool} did not answer within {limit} s.", True
            if exc.code != mcp_types.CONNECTION_CLOSED:
                return f"The MCP server {self.name} refused the call: {exc.message}", True
            await self._lost("the connection closed during a call")
        except (httpx2.HTTPError, OSError) as exc:
            await self._lost(f"the connection failed during a call: {_short(exc)}")
        except ValidationError as exc:
            return f"The MCP server {self.name} sent an invalid result: {_short(exc)}", True
        else:
            return result_text(result)
        return f"The MCP server {self.name} stopped during the call: {self.message}", True

    # -- the connection's task ------------------------------------------------------

    async def _run(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout(self._startup_timeout):
                    client = Client(
                        await self._transport(stack),
                        mode=self._mode,
                        cache=None,
                        message_handler=self._on_message,
                    )
                    await stack.enter_async_context(client)
                    self.tools = await _list_tools(client)
                self._client = client
                self._set("ready")
                await self._serve(client)
        except TimeoutError:  # the kill that followed is ours: no exit code
            late = f"did not start within {self._startup_timeout:g} s"
            self._set("failed", self._failure(late, exit_code=False))
        except Exception as exc:  # a server's fault, whatever it is, is its failure only
            self._set("failed", self._failure(await self._start_error(exc)))
        finally:
            self._client = None
            self._settled.set()

    async def _transport(self, stack: contextlib.AsyncExitStack) -> Transport:
        config = self.config
        if config.command is not None:
            process = await self._sandbox.spawn([config.command, *config.args], env=config.env)
            self._process = process
            assert process.stderr is not None
            drain = asyncio.create_task(self._stderr.drain(process.stderr))
            stack.push_async_callback(self._end_process, process, drain)
            return process_streams(process)
        assert config.url is not None
        self._check_allowed(config.url)
        if config.transport == "sse":
            return sse_client(config.url, headers=config.headers)
        http = httpx2.AsyncClient(headers=config.headers, timeout=HTTP_TIMEOUT)
        await stack.enter_async_context(http)
        return streamable_http_client(config.url, http_client=http)

    async def _start_error(self, exc: Exception) -> str:
        if isinstance(exc, ServerFailure):
            return str(exc)
        if self._process is not None:
            await self._exited()
            if self._process.returncode is not None:
                return "the server exited while starting"
        if self.config.url is not None:
            return f"cannot connect to {self.config.url}: {_short(exc)}"
        return _short(exc)

    def _check_allowed(self, url: str) -> None:
        """HTTP servers are reached from the host, so only through the project's allowlist."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ServerFailure(f"{url} is not an http(s) URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
        try:
            decision = Allowlist(self._allowlist).decide(host, port)
        except AllowlistError as exc:
            raise ServerFailure(exc.message) from exc
        if not decision.allowed:
            target = host if port in (80, 443) else f"{host}:{port}"
            raise ServerFailure(
                f"{host}:{port} is not allowed ({decision.reason}): "
                f"add it with `airlock allow {self._project_dir} {target}`"
            )

    async def _serve(self, client: Client) -> None:
        """Keep the connection until the session stops it or the server goes away."""
        waits: list[asyncio.Task[Any]] = [asyncio.create_task(self._stopping.wait())]
        if self._process is not None:
            waits.append(asyncio.create_task(self._process.wait()))
        helpers = [
            asyncio.create_task(self._listen(client)),
            asyncio.create_task(self._refresh_on_change(client)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits + helpers:
                task.cancel()
            await asyncio.gather(*waits, *helpers, return_exceptions=True)
        if not self._stopping.is_set():
            self._set("failed", self._failure("the server stopped"))

    async def _listen(self, client: Client) -> None:
        """Servers of the 2026 protocol announce tool changes on a `subscriptions/listen`."""
        with contextlib.suppress(ListenNotSupportedError, SubscriptionLost, MCPError):
            async with client.listen(tools_list_changed=True) as changes:
                async for _ in changes:
                    self._changed.set()

    async def _on_message(self, message: IncomingMessage) -> None:
        """Earlier protocols send `notifications/tools/list_changed` on their own."""
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._changed.set()

    async def _refresh_on_change(self, client: Client) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                self.tools = await _list_tools(client)
            except (MCPError, ValidationError, httpx2.HTTPError, OSError):
                continue  # a server going away is noticed by `_serve`
            self._set("ready", "its tools changed")

    async def _lost(self, what: str) -> None:
        """The server went away mid-call: it fails, and `_serve` ends the connection."""
        await self._exited()
        if self.status == "ready":
            self._set("failed", self._failure(what))
            self._stopping.set()

    async def _exited(self) -> None:
        """Give a process whose pipes closed a moment to report its exit code."""
        if self._process is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._process.wait(), STOP_GRACE)

    async def _end_process(
        self, process: asyncio.subprocess.Process, drain: asyncio.Task[None]
    ) -> None:
        """After the transport closed the server's stdin: a grace period, then a kill."""
        grace = STOP_GRACE if self._client is not None else EXIT_GRACE
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), grace)
        if process.returncode is None:
            kill_group(process)
            await process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(drain, 1.0)

    def _failure(self, what: str, *, exit_code: bool = True) -> str:
        """`what`, with the exit code and the end of the server's stderr when there are any."""
        process = self._process
        if exit_code and process is not None and process.returncode is not None:
            what += f" (exit code {process.returncode})"
        tail = self._stderr.last_lines()
        return f"{what}: {tail}" if tail else what

    def _set(self, status: Status, message: str = "") -> None:
        self.status = status
        self.message = message
        if status != "ready":
            self.tools = []
        if status != "starting":
            self._settled.set()
        self.on_change(self)


class ServerFailure(Exception):
    """Why a server cannot be started, in the user's terms."""


async def _list_tools(client: Client) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(100):  # pages; a server that never ends its listing is cut off
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def _short(exc: BaseException) -> str:
    """One line about an exception (the first of a group's)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, MCPError):
        return exc.message
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
