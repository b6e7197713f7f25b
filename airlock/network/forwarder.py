"""Inside a bubblewrap sandbox: listen on 127.0.0.1:PORT and hand each connection, byte for
byte, to the egress proxy's Unix socket (bind-mounted in). The sandbox has no network device,
so this is its only way out.

Standalone on purpose: standard library only, runs with the system `python3` (3.7+), and
Airlock never imports it; the bwrap backend runs it by path.

    python3 forwarder.py --port PORT --socket PATH [-- COMMAND [ARG...]]

With a COMMAND, the listener is ready before the command starts: the process forks, the
command replaces the parent (same pid, so exit status and signals are the command's) and the
forwarder serves from the child until the command exits. Without one, it serves until its
parent exits or it gets SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import threading

CHUNK = 64 * 1024
POLL_SECONDS = 0.2  # how soon the forwarder notices that its parent is gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Forward 127.0.0.1:PORT to a Unix socket.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--socket", required=True, help="the proxy's Unix socket")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        listener = _listen(args.port)
    except OSError as exc:
        print(f"airlock forwarder: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    if command and os.fork() != 0:
        listener.close()
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            print(f"airlock forwarder: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
            return 127
    if command:
        _detach_stdio()  # never hold the command's output pipes open
    _serve(listener, args.socket, os.getppid())
    return 0


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    return listener


def _detach_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _serve(listener: socket.socket, socket_path: str, parent: int) -> None:
    listener.settimeout(POLL_SECONDS)
    while os.getppid() == parent:
        try:
            client, _ = listener.accept()
        except (socket.timeout, InterruptedError):  # noqa: UP041 (not TimeoutError before 3.10)
            continue
        client.settimeout(None)
        threading.Thread(target=_bridge, args=(client, socket_path), daemon=True).start()


def _bridge(client: socket.socket, socket_path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(socket_path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
    back.start()
    _copy(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _copy(source: socket.socket, target: socket.socket) -> None:
    """Copy until EOF and pass the EOF on; on an error, shut both down so the other copy ends."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


if __name__ == "__main__":
    sys.exit(main())
