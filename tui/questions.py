"""Questions the engine puts to the user — a host the allowlist denies, an MCP call of an
`ask` server — answered from the keyboard: allow once, always, or deny.

Each workspace's approvers ask here; the app's keys answer the oldest question still open.
A question the engine gave up on (timed out, turn interrupted) is skipped, never answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from airlock.mcp.approval import McpApprover, McpCallRequest, McpVerdict
from airlock.network.approval import DeniedRequest, OnDenied, Verdict
from airlock.sanitize import sanitize

ANSWERS = ("once", "always", "deny")  # the values of both `Verdict` and `McpVerdict`
ARGUMENTS_SHOWN = 120  # characters of an MCP call's arguments in the question


@dataclass
class Question:
    """One thing to allow or deny, already phrased for the user."""

    text: str
    answer: asyncio.Future[str]


class Questions:
    """Open questions, oldest first; `changed` is called with a new question, or None."""

    def __init__(self, changed: Callable[[Question | None], None]) -> None:
        self._changed = changed
        self._open: list[Question] = []

    async def ask(self, text: str) -> str:
        """Wait for the user's answer (one of `ANSWERS`)."""
        question = Question(sanitize(text), asyncio.get_running_loop().create_future())
        self._open.append(question)
        question.answer.add_done_callback(lambda _: self._forget(question))
        self._changed(question)
        return await question.answer

    def network_approver(self, project: str) -> OnDenied:
        """The hook a session's egress proxy calls for `project`'s denied hosts."""

        async def approve(request: DeniedRequest) -> Verdict:
            return Verdict(
                await self.ask(f"{project}: the sandbox wants {request.host}:{request.port}")
            )

        return approve

    def mcp_approver(self, project: str) -> McpApprover:
        """The hook a session's MCP bridge calls before a tool of an `ask` server runs."""

        async def approve(request: McpCallRequest) -> McpVerdict:
            arguments = json.dumps(request.arguments, ensure_ascii=False)
            if len(arguments) > ARGUMENTS_SHOWN:
                arguments = arguments[:ARGUMENTS_SHOWN] + "…"
            text = f"{project}: the agent wants to run {request.name} {arguments}"
            return McpVerdict(await self.ask(text))

        return approve

    @property
    def oldest(self) -> Question | None:
        return next((question for question in self._open if not question.answer.done()), None)

    def answer(self, verdict: str) -> Question | None:
        """Answer the oldest open question; None if there is none."""
        question = self.oldest
        if question is not None:
            question.answer.set_result(verdict)
        return question

    def _forget(self, question: Question) -> None:
        if question in self._open:
            self._open.remove(question)
        self._changed(None)
