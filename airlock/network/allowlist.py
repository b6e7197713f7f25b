"""The project's egress allowlist: which hosts and ports the sandbox may reach.

Entries, as users write them (`airlock allow`, config `allowlist = [...]`):

- `example.com`: exactly that host, on ports 80 and 443.
- `*.example.com`: any subdomain of it, at any depth (`a.example.com`, `a.b.example.com`),
  but **not** `example.com` itself; list both when both are wanted.
- `example.com:8080`, `*.example.com:8443`: that port only (and not 80/443).
- `192.0.2.7`, `2001:db8::1`, `[2001:db8::1]:8443`: an IP address, only when listed like this.
  IP literals never match a domain entry or a wildcard.

Matching is case-insensitive and tolerates one trailing dot; non-ASCII names are compared
in their IDNA (`xn--`) form. The empty list allows nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from airlock.errors import AirlockError

DEFAULT_PORTS = frozenset({80, 443})
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


class AllowlistError(AirlockError):
    """An allowlist entry (or a requested host) is not a valid host, wildcard or port."""


class Decision(BaseModel):
    """Whether a host:port may be reached, and why (shown to the user as is)."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    reason: str


def split_host_port(text: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address → (host, port)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise AllowlistError(f"{text!r}: missing `]` after the IPv6 address")
        host, rest = text[1:end], text[end + 1 :]
        if ":" not in host:
            raise AllowlistError(f"{text!r}: brackets are only for IPv6 addresses")
        if rest and not rest.startswith(":"):
            raise AllowlistError(f"{text!r}: unexpected text after `]`")
        return host, _port(text, rest[1:]) if rest else None
    if text.count(":") > 1:
        return text, None  # a bare IPv6 address has no port
    host, sep, port = text.partition(":")
    return host, _port(text, port) if sep else None


def _port(text: str, port: str) -> int:
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise AllowlistError(f"{text!r}: the port must be a number from 1 to 65535")
    return int(port)


def ip_literal(host: str) -> str | None:
    """The canonical form of `host` if it is an IP address (including forms like `127.1`)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            return None
        return str(address)
    labels = host.lower().split(".")
    # inet_aton accepts `127.1`, `0x7f.0.0.1`, `2130706433`; resolvers treat them as addresses.
    if all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def canonical_host(raw: str) -> str:
    """A request's host as the allowlist compares it: lowercase, no trailing dot, IDNA, IPs
    in canonical form (IPv6 without brackets)."""
    host = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    address = ip_literal(host)
    if address is not None:
        return address
    if ":" in host or "%" in host:
        raise AllowlistError(f"{raw!r} is not a valid host name or IP address")
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise AllowlistError(f"{raw!r} is not a valid international domain name") from exc
    labels = host.split(".")
    if (
        len(host) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise AllowlistError(f"{raw!r} is not a valid host name")
    return host


@dataclass(frozen=True)
class _Rule:
    entry: str  # canonical text, as stored in config
    host: str  # domain, wildcard suffix, or canonical IP
    wildcard: bool
    is_ip: bool
    port: int | None

    def matches_host(self, host: str, is_ip: bool) -> bool:
        if self.wildcard:
            return not is_ip and host.endswith("." + self.host)
        return host == self.host

    def allows_port(self, port: int) -> bool:
        return port in DEFAULT_PORTS if self.port is None else port == self.port


def _parse_entry(text: str) -> _Rule:
    stripped = text.strip()
    if not stripped:
        raise AllowlistError("an allowlist entry cannot be empty")
    if "://" in stripped:
        raise AllowlistError(
            f"{text!r}: write the host without a scheme",
            hint=f"e.g. {stripped.split('://', 1)[1].split('/', 1)[0]}",
        )
    if any(char in stripped for char in "/?#@ \t"):
        raise AllowlistError(f"{text!r}: write only a host (and an optional :port)")
    wildcard = stripped.startswith("*.")
    host_text, port = split_host_port(stripped[2:] if wildcard else stripped)
    if "*" in host_text:
        raise AllowlistError(f"{text!r}: `*` is only allowed as a whole first label, as in *.a.b")
    host = canonical_host(host_text)
    is_ip = ip_literal(host) is not None
    if wildcard and (is_ip or host.count(".") < 1):
        raise AllowlistError(
            f"{text!r}: a wildcard needs a domain of at least two labels, as in *.example.org"
        )
    return _Rule(_entry_text(host, port, wildcard), host, wildcard, is_ip, port)


def _entry_text(host: str, port: int | None, wildcard: bool = False) -> str:
    name = ("*." if wildcard else "") + host
    if port is None:
        return name
    return f"[{name}]:{port}" if ":" in name else f"{name}:{port}"


def normalize_entry(text: str) -> str:
    """Validate one entry and return its canonical form (what `airlock allow` stores)."""
    return _parse_entry(text).entry


def entry_for(host: str, port: int) -> str:
    """The narrowest entry that allows exactly `host:port` (what "allow always" adds)."""
    host = canonical_host(host)
    return _entry_text(host, None if port in DEFAULT_PORTS else port)


class Allowlist:
    """An immutable, validated allowlist; build a new one to change it."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        rules: dict[str, _Rule] = {}
        for text in entries:
            rule = _parse_entry(text)
            rules.setdefault(rule.entry, rule)
        self._rules = tuple(rules.values())

    @property
    def entries(self) -> tuple[str, ...]:
        """Canonical entries, in the order given, without duplicates."""
        return tuple(rule.entry for rule in self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"Allowlist({list(self.entries)!r})"

    def with_entry(self, entry: str) -> Allowlist:
        """This list plus `entry` (validated)."""
        return Allowlist((*self.entries, entry))

    def without_entry(self, entry: str) -> Allowlist:
        """This list minus `entry` (compared in canonical form)."""
        removed = normalize_entry(entry)
        return Allowlist(e for e in self.entries if e != removed)

    def decide(self, host: str, port: int) -> Decision:
        """Allow `host:port` only if an entry matches both; the reason says which or why not."""
        host = canonical_host(host)
        is_ip = ip_literal(host) is not None
        port_mismatch = False
        for rule in self._rules:
            if rule.matches_host(host, is_ip):
                if rule.allows_port(port):
                    return Decision(allowed=True, reason=f"allowlist: {rule.entry}")
                port_mismatch = True
        if port_mismatch:
            return Decision(allowed=False, reason=f"port {port} not allowed for {host}")
        if is_ip:
            return Decision(allowed=False, reason="IP address not in allowlist")
        return Decision(allowed=False, reason="not in allowlist")
