"""The egress proxy on loopback: what gets through, what is refused, and what the user sees.

`allowed.test` and `denied.test` are made-up names that the proxy's test resolver maps to
127.0.0.1, port 80 to a local HTTP server and port 443 to a local TCP echo server (the
"HTTPS-like" target of CONNECT tunnels; no TLS is needed since the proxy never looks inside).
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airlock.events import NetworkRequest
from airlock.network.allowlist import Allowlist
from airlock.network.approval import DeniedRequest, Verdict
from airlock.network.netlog import read_network_log
from airlock.network.proxy import EgressProxy, ProxyError, ProxyLimits
from airlock.network.upstream import StaticResolver, SystemResolver, UpstreamError

GUARD = 10.0  # a hang fails the test instead of stalling the suite


@dataclass
class Origin:
    """Loopback servers standing in for the internet."""

    http_port: int = 0
    echo_port: int = 0
    requests: list[bytes] = field(default_factory=list)  # what the HTTP server received
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def resolver(self) -> StaticResolver:
        names = {"allowed.test": "127.0.0.1", "denied.test": "127.0.0.1"}
        return StaticResolver(names, ports={80: self.http_port, 443: self.echo_port})

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            self.requests.append(head + await reader.readexactly(length))
            host = next(ln for ln in head.split(b"\r\n") if ln.startswith(b"Host:"))[6:]
            body = b"hello from " + host
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n"
                b"Keep-Alive: timeout=5\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        finally:
            writer.close()

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _track(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


@asynccontextmanager
async def origin_servers() -> AsyncIterator[Origin]:
    origin = Origin()
    http = await asyncio.start_server(origin._http, "127.0.0.1", 0, backlog=1024)
    echo = await asyncio.start_server(origin._echo, "127.0.0.1", 0, backlog=1024)
    origin.http_port = http.sockets[0].getsockname()[1]
    origin.echo_port = echo.sockets[0].getsockname()[1]
    try:
        yield origin
    finally:
        for server in (http, echo):
            server.close()
            await server.wait_closed()
        await asyncio.gather(*origin.tasks, return_exceptions=True)


@dataclass
class Running:
    proxy: EgressProxy
    port: int
    events: list[NetworkRequest]
    origin: Origin


@asynccontextmanager
async def running_proxy(
    entries: Sequence[str] = ("allowed.test",), **options: Any
) -> AsyncIterator[Running]:
    """The proxy on a free loopback port, in front of fresh origin servers."""
    async with origin_servers() as origin:
        events: list[NetworkRequest] = []
        options.setdefault("resolver", origin.resolver())
        proxy = EgressProxy(Allowlist(entries), on_event=events.append, **options)
        try:
            port = await proxy.listen_tcp()
            yield Running(proxy, port, events, origin)
        finally:
            await proxy.close()


async def exchange(port: int, data: bytes, *, then_close: bool = False) -> bytes:
    """Send `data` to the proxy and read everything it answers until it closes."""
    async with asyncio.timeout(GUARD):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(data)
            if then_close:
                writer.write_eof()
            return await reader.read()
        finally:
            writer.close()


def get(url: str, *headers: str) -> bytes:
    lines = [f"GET {url} HTTP/1.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


async def test_allowed_http_request_is_forwarded_in_origin_form_without_proxy_headers() -> None:
    async with running_proxy() as run:
        answer = await exchange(
            run.port,
            get(
                "http://Allowed.TEST/path?q=1",
                "Host: elsewhere.test",
                "Proxy-Authorization: Basic c2VjcmV0",
                "Proxy-Connection: keep-alive",
                "Connection: X-Private",
                "X-Private: 1",
                "Accept: */*",
            ),
        )
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"\r\n\r\nhello from allowed.test")
        assert b"Connection: close\r\n" in answer
        assert b"keep-alive" not in answer.lower()
        assert run.origin.requests == [
            b"GET /path?q=1 HTTP/1.1\r\nHost: allowed.test\r\nAccept: */*\r\n"
            b"Connection: close\r\n\r\n"
        ]


async def test_request_body_reaches_the_server() -> None:
    async with running_proxy() as run:
        request = b"POST http://allowed.test/up HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        answer = await exchange(run.port, request)
        assert answer.startswith(b"HTTP/1.1 200")
        assert run.origin.requests[0].endswith(b"\r\n\r\nhello")


async def test_connect_tunnel_to_allowed_host_relays_bytes_both_ways() -> None:
    async with running_proxy() as run:
        async with asyncio.timeout(GUARD):
            reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
            writer.write(b"CONNECT allowed.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n")
            assert await reader.readuntil(b"\r\n\r\n") == (
                b"HTTP/1.1 200 Connection established\r\n\r\n"
            )
            for message in (b"\x16\x03\x01 client hello", b"x" * 200_000):
                writer.write(message)
                assert await reader.readexactly(len(message)) == message
            writer.write_eof()
            assert await reader.read() == b""
            writer.close()
        await run.proxy.close()
        closing = run.events[-1]
        assert (closing.method, closing.closed) == ("CONNECT", True)
        assert closing.bytes_up == closing.bytes_down == 200_016


async def test_denied_host_gets_403_and_never_reaches_the_server() -> None:
    async with running_proxy() as run:
        answer = await exchange(run.port, get("http://denied.test/"))
        tunnel = await exchange(run.port, b"CONNECT denied.test:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
        assert b"denied.test:80 is not allowed (not in allowlist)" in answer
        assert tunnel.startswith(b"HTTP/1.1 403 Forbidden\r\n")
        assert run.origin.requests == []
        assert [(e.host, e.port, e.method, e.allowed) for e in run.events] == [
            ("denied.test", 80, "GET", False),
            ("denied.test", 443, "CONNECT", False),
        ]


async def test_empty_allowlist_refuses_everything() -> None:
    async with running_proxy(entries=()) as run:
        for request in (get("http://allowed.test/"), b"CONNECT allowed.test:443 HTTP/1.1\r\n\r\n"):
            assert (await exchange(run.port, request)).startswith(b"HTTP/1.1 403")
        assert run.origin.requests == []


async def test_ip_literal_and_unlisted_port_are_refused() -> None:
    async with running_proxy() as run:
        by_ip = await exchange(run.port, get(f"http://127.0.0.1:{run.origin.http_port}/"))
        by_port = await exchange(run.port, b"CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n")
        assert by_ip.startswith(b"HTTP/1.1 403")
        assert by_port.startswith(b"HTTP/1.1 403")
        assert [e.reason for e in run.events] == [
            "IP address not in allowlist",
            "port 8443 not allowed for allowed.test",
        ]
        assert run.origin.requests == []


async def test_each_allowed_request_emits_an_open_then_a_closing_event(tmp_path: Path) -> None:
    log = tmp_path / "session" / "network.jsonl"
    async with running_proxy(log_path=log) as run:
        await exchange(run.port, get("http://allowed.test/"))
        await exchange(run.port, get("http://denied.test/"))
        await run.proxy.close()
        opened, closed, denied = run.events
        assert (opened.allowed, opened.closed, opened.bytes_up, opened.bytes_down) == (
            True,
            False,
            0,
            0,
        )
        assert closed.request_id == opened.request_id and closed.time == opened.time
        assert closed.closed and closed.reason == "allowlist: allowed.test"
        assert closed.bytes_up == len(run.origin.requests[0])
        assert closed.bytes_down > len(b"hello from allowed.test")
        assert (denied.allowed, denied.closed) == (False, True)
        assert read_network_log(log) == [closed, denied]
        assert log.stat().st_mode & 0o777 == 0o600


async def test_replacing_the_allowlist_takes_effect_for_the_next_request() -> None:
    async with running_proxy(entries=()) as run:
        assert (await exchange(run.port, get("http://allowed.test/"))).startswith(b"HTTP/1.1 403")
        run.proxy.allowlist = Allowlist(["allowed.test"])
        assert (await exchange(run.port, get("http://allowed.test/"))).startswith(b"HTTP/1.1 200")
        run.proxy.allowlist = Allowlist()
        assert (await exchange(run.port, get("http://allowed.test/"))).startswith(b"HTTP/1.1 403")


class User:
    """Answers the proxy's questions the way the TUI does: a Future per question."""

    def __init__(self) -> None:
        self.questions: asyncio.Queue[tuple[DeniedRequest, asyncio.Future[Verdict]]] = (
            asyncio.Queue()
        )

    def ask(self, request: DeniedRequest) -> asyncio.Future[Verdict]:
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self.questions.put_nowait((request, future))
        return future

    async def answer(self, verdict: Verdict) -> DeniedRequest:
        async with asyncio.timeout(GUARD):
            request, future = await self.questions.get()
        future.set_result(verdict)
        return request


