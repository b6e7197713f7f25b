"""The sandbox's way out: the forwarder, and a real bubblewrap sandbox behind the proxy.

Inside bwrap there is no network but loopback; `curl` reaches the proxy only through the
forwarder and the bind-mounted Unix socket, and reaches nothing without it.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from airlock.events import NetworkRequest
from airlock.network.allowlist import Allowlist
from airlock.network.approval import Verdict
from airlock.network.bwrap_routing import (
    SANDBOX_PORT,
    forwarder_script,
    forwarder_wrapper,
    routing_mounts,
    sandbox_env,
)
from airlock.network.client_env import proxy_env
from airlock.network.proxy import EgressProxy
from airlock.network.upstream import StaticResolver
from airlock.sandbox.base import SandboxError
from airlock.sandbox.bwrap import BwrapSandbox
from airlock.sandbox.bwrap_args import Bind
from tests.test_network_proxy import GUARD, Running, origin_servers

SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: Unix socket paths are limited to 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="al-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def unix_proxy(
    socket_path: Path, entries: Sequence[str] = (), **options: Any
) -> AsyncIterator[Running]:
    """The proxy on a Unix socket; CONNECT to port 443 lands on the plain HTTP server."""
    async with origin_servers() as origin:
        events: list[NetworkRequest] = []
        names = {"allowed.test": "127.0.0.1", "denied.test": "127.0.0.1"}
        resolver = StaticResolver(names, ports={80: origin.http_port, 443: origin.http_port})
        proxy = EgressProxy(
            Allowlist(entries), resolver=resolver, on_event=events.append, **options
        )
        try:
            await proxy.listen_unix(socket_path)
            yield Running(proxy, 0, events, origin)
        finally:
            await proxy.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_forwarded(socket_path: Path, port: int, *command: str) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON,
        str(forwarder_script()),
        "--port",
        str(port),
        "--socket",
        str(socket_path),
        "--",
        *command,
        env=proxy_env(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(GUARD):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out, err


FETCH = """
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except urllib.error.HTTPError as exc:
    print(exc.code)
