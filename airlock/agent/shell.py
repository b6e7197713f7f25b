"""The `bash` tool: a command in /workspace, streamed live, summarised for the model."""

from __future__ import annotations

import codecs
from collections.abc import Callable

from airlock.events import Event, ShellOutput
from airlock.sandbox.base import ExecResult, Sandbox
from lima.process import Stream

MAX_RESULT_CHARS = 30_000


def middle_truncate(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """Keep the start and the end of long output, saying how much was left out."""
    if len(text) <= limit:
        return text
    half = limit // 2
    omitted = len(text) - 2 * half
    return f"{text[:half]}\n[… {omitted} characters omitted …]\n{text[-half:]}"


def format_result(result: ExecResult, timeout: float) -> str:
    """What the model reads: exit code, then stdout and stderr (each trimmed in the middle)."""
    parts = []
    if result.timed_out:
        parts.append(f"Command timed out after {timeout:g} s and was killed.")
    parts.append(f"exit code: {result.exit_code} ({result.duration:.1f} s)")
    if result.omitted_bytes:
        parts.append(f"[{result.omitted_bytes} bytes of output were dropped from the middle]")
    for name, data in (("stdout", result.stdout), ("stderr", result.stderr)):
        text = data.decode("utf-8", errors="replace")
        if text:
            parts.append(f"<{name}>\n{middle_truncate(text.rstrip(chr(10)))}\n</{name}>")
    return "\n".join(parts)


class Shell:
    """Runs bash tool calls; each call is a fresh shell starting in /workspace."""

    def __init__(self, sandbox: Sandbox, emit: Callable[[Event], None], timeout: float) -> None:
        self.sandbox = sandbox
        self.emit = emit
        self.timeout = timeout

    async def run(self, call_id: str, command: str) -> ExecResult:
        decoders: dict[Stream, codecs.IncrementalDecoder] = {
            "stdout": codecs.getincrementaldecoder("utf-8")(errors="replace"),
            "stderr": codecs.getincrementaldecoder("utf-8")(errors="replace"),
        }

        def on_output(stream: Stream, data: bytes) -> None:
            text = decoders[stream].decode(data)
            if text:
                self.emit(ShellOutput(call_id=call_id, stream=stream, text=text))

        result = await self.sandbox.exec(command, timeout=self.timeout, on_output=on_output)
        for stream, decoder in decoders.items():
            if tail := decoder.decode(b"", final=True):
                self.emit(ShellOutput(call_id=call_id, stream=stream, text=tail))
        return result
