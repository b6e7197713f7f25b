"""A scripted Messages API server on loopback: real HTTP, real SSE, no real model.

It speaks the Messages API's streaming wire format (chunked `text/event-stream`
with `message_start` … `message_stop`), so the real `anthropic` SDK talks to it
through `ANTHROPIC_BASE_URL`. The demo model uses it; so do the tests, which can
also make it fail the way the real API does (429/529/401, a stream cut in the
middle, an `error` event, a slow answer).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from pydantic import BaseModel, Field

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class Text(BaseModel):
    type: Literal["text"] = "text"
    text: str


class ToolUse(BaseModel):
    type: Literal["tool_use"] = "tool_use"
    name: str
    input: dict[str, Any]
    id: str | None = None  # assigned by the server when left out


class Reply(BaseModel):
    """One scripted response: content blocks, or a failure the way the API fails."""

    blocks: list[Text | ToolUse] = Field(default_factory=list)
    stop_reason: str | None = None  # default: tool_use if any tool block, else end_turn
    status: int = 200  # a non-200 status answers with the API's JSON error body
    retry_after: float | None = None
    cut_after_events: int | None = None  # close the connection mid-stream
    stream_error: str | None = None  # e.g. "overloaded_error", sent as an SSE `error` event
    delay: float = 0.0  # seconds before answering (to provoke timeouts)
    event_delay: float = 0.0  # seconds between SSE events (to interrupt mid-stream)
    chunk: int = 12  # characters per text delta
    input_tokens: int = 100
    output_tokens: int = 20


class Request(BaseModel):
    """What the server received (tests assert on it)."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.body.get("messages", [])
        return messages

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message."""
        content = self.messages[-1]["content"] if self.messages else []
        if isinstance(content, str):
            return []
        return [block for block in content if block.get("type") == "tool_result"]

    def system_text(self) -> str:
        system = self.body.get("system", "")
        if isinstance(system, str):
            return system
        return "\n".join(block.get("text", "") for block in system)


Script = Callable[[Request], Reply]


def script_of(replies: list[Reply]) -> Script:
    """A script answering each request with the next reply of a list."""
    queue = list(replies)

    def next_reply(_: Request) -> Reply:
        if not queue:
            return Reply(blocks=[Text(text="(the script has no more replies)")])
        return queue.pop(0)

    return next_reply


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class _QuietServer(ThreadingHTTPServer):
    """Clients hanging up (interrupts, cut streams) are normal here, not errors to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class MessagesServer:
    """Serve `POST /v1/messages` on 127.0.0.1 from a script, in a background thread."""

    def __init__(self, script: Script, model_label: str = "scripted") -> None:
        self.script = script
        self.model_label = model_label
        self.requests: list[Request] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> MessagesServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> MessagesServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_{next(self._ids):024d}"

    def events(self, reply: Reply, body: dict[str, Any]) -> Iterator[bytes]:
        """The SSE events of a scripted reply, in the API's order."""
        tool_blocks = any(isinstance(block, ToolUse) for block in reply.blocks)
        stop = reply.stop_reason or ("tool_use" if tool_blocks else "end_turn")
        message = {
            "id": self.next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body.get("model", self.model_label),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply.input_tokens,
                "output_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        yield sse("message_start", {"type": "message_start", "message": message})
        yield sse("ping", {"type": "ping"})
        for index, block in enumerate(reply.blocks):
            if isinstance(block, Text):
                start: dict[str, Any] = {"type": "text", "text": ""}
                pieces = [
                    {"type": "text_delta", "text": block.text[i : i + reply.chunk]}
                    for i in range(0, len(block.text), reply.chunk)
                ]
            else:
                start = {
                    "type": "tool_use",
                    "id": block.id or self.next_id("toolu"),
                    "name": block.name,
                    "input": {},
                }
                raw = json.dumps(block.input)
                pieces = [
                    {"type": "input_json_delta", "partial_json": raw[i : i + reply.chunk]}
                    for i in range(0, len(raw), reply.chunk)
                ]
            yield sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
            for delta in pieces:
                yield sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
        if reply.stream_error:
            error = {"type": reply.stream_error, "message": "Overloaded"}
            yield sse("error", {"type": "error", "error": error})
            return
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
        yield sse("message_stop", {"type": "message_stop"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.split("?")[0] != "/v1/messages":
                    self._error(404, "no such endpoint")
                    return
                request = Request(
                    headers={k.lower(): v for k, v in self.headers.items()}, body=body
                )
                with server._lock:
                    server.requests.append(request)
                reply = server.script(request)
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._error(reply.status, "scripted failure", reply.retry_after)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.send_header("request-id", server.next_id("req"))
                self.end_headers()
                for count, event in enumerate(server.events(reply, body)):
                    if reply.cut_after_events is not None and count >= reply.cut_after_events:
                        self.close_connection = True
                        self.wfile.flush()
                        return  # no terminating chunk: the client sees a broken stream
                    self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                    self.wfile.flush()
                    time.sleep(reply.event_delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _error(self, status: int, message: str, retry_after: float | None = None) -> None:
                kind = ERROR_TYPES.get(status, "api_error")
                payload = json.dumps(
                    {"type": "error", "error": {"type": kind, "message": message}}
                ).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                if retry_after is not None:
                    self.send_header("retry-after", str(retry_after))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
