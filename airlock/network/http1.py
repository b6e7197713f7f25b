"""HTTP/1.x heads as the egress proxy reads and rewrites them.

The proxy understands only request heads (absolute-form `GET http://host/…` or
`CONNECT host:port`) and response status lines; bodies pass through untouched. Forwarded
requests are rewritten to origin-form with hop-by-hop and proxy headers removed and
`Connection: close` added, so each client connection carries one request to one host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

from airlock.network.allowlist import AllowlistError, canonical_host, split_host_port

HEAD_END = b"\r\n\r\n"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS_LINE = re.compile(r"HTTP/1\.[01] ([1-9][0-9]{2})(?: .*)?")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "upgrade",
    }
)

Headers = tuple[tuple[str, str], ...]


class HttpError(Exception):
    """A request the proxy refuses before deciding anything; becomes an error response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RequestHead:
    """A parsed proxy request: where it goes and, for plain HTTP, what to send there."""

    method: str
    host: str  # canonical (lowercase, IPv6 without brackets)
    port: int
    path: str  # origin-form target; "" for CONNECT
    version: str
    headers: Headers

    @property
    def is_connect(self) -> bool:
        return self.method == "CONNECT"


def parse_request_head(data: bytes) -> RequestHead:
    """Parse a request head ending in CRLF CRLF; `HttpError` says what is wrong."""
    lines = data.decode("latin-1").removesuffix("\r\n\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise HttpError(505, f"unsupported protocol {version[:20]!r}")
    headers = parse_headers(lines[1:])
    _check_framing(headers)
    if method == "CONNECT":
        host, port = _authority(target, None)
        return RequestHead(method, host, port, "", version, headers)
    lowered = target[:8].lower()
    if lowered.startswith("https://"):
        raise HttpError(400, "https URLs must go through a CONNECT tunnel")
    if not lowered.startswith("http://"):
        raise HttpError(400, "a proxy request needs an absolute http:// URL")
    rest = target[len("http://") :]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    path = rest[cut:].split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    host, port = _authority(rest[:cut], 80)
    return RequestHead(method, host, port, path, version, headers)


def parse_headers(lines: list[str]) -> Headers:
    """`Name: value` lines; folded, nameless or control-character lines are errors."""
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name) or any(c in line for c in "\r\n\0"):
            raise HttpError(400, "malformed header line")
        headers.append((name, value.strip(" \t")))
    return tuple(headers)


def _check_framing(headers: Headers) -> None:
    lengths = {value for name, value in headers if name.lower() == "content-length"}
    chunked = any(name.lower() == "transfer-encoding" for name, _ in headers)
    if lengths and chunked:
        raise HttpError(400, "both Content-Length and Transfer-Encoding")
    if len(lengths) > 1 or not all(value.isascii() and value.isdigit() for value in lengths):
        raise HttpError(400, "invalid Content-Length")


def _authority(text: str, default_port: int | None) -> tuple[str, int]:
    if not text or "@" in text:
        raise HttpError(400, "missing or invalid host in the request target")
    try:
        host, port = split_host_port(text)
        host = canonical_host(host)
    except AllowlistError as exc:
        raise HttpError(400, exc.message) from exc
    port = port or default_port
    if port is None:
        raise HttpError(400, "CONNECT needs host:port")
    return host, port


def _end_to_end(headers: Headers) -> list[tuple[str, str]]:
    """Headers minus hop-by-hop ones, including those the Connection header names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP and n.lower() not in named]


def _encode(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [first_line, *(f"{name}: {value}" for name, value in headers), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def origin_request(head: RequestHead) -> bytes:
    """The head to send upstream: origin-form, fresh Host, no hop-by-hop headers."""
    host = f"[{head.host}]" if ":" in head.host else head.host
    authority = host if head.port == 80 else f"{host}:{head.port}"
    headers = [(n, v) for n, v in _end_to_end(head.headers) if n.lower() != "host"]
    return _encode(f"{head.method} {head.path} {head.version}", [("Host", authority), *headers])


def response_status(data: bytes) -> int:
    """The status code of a response head; `HttpError(502)` if it is not HTTP/1.x."""
    first = data.split(b"\r\n", 1)[0].decode("latin-1")
    match = _STATUS_LINE.fullmatch(first)
    if match is None:
        raise HttpError(502, "the upstream server sent a malformed response")
    return int(match.group(1))


def closing_response(data: bytes) -> bytes:
    """A final response head rewritten to end the client connection after it."""
    lines = data.decode("latin-1").removesuffix("\r\n\r\n").split("\r\n")
    try:
        headers = parse_headers(lines[1:])
    except HttpError as exc:
        raise HttpError(502, "the upstream server sent malformed headers") from exc
    return _encode(lines[0], _end_to_end(headers))


def error_response(status: int, message: str) -> bytes:
    """A small plain-text response the proxy sends itself (then closes)."""
    body = f"airlock proxy: {message}\n".encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body
