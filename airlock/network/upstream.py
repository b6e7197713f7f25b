"""Where an allowed request goes: name resolution and the upstream connection.

The proxy resolves names on the host (the sandbox has no DNS). `SystemResolver` is the
production resolver; it refuses names that resolve to this machine's loopback, link-local
(cloud metadata), unspecified or multicast addresses, so an allowed domain cannot be
pointed at services on the host. `StaticResolver` maps made-up names for tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from typing import Protocol

from airlock.errors import AirlockError

SocketAddress = tuple[str, int]


class UpstreamError(AirlockError):
    """An allowed host could not be resolved or connected to (the client gets a 502)."""


class Resolver(Protocol):
    """Turns an allowed host name and port into the socket addresses to try, in order."""

    async def resolve(self, host: str, port: int) -> list[SocketAddress]: ...


def is_local_address(address: str) -> bool:
    """True for addresses that reach this machine or its link, not the internet."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


class SystemResolver:
    """The host's resolver (`getaddrinfo`), minus local addresses."""

    async def resolve(self, host: str, port: int) -> list[SocketAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UpstreamError(f"cannot resolve {host}: {exc.strerror}") from exc
        addresses = [(str(info[4][0]), port) for info in infos]
        public = [address for address in addresses if not is_local_address(address[0])]
        if addresses and not public:
            raise UpstreamError(f"{host} resolves to a local address; refused")
        return list(dict.fromkeys(public))


class StaticResolver:
    """A fixed name → address map, with optional port remapping (for loopback tests)."""

    def __init__(self, hosts: Mapping[str, str], ports: Mapping[int, int] | None = None) -> None:
        self._hosts = dict(hosts)
        self._ports = dict(ports or {})

    async def resolve(self, host: str, port: int) -> list[SocketAddress]:
        if host not in self._hosts:
            raise UpstreamError(f"cannot resolve {host}: unknown name")
        return [(self._hosts[host], self._ports.get(port, port))]


async def open_upstream(
    addresses: list[SocketAddress], *, limit: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first address that answers (the caller bounds the time)."""
    if not addresses:
        raise UpstreamError("no address to connect to")
    errors: list[str] = []
    for host, port in addresses:
        try:
            return await asyncio.open_connection(host, port, limit=limit)
        except OSError as exc:
            errors.append(f"{host}:{port}: {exc.strerror or exc}")
    raise UpstreamError("cannot connect to " + "; ".join(errors))
