"""The egress proxy: the sandbox's only way out, allowing only the project's allowlist.

An asyncio HTTP proxy on the host: absolute-form HTTP requests are forwarded (one request
per connection) and `CONNECT` opens a byte tunnel (TLS is never intercepted). It listens on
loopback TCP (the Lima guest reaches it as 192.168.5.2:PORT) and/or a Unix socket (bind-
mounted into a bubblewrap sandbox).

Events: every decided request emits a `NetworkRequest` to `on_event` and appends it to the
session log. A denied request emits one event (`closed=True`). An allowed one emits one when
it is decided (`closed=False`, zero bytes) and one when its connection ends (`closed=True`,
final byte counts); both carry the same `request_id` and `time` (when it was decided).
Bytes are counted as relayed: client to upstream (`bytes_up`, including the rewritten
request head) and back (`bytes_down`). Malformed requests are answered (400, 408, 431)
without an event: nothing was decided.

Changing `allowlist` takes effect for new requests; open tunnels stay open. An
`allowlist_source`, asked before each decision, can supply a newer list (e.g. the config
file edited by `airlock allow`); it returns None when nothing changed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from airlock.errors import AirlockError
from airlock.events import NetworkRequest
from airlock.network.allowlist import Allowlist, entry_for, ip_literal
from airlock.network.approval import Approvals, DeniedRequest, OnDenied, Verdict
from airlock.network.http1 import (
    HEAD_END,
    HttpError,
    RequestHead,
    closing_response,
    error_response,
    origin_request,
    parse_request_head,
    response_status,
)
from airlock.network.netlog import NetworkLog
from airlock.network.relay import Count, close_writer, linger_close, pipe, relay
from airlock.network.upstream import Resolver, SystemResolver, UpstreamError, open_upstream

logger = logging.getLogger(__name__)

T = TypeVar("T")
OnEvent = Callable[[NetworkRequest], None]
OnAllowAlways = Callable[[str], None]
AllowlistSource = Callable[[], Allowlist | None]

UNIX_PATH_MAX = 107  # sun_path holds 108 bytes including the final NUL
BACKLOG = 1024
CONNECTED = b"HTTP/1.1 200 Connection established\r\n\r\n"


class ProxyError(AirlockError):
    """The proxy could not start listening."""


class ProxyLimits(BaseModel):
    """Bounds that keep a misbehaving client from hanging or exhausting the proxy."""

    model_config = ConfigDict(frozen=True)

    max_head_bytes: int = Field(default=32 * 1024, ge=1024)  # larger → 431
    max_response_head_bytes: int = Field(default=256 * 1024, ge=1024)
    head_timeout: float = Field(default=15.0, gt=0)  # to receive a request head → 408
    connect_timeout: float = Field(default=15.0, gt=0)  # resolve + connect upstream → 502
    approval_timeout: float = Field(default=120.0, gt=0)  # the user's answer → deny
    close_grace: float = Field(default=2.0, gt=0)  # to flush and close a connection


class _Outcome:
    """What happened to an allowed request: bytes relayed each way, upstream failure."""

    def __init__(self) -> None:
        self.up = 0
        self.down = 0
        self.failure = ""

    def add_up(self, count: int) -> None:
        self.up += count

    def add_down(self, count: int) -> None:
        self.down += count


class EgressProxy:
    """Forwards HTTP and CONNECT requests that the allowlist (or the user) allows."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        resolver: Resolver | None = None,
        on_event: OnEvent | None = None,
        log_path: Path | None = None,
        on_denied: OnDenied | None = None,
        on_allow_always: OnAllowAlways | None = None,
        allowlist_source: AllowlistSource | None = None,
        limits: ProxyLimits | None = None,
    ) -> None:
        self.allowlist = allowlist
        self._allowlist_source = allowlist_source
        self._resolver = resolver or SystemResolver()
        self._on_event = on_event
        self._log = NetworkLog(log_path) if log_path is not None else None
        self._on_allow_always = on_allow_always
        self._limits = limits or ProxyLimits()
        self._approvals = Approvals(on_denied, self._limits.approval_timeout)
        self._servers: list[asyncio.Server] = []
        self._unix_paths: list[Path] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._closed = False

    async def listen_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on `host:port` (0 picks a free port); returns the port."""
        try:
            server = await asyncio.start_server(
                self._on_client, host, port, limit=self._limits.max_head_bytes, backlog=BACKLOG
            )
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ProxyError(f"cannot listen on {host}:{port}: {reason}") from exc
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def listen_unix(self, path: Path) -> None:
        """Listen on a Unix socket at `path` (mode 0600; removed again by `close`)."""
        size = len(os.fsencode(path))
        if size > UNIX_PATH_MAX:
            raise ProxyError(
                f"socket path too long ({size} bytes, at most {UNIX_PATH_MAX}): {path}",
                hint="use a shorter runtime directory",
            )
        try:
            server = await asyncio.start_unix_server(
                self._on_client, str(path), limit=self._limits.max_head_bytes, backlog=BACKLOG
            )
            os.chmod(path, 0o600)
        except OSError as exc:
            raise ProxyError(f"cannot listen on {path}: {exc.strerror}") from exc
        self._servers.append(server)
        self._unix_paths.append(path)

    @property
    def on_denied(self) -> OnDenied | None:
        """Who is asked about a host the allowlist denies (None: nobody, it stays denied)."""
        return self._approvals.on_denied

    @on_denied.setter
    def on_denied(self, hook: OnDenied | None) -> None:
        self._approvals.on_denied = hook

    @property
    def active_connections(self) -> int:
        """Client connections being served right now."""
        return len(self._handlers)

    @property
    def awaiting_approval(self) -> int:
        """Requests waiting for the user's answer right now."""
        return self._approvals.waiting

    async def close(self) -> None:
        """Stop listening, end every connection (emitting their closing events), clean up."""
        self._closed = True
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        while self._handlers:
            handlers = list(self._handlers)
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
        await self._approvals.close()
        for path in self._unix_paths:
            path.unlink(missing_ok=True)
        self._servers.clear()
        self._unix_paths.clear()

    async def __aenter__(self) -> EgressProxy:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self._closed or task is None:
            writer.transport.abort()
            return
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # `close` cancelled us; end quietly (asyncio logs cancelled handlers)
        except Exception:
            logger.exception("egress proxy: unexpected error serving a connection")
        finally:
            self._handlers.discard(task)
            if task.cancelling():
                writer.transport.abort()
            else:
                await close_writer(writer, self._limits.close_grace)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await self._read_head(reader, writer)
        if head is None:
            return
        allowed, reason = await self._decide(head)
        event = NetworkRequest(
            host=head.host,
            port=head.port,
            method=head.method,
            allowed=allowed,
            reason=reason,
            request_id=uuid.uuid4().hex,
            closed=not allowed,
        )
        self._emit(event)
        if not allowed:
            message = f"{head.host}:{head.port} is not allowed ({reason}); "
            writer.write(error_response(403, message + "ask the user to allow it"))
            await linger_close(reader, writer, self._limits.close_grace)
            return
        outcome = _Outcome()
        try:
            await self._forward(head, reader, writer, outcome)
        finally:
            final = {
                "reason": f"{reason}; {outcome.failure}" if outcome.failure else reason,
                "bytes_up": outcome.up,
                "bytes_down": outcome.down,
                "closed": True,
            }
            self._emit(event.model_copy(update=final))

    async def _read_head(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> RequestHead | None:
        """The parsed request head, or None after answering (or dropping) a bad request."""
        try:
            async with asyncio.timeout(self._limits.head_timeout):
                data = await reader.readuntil(HEAD_END)
            return parse_request_head(data)
        except TimeoutError:
            status, message = 408, "timed out waiting for the request"
        except asyncio.LimitOverrunError:
            status, message = 431, f"request head larger than {self._limits.max_head_bytes} bytes"
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return None  # connected and left without a word
            status, message = 400, "incomplete request"
        except HttpError as exc:
            status, message = exc.status, exc.message
        writer.write(error_response(status, message))
        await linger_close(reader, writer, self._limits.close_grace)
        return None

    async def _decide(self, head: RequestHead) -> tuple[bool, str]:
        if self._allowlist_source is not None:
            try:
                fresh = self._allowlist_source()
            except Exception:
                logger.exception("egress proxy: the allowlist source failed")
            else:
                self.allowlist = self.allowlist if fresh is None else fresh
        decision = self.allowlist.decide(head.host, head.port)
        if decision.allowed:
            return True, decision.reason
        request = DeniedRequest(
            host=head.host, port=head.port, method=head.method, reason=decision.reason
        )
        verdict, note = await self._approvals.ask(request)
        if verdict is Verdict.ONCE:
            return True, "allowed once"
        if verdict is Verdict.ALWAYS:
            entry = entry_for(head.host, head.port)
            if entry not in self.allowlist.entries:
                self.allowlist = self.allowlist.with_entry(entry)
                self._call(self._on_allow_always, entry)
            return True, f"allowed always: {entry}"
        return False, f"{decision.reason}; {note}" if note else decision.reason

    async def _forward(
        self,
        head: RequestHead,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        outcome: _Outcome,
    ) -> None:
        """Connect upstream and relay; an upstream failure is answered with a 502."""
        try:
            up_reader, up_writer = await self._connect(head)
        except UpstreamError as exc:
            outcome.failure = exc.message
            writer.write(error_response(502, exc.message))
            await linger_close(reader, writer, self._limits.close_grace)
            return
        task = asyncio.current_task()
        try:
            if head.is_connect:
                writer.write(CONNECTED)
                await writer.drain()
                await relay(
                    pipe(reader, up_writer, outcome.add_up),
                    pipe(up_reader, writer, outcome.add_down),
                    done_on_down=False,
                )
            else:
                request = origin_request(head)
                up_writer.write(request)
                outcome.add_up(len(request))
                await relay(
                    pipe(reader, up_writer, outcome.add_up),
                    _respond(up_reader, writer, outcome.add_down),
                    done_on_down=True,
                )
        finally:
            if task is not None and task.cancelling():
                up_writer.transport.abort()
            else:
                await close_writer(up_writer, self._limits.close_grace)

    async def _connect(
        self, head: RequestHead
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Resolve and connect within the connect timeout, else `UpstreamError`."""
        try:
            async with asyncio.timeout(self._limits.connect_timeout):
                addresses = (
                    [(head.host, head.port)]
                    if ip_literal(head.host) is not None
                    else await self._resolver.resolve(head.host, head.port)
                )
                return await open_upstream(addresses, limit=self._limits.max_response_head_bytes)
        except TimeoutError as exc:
            raise UpstreamError(f"timed out connecting to {head.host}:{head.port}") from exc

    def _emit(self, event: NetworkRequest) -> None:
        if self._log is not None:
            self._log.append(event)
        self._call(self._on_event, event)

    @staticmethod
    def _call(callback: Callable[[T], None] | None, value: T) -> None:
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            logger.exception("egress proxy: a callback failed")


async def _respond(
    up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Count
) -> None:
    """Relay the upstream response, its final head rewritten to close the connection.

    If the upstream fails before sending a response, the client gets a 502 instead.
    """
    try:
        while True:
            head = await up_reader.readuntil(HEAD_END)
            status = response_status(head)
            if status == 101 or status >= 200:
                break
            writer.write(head)  # 1xx interim response: passed on as is
            count(len(head))
        final = head if status == 101 else closing_response(head)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
        if isinstance(exc, HttpError):
            message = exc.message
        else:
            message = "the upstream server closed without a valid response"
        writer.write(error_response(502, message))
        await writer.drain()
        return
    writer.write(final)
    count(len(final))
    await pipe(up_reader, writer, count)
