"""AIRLOCK_TEST_HOSTS: made-up `.test` names served on loopback, for end-to-end tests.

    AIRLOCK_TEST_HOSTS="allowed.test=127.0.0.1:8080,denied.test=127.0.0.1:8080"

makes the proxy resolve those names to those addresses (every port of a name goes to the
given port); every other name resolves as usual. It changes name resolution only, never
what may be reached: a request still needs an allowlist entry (or the user's yes). So that
it cannot redirect real names, it takes only names under the reserved `.test` domain
(RFC 2606) and loopback addresses; anything else is an error when the proxy is made.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

from airlock.errors import ConfigError
from airlock.network.allowlist import AllowlistError, canonical_host, split_host_port
from airlock.network.upstream import Resolver, SocketAddress, SystemResolver

ENV = "AIRLOCK_TEST_HOSTS"


class HostsResolver:
    """Fixed addresses for some names; the `fallback` resolver for the others."""

    def __init__(self, hosts: Mapping[str, SocketAddress], fallback: Resolver) -> None:
        self._hosts = dict(hosts)
        self._fallback = fallback

    async def resolve(self, host: str, port: int) -> list[SocketAddress]:
        if host in self._hosts:
            return [self._hosts[host]]
        return await self._fallback.resolve(host, port)


def parse_test_hosts(text: str) -> dict[str, SocketAddress]:
    """`name=ip:port,…` → {name: (ip, port)}; only `.test` names and loopback addresses."""
    hosts: dict[str, SocketAddress] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, target = item.partition("=")
        try:
            host = canonical_host(name.strip())
            address, port = split_host_port(target.strip())
            loopback = ipaddress.ip_address(address).is_loopback
        except (AllowlistError, ValueError):
            host, port, loopback = "", None, False
        if not host.endswith(".test") or port is None or not loopback:
            raise ConfigError(
                f"{ENV}: {item!r} must be NAME.test=LOOPBACK-IP:PORT",
                hint="it is a test hook; unset it for normal use",
            )
        hosts[host] = (address, port)
    return hosts


def resolver_from_env(environ: Mapping[str, str] | None = None) -> Resolver | None:
    """The resolver AIRLOCK_TEST_HOSTS asks for, or None when it is not set."""
    text = (os.environ if environ is None else environ).get(ENV, "")
    if not text.strip():
        return None
    return HostsResolver(parse_test_hosts(text), SystemResolver())
