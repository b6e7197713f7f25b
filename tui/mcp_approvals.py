"""MCP calls of `ask` servers waiting for the user's verdict, shown one at a time.

Each workspace's MCP bridge asks here; the app shows the oldest call still waiting in
a modal and the next one once that modal has closed. A call the engine gave up on
(turn interrupted, session closed) is skipped, never answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from airlock.mcp.approval import McpApprover, McpCallRequest, McpVerdict


@dataclass
class McpAsk:
    """One call to approve: the project asking, the call, and the future the answer resolves."""

    project: str
    request: McpCallRequest
    answer: asyncio.Future[McpVerdict]


class McpApprovals:
    """A queue of waiting calls; `show` is called with the next one when none is shown."""

    def __init__(self, show: Callable[[McpAsk], None]) -> None:
        self._show = show
        self._waiting: list[McpAsk] = []
        self._shown: McpAsk | None = None

    def approver(self, project: str) -> McpApprover:
        """The hook a session's MCP bridge calls before a tool of an `ask` server runs."""

        async def approve(request: McpCallRequest) -> McpVerdict:
            ask = McpAsk(project, request, asyncio.get_running_loop().create_future())
            self._waiting.append(ask)
            self._next()
            try:
                return await ask.answer
            finally:
                self._waiting.remove(ask)

        return approve

    def closed(self) -> None:
        """The shown call's modal has gone: show the next call still waiting."""
        self._shown = None
        self._next()

    def _next(self) -> None:
        if self._shown is not None:
            return
        self._shown = next((ask for ask in self._waiting if not ask.answer.done()), None)
        if self._shown is not None:
            self._show(self._shown)