async def test_allow_once_lets_this_request_through_and_asks_again_next_time() -> None:
    user = User()
    async with running_proxy(entries=(), on_denied=user.ask) as run:
        first = asyncio.create_task(exchange(run.port, get("http://denied.test/")))
        asked = await user.answer(Verdict.ONCE)
        assert (asked.host, asked.port, asked.reason) == ("denied.test", 80, "not in allowlist")
        assert (await first).startswith(b"HTTP/1.1 200")
        assert run.events[0].reason == "allowed once"
        second = asyncio.create_task(exchange(run.port, get("http://denied.test/")))
        await user.answer(Verdict.DENY)
        answer = await second
        assert answer.startswith(b"HTTP/1.1 403")
        assert run.events[-1].reason == "not in allowlist; denied by the user"
        assert run.proxy.allowlist.entries == ()


async def test_allow_always_adds_the_host_and_hands_it_over_for_saving() -> None:
    user, saved = User(), list[str]()
    options = {"on_denied": user.ask, "on_allow_always": saved.append}
    async with running_proxy(entries=(), **options) as run:
        request = b"CONNECT denied.test:443 HTTP/1.1\r\n\r\n"
        first = asyncio.create_task(exchange(run.port, request, then_close=True))
        await user.answer(Verdict.ALWAYS)
        assert (await first).startswith(b"HTTP/1.1 200 Connection established")
        assert saved == ["denied.test"]
        assert run.proxy.allowlist.entries == ("denied.test",)
        again = await exchange(run.port, request, then_close=True)
        assert again.startswith(b"HTTP/1.1 200")
        assert user.questions.empty()
        assert run.events[-1].reason == "allowlist: denied.test"


