"""A small MCP server written with the SDK's server API, used by the MCP tests.

`python notes_server.py` serves it over stdio (inside the sandbox); the tests import
`build_server()` to serve it over streamable HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def build_server() -> MCPServer:
    server = MCPServer("notes")

    @server.tool()
    def add_note(text: str) -> str:
        """Append a line to notes.txt in the current folder."""
        with Path("notes.txt").open("a") as notes:
            notes.write(text + "\n")
        return f"saved note in {Path.cwd() / 'notes.txt'}"

    @server.tool()
    def count_words(text: str) -> dict[str, int]:
        """Count the words of a text."""
        return {"words": len(text.split())}

    @server.tool()
    def whoami() -> str:
        """Where the server runs: user id, folder, and whether the host's home is visible."""
        return f"uid={os.getuid()} cwd={os.getcwd()} python={sys.executable}"

    @server.tool()
    def echo(text: str) -> str:
        """Answer with the text given."""
        return text

    @server.tool()
    def fail() -> str:
        """Always fails."""
        raise ToolError("the tool failed on purpose")

    @server.tool()
    def picture() -> Image:
        """A tiny PNG."""
        return Image(data=PNG, format="png")

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Wait, then answer."""
        await asyncio.sleep(seconds)
        return "awake"

    @server.tool()
    def crash() -> str:
        """Exit the server process at once, mid-call."""
        sys.stderr.write("notes server: crashing on request\n")
        sys.stderr.flush()
        os._exit(3)

    @server.tool()
    async def unlock(ctx: Context) -> str:
        """Add the `shout` tool and announce that the tool list changed."""

        def shout(text: str) -> str:
            """Upper-case a text."""
            return text.upper()

        server.add_tool(shout)
        await ctx.notify_tools_changed()  # clients of the 2026-07-28 protocol (listen)
        await ctx.request_context.session.send_tool_list_changed()  # earlier protocols
        return "shout is available"

    return server


if __name__ == "__main__":
    build_server().run("stdio")
