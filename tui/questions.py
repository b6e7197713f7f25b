"""Questions the engine puts to the user about a host the allowlist denies, answered from
the keyboard while the work goes on: allow once, always, or deny.

Each workspace's egress approver asks here; the app's keys answer the oldest question
still open. A question the engine gave up on (timed out, turn interrupted) is skipped,
never answered. (MCP calls are asked in a modal instead: `tui.mcp_approvals`.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from airlock.network.approval import DeniedRequest, OnDenied, Verdict
from airlock.sanitize import sanitize

ANSWERS = ("once", "always", "deny")  # the values of `Verdict`


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