"""


async def test_forwarder_carries_a_command_s_requests_to_the_proxy(short_dir: Path) -> None:
    sock = short_dir / "proxy.sock"
    async with unix_proxy(sock, ["allowed.test"]):
        code, out, _ = await run_forwarded(
            sock, free_port(), SYSTEM_PYTHON, "-c", FETCH, "http://allowed.test/"
        )
        assert (code, out) == (0, b"hello from allowed.test\n")
        fetch_denied = (SYSTEM_PYTHON, "-c", FETCH, "http://denied.test/")
        assert (await run_forwarded(sock, free_port(), *fetch_denied))[1] == b"403\n"


async def test_forwarder_passes_on_the_command_s_exit_status_and_then_stops(
    short_dir: Path,
) -> None:
    sock = short_dir / "proxy.sock"
    async with unix_proxy(sock):
        assert (await run_forwarded(sock, free_port(), "sh", "-c", "exit 7"))[0] == 7
        port = free_port()
        code, _, err = await run_forwarded(sock, port, "no-such-command-here")
        assert code == 127 and b"cannot run no-such-command-here" in err
        async with asyncio.timeout(GUARD):
            while True:  # the forwarder notices its command is gone and exits
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except ConnectionRefusedError:
                    break
                writer.close()
                await asyncio.sleep(0.05)


async def test_forwarder_reports_a_busy_port(short_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run_forwarded(short_dir / "none.sock", port, "true")
    assert code == 2 and b"cannot listen on 127.0.0.1:" in err


def test_sandbox_env_points_every_tool_at_the_forwarder() -> None:
    env = sandbox_env()
    url = f"http://127.0.0.1:{SANDBOX_PORT}"
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        assert env[name] == url
    assert env["no_proxy"] == env["NO_PROXY"] == "localhost,127.0.0.1,::1"
    assert env["npm_config_https_proxy"] == env["YARN_HTTPS_PROXY"] == url
    assert env["NODE_USE_ENV_PROXY"] == "1"


# A real bubblewrap sandbox


@asynccontextmanager
async def routed_sandbox(root: Path, socket_path: Path) -> AsyncIterator[BwrapSandbox]:
    box = BwrapSandbox(
        root,
        env=sandbox_env(),
        binds=[Bind(source=s, dest=d) for s, d in routing_mounts(socket_path)],
        wrapper=forwarder_wrapper(),
    )
    try:
        await box.start()
    except SandboxError as exc:
        pytest.skip(f"bubblewrap cannot run here: {exc}")
    try:
        yield box
    finally:
        await box.close()


async def curl(box: BwrapSandbox, *args: str) -> str:
    """`curl` in the sandbox; prints the HTTP status, the CONNECT status, or curl's error."""
    quoted = " ".join(f"'{arg}'" for arg in args)
    script = f"curl -sS -m 5 -o /dev/null -w '%{{http_code}} %{{http_connect}}' {quoted} 2>&1"
    result = await box.exec(script, timeout=GUARD)
    return result.stdout.decode()


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@needs_curl
async def test_sandboxed_curl_reaches_only_what_the_allowlist_allows(
    short_dir: Path, tmp_path: Path
) -> None:
    sock = short_dir / "proxy.sock"
    async with (
        unix_proxy(sock, ["allowed.test"]) as run,
        routed_sandbox(tmp_path / "box", sock) as box,
    ):
        assert await curl(box, "http://allowed.test/") == "200 000"
        assert await curl(box, "-p", "http://allowed.test:443/") == "200 200"  # CONNECT
        assert await curl(box, "http://denied.test/") == "403 000"
        assert (await curl(box, "-p", "http://denied.test:443/")).endswith("000 403")
        assert await curl(box, "http://192.0.2.1/") == "403 000"  # an IP literal
        assert await curl(box, "http://allowed.test:8080/") == "403 000"
        assert [(e.host, e.allowed) for e in run.events if e.closed] == [
            ("allowed.test", True),
            ("allowed.test", True),
            ("denied.test", False),
            ("denied.test", False),
            ("192.0.2.1", False),
            ("allowed.test", False),
        ]


@needs_curl
async def test_sandboxed_commands_cannot_bypass_the_proxy(short_dir: Path, tmp_path: Path) -> None:
    sock = short_dir / "proxy.sock"
    async with (
        unix_proxy(sock, ["allowed.test"]) as run,
        routed_sandbox(tmp_path / "box", sock) as box,
    ):
        direct = await curl(box, "--noproxy", "*", f"http://127.0.0.1:{run.origin.http_port}/")
        assert "Failed to connect" in direct and direct.endswith("000 000")
        by_socket = (
            "import socket; s = socket.socket(); s.settimeout(5); "
            f"print(s.connect_ex(('127.0.0.1', {run.origin.http_port})))"
        )
        result = await box.exec(["python3", "-c", by_socket], timeout=GUARD)
        assert result.stdout.strip() != b"0"
        devices = await box.exec("tail -n +3 /proc/net/dev | cut -d: -f1", timeout=GUARD)
        assert devices.stdout.split() == [b"lo"]  # no network device but loopback
        assert run.origin.requests == []


@needs_curl
async def test_allowing_a_domain_lets_exactly_that_domain_through(
    short_dir: Path, tmp_path: Path
) -> None:
    sock = short_dir / "proxy.sock"
    answers = [Verdict.ALWAYS]

    async def user(_: object) -> Verdict:
        return answers.pop()

    saved: list[str] = []
    async with (
        unix_proxy(sock, on_denied=user, on_allow_always=saved.append) as run,
        routed_sandbox(tmp_path / "box", sock) as box,
    ):
        assert await curl(box, "http://allowed.test/") == "200 000"  # asked, answered "always"
        assert saved == ["allowed.test"]
        assert await curl(box, "http://allowed.test/") == "200 000"  # not asked again
        run.proxy.allowlist = Allowlist()  # the user removes it again
        answers.append(Verdict.DENY)
        assert await curl(box, "http://allowed.test/") == "403 000"
