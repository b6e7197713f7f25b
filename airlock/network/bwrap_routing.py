"""How a bubblewrap sandbox reaches the egress proxy, as data for the bwrap backend.

The sandbox's network namespace has only loopback, no route out. The proxy's Unix socket
and the forwarder script are bind-mounted read-only under `/run/airlock` (in the sandbox's
own tmpfs root, never the host's `/run`); every command runs under the forwarder, which
listens on 127.0.0.1:3128 inside the sandbox before the command starts and hands each
connection to the socket; the proxy variables point tools at it. A client that ignores the
variables has nowhere to connect to.

Wiring (`BwrapSandbox` takes all three):

    BwrapSandbox(root, env=sandbox_env(),
                 binds=[Bind(source=s, dest=d) for s, d in routing_mounts(socket)],
                 wrapper=forwarder_wrapper())
"""

from __future__ import annotations

from pathlib import Path

from airlock.network.client_env import proxy_env

SANDBOX_DIR = "/run/airlock"
SANDBOX_SOCKET = f"{SANDBOX_DIR}/proxy.sock"
SANDBOX_FORWARDER = f"{SANDBOX_DIR}/forwarder.py"
SANDBOX_PORT = 3128  # on the sandbox's own loopback, so a fixed port cannot clash


def forwarder_script() -> Path:
    """The forwarder's source file, shipped inside the package."""
    return Path(__file__).with_name("forwarder.py")


def routing_mounts(proxy_socket: Path) -> list[tuple[Path, str]]:
    """(host path, sandbox path) pairs to bind-mount read-only."""
    return [(forwarder_script(), SANDBOX_FORWARDER), (proxy_socket, SANDBOX_SOCKET)]


def forwarder_wrapper(python: str = "python3") -> list[str]:
    """The argv prefix that runs a command under the forwarder (the command follows it)."""
    return [
        python,
        SANDBOX_FORWARDER,
        "--port",
        str(SANDBOX_PORT),
        "--socket",
        SANDBOX_SOCKET,
        "--",
    ]


def sandbox_env() -> dict[str, str]:
    """The proxy variables for every command in the sandbox."""
    return proxy_env(SANDBOX_PORT)
