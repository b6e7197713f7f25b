"""Typed events: everything a session does, as the TUI and the headless printer see it.

Each event is a frozen pydantic model with a `type` tag; `EVENT` validates any of
them from JSON (the `--json` output is one `model_dump_json()` per line).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from airlock.review.models import ChangeInfo

PlanStatus = Literal["pending", "in_progress", "done", "skipped"]


class PlanItem(BaseModel):
    """One step of the agent's plan; steps nest."""

    title: str = Field(min_length=1, max_length=500)
    status: PlanStatus = "pending"
    children: list[PlanItem] = Field(default_factory=list)


class BaseEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    time: float = Field(default_factory=time.time)


class UserPrompt(BaseEvent):
    """The user (or a scheduled task) asked for something."""

    type: Literal["user_prompt"] = "user_prompt"
    text: str


class AssistantText(BaseEvent):
    """A streamed piece of the assistant's reply."""

    type: Literal["assistant_text"] = "assistant_text"
    delta: str


class ToolCall(BaseEvent):
    """The model asked for a tool."""

    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    input: dict[str, Any]


class ShellOutput(BaseEvent):
    """A chunk of a running command's output (already decoded, not yet sanitised)."""

    type: Literal["shell_output"] = "shell_output"
    call_id: str
    stream: Literal["stdout", "stderr"]
    text: str


class ToolResult(BaseEvent):
    """What a tool returned to the model."""

    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    content: str
    is_error: bool = False
    exit_code: int | None = None  # bash only
    duration: float | None = None


class PlanUpdated(BaseEvent):
    type: Literal["plan_updated"] = "plan_updated"
    items: list[PlanItem]


class ChangesUpdated(BaseEvent):
    """The pending changes after a turn (or after a review action)."""

    type: Literal["changes_updated"] = "changes_updated"
    changes: list[ChangeInfo]


class Usage(BaseEvent):
    """Tokens of the last API call and the session's running totals."""

    type: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    session_input_tokens: int
    session_output_tokens: int
    session_cost_usd: float


class AgentError(BaseEvent):
    """Something went wrong talking to the model or running a tool; one clear line."""

    type: Literal["agent_error"] = "agent_error"
    message: str
    kind: Literal[
        "rate_limit",
        "overloaded",
        "server",
        "auth",
        "timeout",
        "connection",
        "bad_request",
        "sandbox",
        "internal",
    ] = "internal"
    retrying: bool = False


class Status(BaseEvent):
    """Progress of slow work that is not the model's (sandbox boot, baseline copy…)."""

    type: Literal["status"] = "status"
    message: str


class NetworkRequest(BaseEvent):
    """A request the sandbox made through the egress proxy, and what was decided."""

    type: Literal["network_request"] = "network_request"
    host: str
    port: int
    method: str  # CONNECT, or the HTTP method of a forwarded request
    allowed: bool
    reason: str = ""  # e.g. "allowlist", "allowed once", "not in allowlist", "IP literal"
    bytes_up: int = 0
    bytes_down: int = 0
    request_id: str = ""  # the decision-time and the closing event of a request share it
    closed: bool = True  # False while an allowed request or tunnel is still open


class McpServerStatus(BaseEvent):
    """An MCP server of the session started, failed, stopped, or changed its tools or policy."""

    type: Literal["mcp_server_status"] = "mcp_server_status"
    server: str
    status: Literal["starting", "ready", "failed", "stopped"]
    transport: Literal["stdio", "http", "sse"]
    policy: Literal["auto", "ask", "deny"]
    tools: list[str] = Field(default_factory=list)  # the server's own tool names, when ready
    message: str = ""  # why it failed (with the end of its stderr), or what changed


class TurnEnded(BaseEvent):
    type: Literal["turn_ended"] = "turn_ended"
    stop_reason: str  # end_turn | max_tokens | interrupted | error | refusal …


Event = Annotated[
    UserPrompt
    | AssistantText
    | ToolCall
    | ShellOutput
    | ToolResult
    | PlanUpdated
    | ChangesUpdated
    | Usage
    | AgentError
    | Status
    | NetworkRequest
    | McpServerStatus
    | TurnEnded,
    Field(discriminator="type"),
]
EVENT: TypeAdapter[Event] = TypeAdapter(Event)
