"""The system prompt: a cached part (who, rules, instructions, memory) and a live part."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from airlock.review.models import ChangeInfo

IDENTITY = """\
You are the coworker agent of Airlock, working for the user on their project folder.

How your environment works:
- You work inside an isolated sandbox on a copy of the project at /workspace. \
Nothing you change reaches the user's real files until they have read the diff and \
approved it; they approve or reject each file or each hunk.
- Each bash call runs in a fresh shell starting in /workspace (cd and variables do \
not carry over). The network is closed except for domains the user has allowed.
- For multi-step work, show your plan with update_plan and keep it current: one step \
in_progress at a time, steps done as you finish them.
- Use remember for durable facts about this project or the user's preferences; it is \
given back to you in every future session.
- Be careful and concise. When you finish, summarise what you changed so the user \
can review it."""

MAX_LISTED_CHANGES = 50


class PromptContext(BaseModel):
    """What the system prompt is made from, gathered by the session before each call."""

    project_name: str
    instructions: str = ""
    memory: str = ""
    pending: list[ChangeInfo] = Field(default_factory=list)
    rejections: list[str] = Field(default_factory=list)  # "path: reason" lines


def system_blocks(context: PromptContext) -> list[dict[str, Any]]:
    """Two text blocks: the stable one carries the cache breakpoint, the live one follows."""
    stable = [IDENTITY, f"\nThe project is called {context.project_name!r}."]
    if context.instructions.strip():
        stable.append(
            f"\nThe user's instructions for this project:\n<instructions>\n"
            f"{context.instructions.strip()}\n</instructions>"
        )
    if context.memory.strip():
        stable.append(
            f"\nThe project memory (notes from earlier sessions):\n<memory>\n"
            f"{context.memory.strip()}\n</memory>"
        )
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": "\n".join(stable), "cache_control": {"type": "ephemeral"}}
    ]
    live = [_pending_summary(context.pending)]
    if context.rejections:
        lines = "\n".join(f"- {line}" for line in context.rejections)
        live.append(
            "The user rejected these changes; they were reverted in the sandbox. "
            f"Do not redo them unless asked:\n{lines}"
        )
    blocks.append({"type": "text", "text": "\n\n".join(live)})
    return blocks


def _pending_summary(pending: list[ChangeInfo]) -> str:
    if not pending:
        return "No changes are waiting for the user's review."
    lines = [f"- {change.kind.value} {change.path}" for change in pending[:MAX_LISTED_CHANGES]]
    if len(pending) > MAX_LISTED_CHANGES:
        lines.append(f"- … and {len(pending) - MAX_LISTED_CHANGES} more")
    return f"Changes waiting for the user's review ({len(pending)}):\n" + "\n".join(lines)
