"""The egress proxy under abuse: garbage, oversized and slow requests, crowds of clients.

After each, the proxy still answers, and no file descriptor is left behind.
"""

from __future__ import annotations

import asyncio
import gc
import os

import pytest

from airlock.network.proxy import ProxyLimits
from tests.test_network_proxy import GUARD, exchange, get, running_proxy

# An unclosed stream that only the garbage collector closes fails the test.
no_leaks = pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)


def open_fds() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


async def still_serves(port: int) -> bool:
    return (await exchange(port, get("http://allowed.test/"))).endswith(b"hello from allowed.test")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"\x00\xff garbage \x16\x03\x01\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n", b"400"),  # not a proxy request
        (b"GET https://allowed.test/ HTTP/1.1\r\n\r\n", b"400"),  # https needs CONNECT
        (b"GET http://allowed.test/ HTTP/2.0\r\n\r\n", b"505"),
        (b"GET http://allowed.test/ HTTP/1.1\r\n folded\r\n\r\n", b"400"),
        (b"GET http://allowed.test/ HTTP/1.1\r\nNo colon\r\n\r\n", b"400"),
        (b"GET http://user@allowed.test/ HTTP/1.1\r\n\r\n", b"400"),
        (b"GET http://bad host/ HTTP/1.1\r\n\r\n", b"400"),
        (b"CONNECT allowed.test HTTP/1.1\r\n\r\n", b"400"),  # no port
        (b"CONNECT allowed.test:99999 HTTP/1.1\r\n\r\n", b"400"),
        (
            b"POST http://allowed.test/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"400",
        ),
        (
            b"POST http://allowed.test/ HTTP/1.1\r\nContent-Length: 1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            b"400",
        ),
    ],
)
async def test_malformed_requests_get_an_error_and_the_proxy_keeps_serving(
    request_bytes: bytes, status: bytes
) -> None:
    async with running_proxy() as run:
        answer = await exchange(run.port, request_bytes)
        assert answer.startswith(b"HTTP/1.1 " + status)
        assert run.origin.requests == [] and run.events == []
        assert await still_serves(run.port)


async def test_huge_request_head_gets_431() -> None:
    async with running_proxy() as run:
        huge = get("http://allowed.test/", "X-Big: " + "a" * 100_000)
        assert (await exchange(run.port, huge)).startswith(b"HTTP/1.1 431")
        assert await still_serves(run.port)


async def test_client_that_never_finishes_its_request_gets_408() -> None:
    async with running_proxy(limits=ProxyLimits(head_timeout=0.2)) as run:
        answer = await exchange(run.port, b"GET http://allowed.test/ HTTP/1.1\r\nX-Slow: ")
        assert answer.startswith(b"HTTP/1.1 408")
        assert await still_serves(run.port)


async def test_client_that_half_sends_and_leaves_is_dropped_quietly() -> None:
    async with running_proxy() as run:
        answer = await exchange(run.port, b"CONNECT allowed.te", then_close=True)
        assert answer.startswith(b"HTTP/1.1 400")
        assert await exchange(run.port, b"", then_close=True) == b""
        assert await still_serves(run.port)


@no_leaks
async def test_two_hundred_concurrent_clients_are_all_served_without_leaking() -> None:
    before = open_fds()
    async with running_proxy() as run:

        async def tunnel(n: int) -> bool:
            async with asyncio.timeout(GUARD):
                reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
                writer.write(b"CONNECT allowed.test:443 HTTP/1.1\r\n\r\n")
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"%d" % n)
                echoed = await reader.readexactly(len(b"%d" % n))
                writer.close()
                return echoed == b"%d" % n

        async def one(n: int) -> bool:
            if n % 4 == 0:
                return await still_serves(run.port)
            if n % 4 == 1:
                return (await exchange(run.port, get("http://denied.test/"))).startswith(
                    b"HTTP/1.1 403"
                )
            if n % 4 == 2:
                return (await exchange(run.port, b"\x00junk\r\n\r\n")).startswith(b"HTTP/1.1 400")
            return await tunnel(n)

        results = await asyncio.gather(*(one(n) for n in range(200)))
        assert all(results)
        while run.proxy.active_connections:
            await asyncio.sleep(0.01)
        assert await still_serves(run.port)
    assert open_fds() == before


@no_leaks
async def test_clients_vanishing_mid_tunnel_leave_nothing_behind() -> None:
    before = open_fds()
    async with running_proxy() as run:
        for _ in range(20):
            reader, writer = await asyncio.open_connection("127.0.0.1", run.port)
            writer.write(b"CONNECT allowed.test:443 HTTP/1.1\r\n\r\nhalf a message")
            async with asyncio.timeout(GUARD):
                await reader.readuntil(b"\r\n\r\n")
            writer.transport.abort()  # reset, no goodbye
        while run.proxy.active_connections:
            await asyncio.sleep(0.01)
        assert sum(e.closed and e.allowed for e in run.events) == 20
        assert await still_serves(run.port)
    assert open_fds() == before
