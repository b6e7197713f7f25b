"""MCP servers handed to the sandbox: stdio servers run inside it, HTTP ones are reached
from the host through the allowlist; their tools join the agent's as `mcp__<server>__<tool>`.

The MCP SDK is imported only when a session has servers to start (it is slow to import).
"""
