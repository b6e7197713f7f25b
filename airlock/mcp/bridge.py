"""A session's MCP servers: started for the agent, their tools offered under each server's
policy, their status announced as `McpServerStatus` events, stopped with the session.

Policies: `auto` runs calls; `ask` puts each call to `approver` (once / always for this
session / deny); `deny` servers still start, so the user sees their tools, but their
tools are never offered to the model and a call to one is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airlock.agent.dispatch import ExtraTool
from airlock.config import McpPolicy, McpServerConfig, ProjectConfig
from airlock.events import Event, McpServerStatus
from airlock.mcp.approval import McpApprover, McpCallRequest, McpVerdict
from airlock.mcp.names import assign_names
from airlock.sandbox.base import Sandbox

if TYPE_CHECKING:
    import mcp_types

    from airlock.mcp.connection import ServerConnection


STATE_WORDS = {
    "starting": "is still starting",
    "ready": "no longer lists it",
    "failed": "has failed",
    "stopped": "has stopped",
}


class McpBridge:
    """The MCP servers of one session and the tools they give the agent."""

    def __init__(
        self,
        project: ProjectConfig,
        emit: Callable[[Event], None],
        *,
        startup_timeout: float = 60.0,
        mode: str = "auto",
    ) -> None:
        """`mode` is the SDK's protocol negotiation (tests force `legacy` to cover old servers)."""
        self.project = project
        self.emit = emit
        self.approver: McpApprover | None = None  # set by a front end that can ask the user
        self.startup_timeout = startup_timeout  # to start, shake hands and list the tools
        self.mode = mode
        self._servers: dict[str, ServerConnection] = {}
        self._tools: dict[str, dict[str, mcp_types.Tool]] = {}  # server → API name → tool
        self._known: dict[str, str] = {}  # every API name handed out → its server
        self._always: set[tuple[str, str]] = set()  # (server, tool) approved for the session
        self._extra: dict[str, ExtraTool] = {}
        self._started = False

    # -- lifecycle -----------------------------------------------------------------

    async def start(self, sandbox: Sandbox) -> None:
        """Start the enabled servers (once), then wait until each is ready or has failed."""
        if not self._started:
            self._started = True
            self._launch(sandbox, [server for server in self.project.mcp if server.enabled])
        await asyncio.gather(*(server.started() for server in self._servers.values()))

    def _launch(self, sandbox: Sandbox, configs: list[McpServerConfig]) -> None:
        if not configs:
            return
        from airlock.mcp.connection import ServerConnection  # the SDK is slow to import

        for config in configs:
            connection = ServerConnection(
                config.model_copy(),  # a policy set for the session stays in the session
                self._changed,
                sandbox=sandbox,
                allowlist=list(self.project.allowlist),
                project_dir=str(self.project.path),
                startup_timeout=self.startup_timeout,
                mode=self.mode,
            )
            self._servers[config.name] = connection
            self._changed(connection)
            connection.start()

    async def close(self) -> None:
        await asyncio.gather(*(server.stop() for server in self._servers.values()))

    def bind(self, extra: dict[str, ExtraTool]) -> None:
        """Route the agent's calls of MCP tools here (the `ToolRunner.extra` registry)."""
        self._extra = extra
        extra.update(dict.fromkeys(self._known, self.call))

    # -- what front ends see and change ------------------------------------------------

    def statuses(self) -> list[McpServerStatus]:
        """Every server's current status (for a front end that starts listening late)."""
        return [self._status(server, server.message) for server in self._servers.values()]

    def set_policy(self, server: str, policy: McpPolicy) -> None:
        """Change a server's policy for this session (`airlock mcp set-policy` saves one)."""
        connection = self._servers[server]
        connection.config.policy = policy
        self._always = {approved for approved in self._always if approved[0] != server}
        self.emit(self._status(connection, f"policy set to {policy}"))

    # -- the agent's side ----------------------------------------------------------------

    def definitions(self) -> list[dict[str, Any]]:
        """Tool definitions for the next model call: ready servers' tools, unless denied."""
        definitions = []
        for server, connection in self._servers.items():
            if connection.status != "ready" or connection.config.policy == "deny":
                continue
            for name, tool in sorted(self._tools.get(server, {}).items()):
                summary = tool.description or tool.title or tool.name
                definitions.append(
                    {
                        "name": name,
                        "description": f"(MCP server {server}) {summary}",
                        "input_schema": {**tool.input_schema, "type": "object"},
                    }
                )
        return definitions

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """Run the model's call of `name` under its server's policy: (content, is_error)."""
        server = self._known.get(name)
        if server is None:
            return f"Unknown tool {name!r}.", True
        connection = self._servers[server]
        tool = self._tools.get(server, {}).get(name)
        if tool is None or connection.status != "ready":
            why = f" ({connection.message})" if connection.message else ""
            state = STATE_WORDS[connection.status]
            return f"{name} is not available: the MCP server {server} {state}{why}.", True
        policy = connection.config.policy
        if policy == "deny":
            return f"The MCP server {server} may not run tools (its policy is deny).", True
        if policy == "ask" and (server, tool.name) not in self._always:
            request = McpCallRequest(server=server, tool=tool.name, name=name, arguments=arguments)
            refusal = await self._ask(request)
            if refusal is not None:
                return refusal, True
        return await connection.call(tool.name, arguments)

    async def _ask(self, request: McpCallRequest) -> str | None:
        """None when the user approves; else why the call is refused."""
        if self.approver is None:
            return (
                f"The user did not approve {request.name}: the server {request.server} has "
                "policy ask and nobody can be asked here (run with --yes-mcp, or use the TUI)."
            )
        try:
            verdict = McpVerdict(await self.approver(request))
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the user interrupted the turn
            return f"The question about {request.name} was withdrawn; the call was not made."
        except Exception as exc:  # a broken approval hook must refuse, not crash the turn
            return f"The approval of {request.name} failed ({exc}); the call was not made."
        if verdict is McpVerdict.DENY:
            return f"The user denied this call of {request.name}."
        if verdict is McpVerdict.ALWAYS:
            self._always.add((request.server, request.tool))
        return None

    # -- servers' changes ---------------------------------------------------------------

    def _changed(self, connection: ServerConnection) -> None:
        by_name = {tool.name: tool for tool in connection.tools}
        names = assign_names(connection.name, by_name)
        self._tools[connection.name] = {name: by_name[tool] for name, tool in names.items()}
        for name in names:
            self._known[name] = connection.name
            self._extra[name] = self.call
        self.emit(self._status(connection, connection.message))

    def _status(self, connection: ServerConnection, message: str = "") -> McpServerStatus:
        config = connection.config
        return McpServerStatus(
            server=connection.name,
            status=connection.status,
            transport=config.transport or "stdio",
            policy=config.policy,
            tools=[tool.name for tool in connection.tools],
            message=message,
        )
