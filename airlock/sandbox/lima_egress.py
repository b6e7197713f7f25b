"""Which host port a Lima instance's guest may reach: its session's egress proxy listens there.

The guest's firewall (`airlock.network.lima_firewall`) lets it reach only 192.168.5.2:PORT,
the host's loopback as the guest sees it. PORT is fixed per instance and kept in its
lima.yaml as the `AIRLOCK_PROXY_PORT` param, which Airlock passes on every start:

- a new instance gets a port derived from its name (21000-29999, below the ephemeral
  ranges of Linux and macOS), moved on past ports other instances hold or that are busy;
- a stopped instance keeps its port unless it is busy now, then moves on the same way;
- a running instance's port cannot change (its firewall is loaded), so the session must
  listen there: a busy port is then an error, raised by the proxy.

An instance whose lima.yaml does not declare the param was made without the firewall and
is refused, as is a running one whose DNS choice differs from the project's.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterable, Mapping

from airlock.network.lima_firewall import DNS_PARAM, PORT_PARAM, lima_params
from airlock.sandbox.base import SandboxError
from lima.models import Instance

PORT_BASE = 21000
PORT_SPAN = 9000


def derived_port(name: str) -> int:
    """The instance's preferred port, the same on every machine."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return PORT_BASE + int.from_bytes(digest[:4], "big") % PORT_SPAN


def declared_params(instance: Instance) -> dict[str, str]:
    """The instance's Lima params (from `limactl list --json`), or a refusal if it was not
    made from a template with the egress firewall."""
    param = (instance.config or {}).get("param")
    if not isinstance(param, dict) or PORT_PARAM not in param or DNS_PARAM not in param:
        raise SandboxError(
            f"the Lima instance {instance.name!r} was not made with the Airlock egress firewall",
            hint=f"delete it (`airlock vm delete {instance.name}`); the next session recreates it",
        )
    return {str(key): str(value) for key, value in param.items()}


def port_of(params: Mapping[str, str]) -> int | None:
    """The proxy port in an instance's params, if it is a valid one."""
    text = params.get(PORT_PARAM, "")
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 65536 else None


def port_busy(port: int) -> bool:
    """Whether something on this machine already listens on 127.0.0.1:PORT (bound as the
    proxy binds, so connections lingering in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def choose_port(name: str, instances: Iterable[Instance], allow_dns: bool) -> int:
    """The port for instance `name` this start (see the module docstring)."""
    others: set[int] = set()
    own: Instance | None = None
    for instance in instances:
        if instance.name == name:
            own = instance
        elif instance.config and isinstance(instance.config.get("param"), dict):
            others.add(port_of(instance.config["param"]) or 0)
    kept: int | None = None
    if own is not None and not own.broken:  # starting a broken one fails with its errors
        params = declared_params(own)
        kept = port_of(params)
        if own.running:
            if kept is None or params != {**params, **lima_params(kept, allow_dns)}:
                raise SandboxError(
                    f"the Lima instance {name!r} runs with other egress settings than "
                    "the project's",
                    hint=f"stop it (`airlock vm stop {name}`); the next session starts it anew",
                )
            return kept
    start = kept or derived_port(name)
    for offset in range(PORT_SPAN):
        port = PORT_BASE + (start - PORT_BASE + offset) % PORT_SPAN
        if port not in others and not port_busy(port):
            return port
    raise SandboxError(f"no free port for the egress proxy of {name!r} in 21000-29999")


def param_sets(params: Mapping[str, str]) -> list[str]:
    """`limactl --set` expressions equal to `--param K=V` (the template declares each K)."""
    return [f'.param["{key}"] = "{value}"' for key, value in params.items()]
