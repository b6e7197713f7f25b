"""The conversation as the Messages API sees it, persisted as JSON lines.

Only complete messages are appended (a retried stream never adds twice), and the
transcript is kept valid: every `tool_use` gets a `tool_result`, even when the
user interrupts.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

INTERRUPTED = "Interrupted by the user before this tool finished."


class TranscriptMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: list[dict[str, Any]]


class Transcript:
    """Messages of one session, mirrored to `path` (append-only JSON lines)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.messages: list[TranscriptMessage] = []
        if path is not None and path.exists():
            self.messages = list(_read(path))
            self.close_open_tool_uses()

    def api_messages(self) -> list[dict[str, Any]]:
        return [message.model_dump() for message in self.messages]

    def add_user_text(self, text: str) -> None:
        self._add_user_blocks([{"type": "text", "text": text}])

    def add_tool_results(self, results: list[dict[str, Any]]) -> None:
        self._add_user_blocks(results)

    def add_assistant(self, content: list[dict[str, Any]]) -> None:
        self._append(TranscriptMessage(role="assistant", content=content))

    def open_tool_uses(self) -> list[dict[str, Any]]:
        """tool_use blocks of the last assistant message that have no result yet."""
        if not self.messages or self.messages[-1].role != "assistant":
            return []
        return [block for block in self.messages[-1].content if block.get("type") == "tool_use"]

    def close_open_tool_uses(self, done: list[dict[str, Any]] | None = None) -> None:
        """Answer every open tool_use: with its result if `done` has it, else 'interrupted'."""
        open_uses = self.open_tool_uses()
        if not open_uses:
            return
        by_id = {result["tool_use_id"]: result for result in done or []}
        self.add_tool_results(
            [
                by_id.get(block["id"])
                or {
                    "type": "tool_result",
                    "tool_use_id": block["id"],
                    "content": INTERRUPTED,
                    "is_error": True,
                }
                for block in open_uses
            ]
        )

    def _add_user_blocks(self, blocks: list[dict[str, Any]]) -> None:
        # Consecutive user content (tool results, then a new prompt) stays one message.
        if self.messages and self.messages[-1].role == "user":
            merged = TranscriptMessage(role="user", content=[*self.messages[-1].content, *blocks])
            self.messages[-1] = merged
            self._rewrite()
            return
        self._append(TranscriptMessage(role="user", content=blocks))

    def _append(self, message: TranscriptMessage) -> None:
        self.messages.append(message)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(message.model_dump_json() + "\n")

    def _rewrite(self) -> None:
        if self.path is None:
            return
        from airlock.atomic import write_atomic

        lines = "".join(message.model_dump_json() + "\n" for message in self.messages)
        write_atomic(self.path, lines.encode("utf-8"))


def _read(path: Path) -> list[TranscriptMessage]:
    messages = []
    for line in path.read_text(encoding="utf-8").splitlines():
        # A line cut by a crash is dropped; everything before it is intact.
        with contextlib.suppress(ValidationError):
            messages.append(TranscriptMessage.model_validate_json(line))
    return messages
