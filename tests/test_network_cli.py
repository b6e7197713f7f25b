"""`airlock allow`, `airlock deny`, `airlock net-log`, and a real bubblewrap session behind them.

`allowed.test` and `denied.test` are made-up names served by a loopback HTTP server; the
session's proxy resolves them there through the AIRLOCK_TEST_HOSTS hook, which changes
name resolution only (whether a request may go out is still the allowlist's call).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from airlock.config import load_config
from airlock.errors import ConfigError
from airlock.events import Event
from airlock.network.egress import SessionEgress
from airlock.network.loopback_hosts import parse_test_hosts, resolver_from_env
from airlock.network.upstream import UpstreamError
from airlock.paths import airlock_paths
from airlock.projects import add_project
from tests.conftest import CliRunner
from tests.test_network_proxy import GUARD
from tests.test_network_sandbox import free_port

FETCH = """
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except urllib.error.HTTPError as exc:
    sys.exit(f"HTTP {exc.code}")
"""


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A loopback HTTP server that `allowed.test` and `denied.test` resolve to; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    monkeypatch.setenv(
        "AIRLOCK_TEST_HOSTS", f"allowed.test=127.0.0.1:{port},denied.test=127.0.0.1:{port}"
    )
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "notes"
    path.mkdir()
    return path


def fetch(cli: CliRunner, folder: Path, url: str) -> tuple[int, str, str]:
    result = cli("sandbox", "exec", folder, "--", "python3", "-c", FETCH, url)
    if "bubblewrap" in result.err and result.code != 0 and "HTTP" not in result.err:
        pytest.skip(f"bubblewrap cannot run here: {result.err.strip()}")
    return result.code, result.out, result.err


def log_rows(cli: CliRunner, folder: Path) -> list[list[str]]:
    """The net-log table's rows (time dropped), without the header and the summary."""
    lines = cli("net-log", folder).out.splitlines()
    return [line.split()[2:] for line in lines[1:-1]]


# End to end: a real bubblewrap session, the CLI, the proxy, a loopback "internet"


def test_a_domain_gets_through_only_after_airlock_allow(
    cli: CliRunner, folder: Path, site: int
) -> None:
    code, out, err = fetch(cli, folder, "http://allowed.test/")
    assert code == 1 and "HTTP 403" in err and out == ""

    allowed = cli("allow", folder, "allowed.test")
    assert allowed.code == 0
    assert allowed.out.splitlines() == [
        f"registered {folder} as the project 'notes'",
        "allowed allowed.test",
        "allowlist of notes: allowed.test",
    ]
    assert fetch(cli, folder, "http://allowed.test/") == (0, "hello from allowed.test\n", "")
    code, _, err = fetch(cli, folder, "http://denied.test/")  # exactly that domain
    assert code == 1 and "HTTP 403" in err

    rows = log_rows(cli, folder)
    assert [row[:3] for row in rows] == [
        ["denied", "GET", "allowed.test:80"],
        ["allowed", "GET", "allowed.test:80"],
        ["denied", "GET", "denied.test:80"],
    ]
    assert rows[0][3:] == ["-", "not", "in", "allowlist"]
    assert rows[1][3] != "0/0" and rows[1][4:] == ["allowlist:", "allowed.test"]
    records = json.loads(cli("net-log", folder, "--json").out)
    assert [(r["host"], r["allowed"], r["closed"]) for r in records] == [
        ("allowed.test", False, True),
        ("allowed.test", True, True),
        ("denied.test", False, True),
    ]


def test_with_an_empty_allowlist_nothing_is_reachable_even_directly(
    cli: CliRunner, folder: Path, site: int
) -> None:
    direct = (
        "import socket; s = socket.socket(); s.settimeout(5); "
        f"print(s.connect_ex(('127.0.0.1', {site})))"
    )
    result = cli("sandbox", "exec", folder, "--", "python3", "-c", direct)
    if result.code != 0:
        pytest.skip(f"bubblewrap cannot run here: {result.err.strip()}")
    assert result.out.strip() != "0"
    code, _, err = fetch(cli, folder, "http://denied.test/")
    assert code == 1 and "HTTP 403" in err


# A running session picks up `airlock allow` / `airlock deny`