async def test_an_unanswered_question_is_a_deny_so_requests_never_hang() -> None:
    user = User()
    limits = ProxyLimits(approval_timeout=0.05)
    async with running_proxy(entries=(), on_denied=user.ask, limits=limits) as run:
        answer = await exchange(run.port, get("http://denied.test/"))
        assert answer.startswith(b"HTTP/1.1 403")
        assert run.events[0].reason == "not in allowlist; no answer within 0.05s"
        _, future = user.questions.get_nowait()
        assert future.cancelled()


async def test_concurrent_requests_for_one_host_share_one_question() -> None:
    user = User()
    async with running_proxy(entries=(), on_denied=user.ask) as run:
        waiting = [
            asyncio.create_task(exchange(run.port, get("http://denied.test/"))) for _ in range(5)
        ]
        while run.proxy.awaiting_approval < 5:
            await asyncio.sleep(0.01)
        await user.answer(Verdict.ONCE)
        answers = await asyncio.gather(*waiting)
        assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
        assert user.questions.empty()


async def test_unreachable_upstream_gets_502_and_the_event_says_why() -> None:
    nowhere = StaticResolver({"allowed.test": "127.0.0.1"}, ports={80: 1})  # port 1: closed
    async with running_proxy(("allowed.test", "unknown.test"), resolver=nowhere) as run:
        refused = await exchange(run.port, get("http://allowed.test/"))
        unknown = await exchange(run.port, get("http://unknown.test/"))
        await run.proxy.close()
        assert refused.startswith(b"HTTP/1.1 502 Bad Gateway")
        assert unknown.startswith(b"HTTP/1.1 502 Bad Gateway")
        assert b"cannot resolve unknown.test" in unknown
        closing = [e for e in run.events if e.closed]
        assert closing[0].allowed and "cannot connect to 127.0.0.1:1" in closing[0].reason
        assert (
            closing[1].reason
            == "allowlist: unknown.test; cannot resolve unknown.test: unknown name"
        )


