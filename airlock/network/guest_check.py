"""Proving a running Lima guest is locked down, from inside it (`airlock doctor --vm NAME`).

A temporary proxy listens on the instance's egress port, allowing only one domain; the
checks of `lima_firewall.guest_checks` then run in the guest as the agent user, through
`limactl shell`. The instance's own session must be closed meanwhile (it holds the port).
"""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel

from airlock.errors import AirlockError
from airlock.network.allowlist import Allowlist, normalize_entry, split_host_port
from airlock.network.lima_firewall import GuestCheck, guest_checks
from airlock.network.loopback_hosts import resolver_from_env
from airlock.network.proxy import EgressProxy, ProxyError
from airlock.network.upstream import Resolver, SystemResolver, UpstreamError
from airlock.sandbox.lima_egress import declared_params, port_of
from lima.errors import InstanceNotFound, InstanceNotRunning
from lima.limactl import Limactl

CHECK_TIMEOUT = 30.0


class GuestResult(BaseModel):
    """How one check went."""

    name: str
    ok: bool
    detail: str
    fix: str


async def check_guest(
    name: str, domain: str, *, limactl: Limactl | None = None
) -> list[GuestResult]:
    """Run every guest check in the running instance `name`, with `domain` allowed."""
    limactl = limactl or Limactl()
    instance = await limactl.instance(name)
    if instance is None:
        raise InstanceNotFound(name, hint="see `airlock vm list`")
    if not instance.running:
        raise InstanceNotRunning(name, hint=f"start it first: `airlock vm start {name}`")
    port = port_of(declared_params(instance))
    if port is None:
        raise AirlockError(f"the Lima instance {name!r} has no valid egress port")
    host = _plain_host(domain)
    resolver = resolver_from_env() or SystemResolver()
    proxy = EgressProxy(Allowlist([host]), resolver=resolver)
    try:
        await proxy.listen_tcp("127.0.0.1", port)
    except ProxyError as exc:
        raise ProxyError(
            f"cannot check {name}: port {port} is in use",
            hint=f"close the Airlock session that uses {name}, then try again",
        ) from exc
    try:
        checks = guest_checks(name, host, await _address(resolver, host))
        return [await _run(limactl, name, check) for check in checks]
    finally:
        await proxy.close()


def _plain_host(domain: str) -> str:
    entry = normalize_entry(domain)
    host, port = split_host_port(entry)
    if entry.startswith("*.") or port is not None:
        raise AirlockError(f"--domain takes a plain host name, not {domain!r}")
    return host


async def _address(resolver: Resolver, host: str) -> str:
    """One address of `host` as the guest would write it in a URL (IPv4 preferred)."""
    try:
        addresses = [address for address, _ in await resolver.resolve(host, 80)]
    except UpstreamError as exc:
        raise AirlockError(f"cannot check with {host}: {exc.message}") from exc
    address = sorted(addresses, key=lambda item: ":" in item)[0]
    return f"[{address}]" if ipaddress.ip_address(address).version == 6 else address


async def _run(limactl: Limactl, name: str, check: GuestCheck) -> GuestResult:
    result = await limactl.shell(name, check.argv, timeout=CHECK_TIMEOUT)
    out = result.stdout.decode("utf-8", "replace").strip()
    ok = (result.exit_code == 0) == check.expect_success and (
        check.expect_stdout is None or out == check.expect_stdout
    )
    err = result.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = f"exit code {result.exit_code}" + (f", printed {out!r}" if out else "")
    if err and not ok:
        detail += f" ({err[-1][:200]})"
    return GuestResult(name=check.name, ok=ok, detail=detail, fix=check.fix)