async def get(port: int, url: str) -> bytes:
    """The status line of one request through the proxy at 127.0.0.1:PORT."""
    async with asyncio.timeout(GUARD):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        host = url.split("/")[2]
        writer.write(f"GET {url} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status = await reader.readline()
        writer.close()
        return status.split(b" ", 2)[1]


async def test_a_running_session_applies_cli_edits_before_the_next_request(
    cli: CliRunner, folder: Path, site: int, tmp_path: Path
) -> None:
    project = add_project(folder)
    events: list[Event] = []
    egress = SessionEgress(project, tmp_path / "network.jsonl", events.append)
    port = free_port()
    await egress.start_tcp(port)
    try:
        assert await get(port, "http://allowed.test/") == b"403"
        assert cli("allow", folder, "allowed.test").code == 0
        assert await get(port, "http://allowed.test/") == b"200"
        assert await get(port, "http://denied.test/") == b"403"
        assert cli("deny", folder, "allowed.test").code == 0
        assert await get(port, "http://allowed.test/") == b"403"
    finally:
        await egress.close()


# The commands' own behaviour


def test_bad_entries_are_refused_with_one_clear_line(cli: CliRunner, folder: Path) -> None:
    result = cli("allow", folder, "allowed.test", "https://example.com/path")
    assert result.code == 1
    assert result.err.splitlines() == [
        "airlock: 'https://example.com/path': write the host without a scheme",
        "  hint: e.g. example.com",
    ]
    assert load_config().projects == []  # nothing applied, not even the valid entry


def test_entries_are_stored_canonical_and_deny_says_what_still_allows_a_host(
    cli: CliRunner, folder: Path
) -> None:
    assert cli("allow", folder, "Docs.Example.COM.", "*.example.com").code == 0
    again = cli("allow", folder, "docs.example.com")
    assert again.out.splitlines()[0] == "docs.example.com was already allowed"
    (project,) = load_config().projects
    assert project.allowlist == ["*.example.com", "docs.example.com"]

    result = cli("deny", folder, "docs.example.com", "other.test")
    assert result.code == 0
    assert result.out.splitlines() == [
        "removed docs.example.com",
        "other.test was not on the allowlist",
        "note: docs.example.com is still allowed (allowlist: *.example.com)",
        "allowlist of notes: *.example.com",
    ]
    assert cli("deny", folder, "*.example.com").out.splitlines()[-1] == (
        "allowlist of notes: empty: nothing is allowed"
    )


def test_deny_on_an_unregistered_folder_changes_nothing(cli: CliRunner, folder: Path) -> None:
    result = cli("deny", folder, "example.com")
    assert result.code == 0
    assert "example.com was not on the allowlist" in result.out
    assert load_config().projects == []


def test_net_log_without_a_session_or_with_an_unknown_one(cli: CliRunner, folder: Path) -> None:
    result = cli("net-log", folder)
    assert result.code == 1 and result.err.startswith("airlock: no session yet for ")
    assert cli("sandbox", "exec", folder, "--", "true").code in (0, 1)
    unknown = cli("net-log", folder, "--session", "nope")
    assert unknown.code == 1 and unknown.err.startswith("airlock: no session 'nope'")


def test_a_bad_allowlist_entry_in_the_config_file_is_a_config_error(cli: CliRunner) -> None:
    path = airlock_paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text('[[projects]]\nname = "p"\npath = "/tmp"\nallowlist = ["a.test/x"]\n')
    result = cli("project", "list")
    assert result.code == 2
    assert result.err == (
        f"airlock: {path}: projects[0] (p).allowlist: "
        "'a.test/x': write only a host (and an optional :port)\n"
    )


# The test hook


@pytest.mark.parametrize(
    "text", ["example.com=127.0.0.1:80", "a.test=192.0.2.1:80", "a.test=127.0.0.1", "a.test"]
)
def test_the_test_hosts_hook_takes_only_test_names_on_loopback(text: str) -> None:
    with pytest.raises(ConfigError, match=r"must be NAME\.test=LOOPBACK-IP:PORT"):
        parse_test_hosts(text)


async def test_the_test_hosts_hook_only_resolves_and_falls_back_for_other_names() -> None:
    resolver = resolver_from_env({"AIRLOCK_TEST_HOSTS": "A.test=127.0.0.1:8080"})
    assert resolver is not None
    assert await resolver.resolve("a.test", 443) == [("127.0.0.1", 8080)]
    with pytest.raises(UpstreamError):
        await resolver.resolve("nothing.invalid", 80)
    assert resolver_from_env({}) is None