async def test_proxy_serves_on_a_unix_socket_and_removes_it_on_close(tmp_path: Path) -> None:
    path = tmp_path / "p.sock"
    async with running_proxy() as run:
        await run.proxy.listen_unix(path)
        assert path.stat().st_mode & 0o777 == 0o600
        async with asyncio.timeout(GUARD):
            reader, writer = await asyncio.open_unix_connection(str(path))
            writer.write(get("http://allowed.test/"))
            assert (await reader.read()).endswith(b"hello from allowed.test")
            writer.close()
        await run.proxy.close()
        assert not path.exists()


async def test_too_long_unix_socket_path_is_a_clear_error(tmp_path: Path) -> None:
    proxy = EgressProxy(Allowlist())
    with pytest.raises(ProxyError, match="socket path too long"):
        await proxy.listen_unix(tmp_path / ("x" * 120))


async def test_closing_the_proxy_ends_open_tunnels_and_reports_their_bytes() -> None:
    async with running_proxy() as run:
        reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
        writer.write(b"CONNECT allowed.test:443 HTTP/1.1\r\n\r\nping")
        async with asyncio.timeout(GUARD):
            await reader.readuntil(b"\r\n\r\n")
            assert await reader.readexactly(4) == b"ping"
        await run.proxy.close()
        async with asyncio.timeout(GUARD):
            assert await reader.read() == b""
        writer.close()
        assert run.proxy.active_connections == 0
        assert (run.events[-1].closed, run.events[-1].bytes_up) == (True, 4)


async def test_a_real_http_client_gets_through() -> None:
    async with running_proxy() as run:
        proxies = {"http": f"http://127.0.0.1:{run.port}"}
        opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies))

        def fetch() -> bytes:
            with opener.open("http://allowed.test/", timeout=GUARD) as response:
                return bytes(response.read())

        assert await asyncio.to_thread(fetch) == b"hello from allowed.test"


async def test_system_resolver_refuses_names_pointing_at_this_machine() -> None:
    with pytest.raises(UpstreamError, match="localhost resolves to a local address"):
        await SystemResolver().resolve("localhost", 80)


@asynccontextmanager
async def upstream_sending(answer: bytes) -> AsyncIterator[StaticResolver]:
    """An upstream that reads the request head, sends `answer` and closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield StaticResolver(
            {"allowed.test": "127.0.0.1"}, ports={80: server.sockets[0].getsockname()[1]}
        )
    finally:
        server.close()
        await server.wait_closed()


async def test_interim_responses_pass_through_and_the_final_one_closes() -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\nok"
    )
    async with upstream_sending(answer) as resolver, running_proxy(resolver=resolver) as run:
        request = b"PUT http://allowed.test/ HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"
        assert await exchange(run.port, request) == (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        )


@pytest.mark.parametrize("answer", [b"", b"SSH-2.0-not-http\r\n\r\n", b"HTTP/1.1 200 OK\r\n"])
async def test_upstream_without_a_valid_response_gets_502(answer: bytes) -> None:
    async with upstream_sending(answer) as resolver, running_proxy(resolver=resolver) as run:
        assert (await exchange(run.port, get("http://allowed.test/"))).startswith(
            b"HTTP/1.1 502 Bad Gateway"
        )


class Stalling:
    """A resolver that never answers."""

    async def resolve(self, host: str, port: int) -> list[tuple[str, int]]:
        await asyncio.Event().wait()
        return []


async def test_upstream_that_takes_too_long_gets_502() -> None:
    limits = ProxyLimits(connect_timeout=0.05)
    async with running_proxy(resolver=Stalling(), limits=limits) as run:
        answer = await exchange(run.port, b"CONNECT allowed.test:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 502")
        assert b"timed out connecting to allowed.test:443" in answer
