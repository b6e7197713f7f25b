"""Serve the notes server over streamable HTTP or SSE on 127.0.0.1, from a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Literal

import uvicorn

from tests.mcp_servers.notes_server import build_server


@contextlib.contextmanager
def serve_notes(transport: Literal["http", "sse"] = "http") -> Iterator[str]:
    """The notes server on a free loopback port; yields its URL."""
    notes = build_server()
    app = notes.streamable_http_app() if transport == "http" else notes.sse_app()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/{'mcp' if transport == 'http' else 'sse'}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
