"""Asking the user before an MCP tool runs (servers with policy `ask`).

A front end sets `session.mcp.approver`: an async callable that receives the call and
returns the user's verdict, typically an `asyncio.Future` the TUI resolves from its
modal. Headless, `airlock run --yes-mcp` sets `approve_all`; with no approver an `ask`
call is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class McpVerdict(StrEnum):
    ONCE = "once"  # run this call
    ALWAYS = "always"  # run it, and this tool's later calls, for the rest of the session
    DENY = "deny"


class McpCallRequest(BaseModel):
    """What the user is asked about."""

    model_config = ConfigDict(frozen=True)

    server: str
    tool: str  # the server's own name for it
    name: str  # the name the model used: mcp__<server>__<tool>
    arguments: dict[str, Any]


McpApprover = Callable[[McpCallRequest], Awaitable[McpVerdict]]


async def approve_all(request: McpCallRequest) -> McpVerdict:
    """The headless `--yes-mcp` answer."""
    return McpVerdict.ONCE
