"""The airlock template's egress firewall, as the fake guest lives it.

A Lima guest made from the airlock template reaches nothing but the host's proxy at
192.168.5.2:PORT (PORT: the `AIRLOCK_PROXY_PORT` param), and its login environment holds
the proxy variables its provision step writes to /etc/environment. The fake reproduces
that for such instances: the guest command runs in its own network namespace (loopback
only, so every other connection fails, as with the firewall's drop policy), the guest's
loopback stands in for 192.168.5.2 (rewritten in the command and the environment), and
Airlock's own forwarder carries PORT there, over a Unix socket, to the host's
127.0.0.1:PORT. An invalid port leaves the guest with no way out at all.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from .store import Json, inst_dir

HOST = "192.168.5.2"
STAND_IN = "127.0.0.1"
FORWARDER = os.path.join(
    os.path.realpath(__file__).rsplit(os.sep, 4)[0], "airlock", "network", "forwarder.py"
)
GUEST_DIR = "/.fake-lima"
ENV_BLOCK = re.compile(r"^# BEGIN airlock proxy\n(.*?)^# END airlock proxy$", re.M | re.S)


def firewalled(config: Json) -> bool:
    """Whether the instance's provision steps include the airlock egress firewall."""
    return any("nft -f" in (step.get("script") or "") for step in config.get("provision") or [])


def proxy_port(config: Json) -> int | None:
    """The port the firewall lets through, if the param holds a valid one."""
    text = str((config.get("param") or {}).get("AIRLOCK_PROXY_PORT", ""))
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,4}", text) and int(text) < 65536 else None


def login_env(config: Json) -> dict[str, str]:
    """The proxy variables the firewall step writes to /etc/environment."""
    port = proxy_port(config)
    env: dict[str, str] = {}
    for step in config.get("provision") or []:
        found = ENV_BLOCK.search(step.get("script") or "")
        for line in found[1].splitlines() if found and port else []:
            name, _, value = line.strip().partition("=")
            env[name] = value.strip('"').replace("${port}", str(port)).replace(HOST, STAND_IN)
    return env


@contextmanager
def guest_network(name: str, config: Json, script: str) -> Iterator[tuple[list[str], str]]:
    """(extra bwrap arguments, the script to run) while the host end of the link is served."""
    port = proxy_port(config)
    if port is None:
        yield ["--unshare-net"], script
        return
    path = os.path.join(inst_dir(name), f"hn-{os.getpid()}.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    threading.Thread(target=_serve, args=(listener, port), daemon=True).start()
    env = [arg for key, value in login_env(config).items() for arg in ("--setenv", key, value)]
    args = [
        "--unshare-net",
        *("--ro-bind", FORWARDER, f"{GUEST_DIR}/forwarder.py"),
        *("--bind", path, f"{GUEST_DIR}/host.sock"),
        *env,
    ]
    forward = (
        f"exec python3 -S -E {GUEST_DIR}/forwarder.py --port {port} "
        f"--socket {GUEST_DIR}/host.sock -- "
    )
    try:
        yield args, forward + "bash -c " + shlex.quote(script.replace(HOST, STAND_IN))
    finally:
        listener.close()
        with suppress(OSError):
            os.unlink(path)


def _serve(listener: socket.socket, port: int) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_bridge, args=(client, port), daemon=True).start()


def _bridge(client: socket.socket, port: int) -> None:
    try:
        upstream = socket.create_connection((STAND_IN, port), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
    back.start()
    _copy(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
