"""Tool names the model sees, `mcp__<server>__<tool>`, within the API's rules for names."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

PREFIX = "mcp__"
MAX_LENGTH = 64  # the Messages API's limit: ^[a-zA-Z0-9_-]{1,64}$
_INVALID = re.compile(r"[^A-Za-z0-9_-]")


def assign_names(server: str, tools: Iterable[str]) -> dict[str, str]:
    """API name → the server's tool name, for every tool of one server.

    Characters the API does not allow become `_`. A name that is too long, or that two
    tools would share, is shortened and given a hash of the real name, so the result
    depends only on the set of tool names: tools whose names need no change win a clash.
    """
    prefix = f"{PREFIX}{_INVALID.sub('_', server)}__"
    unique = set(tools)
    ordered = sorted(unique, key=lambda tool: (_INVALID.search(tool) is not None, tool))
    names: dict[str, str] = {}
    for tool in ordered:
        name = prefix + _INVALID.sub("_", tool)
        if len(name) > MAX_LENGTH or name in names:
            digest = hashlib.sha256(tool.encode()).hexdigest()[:8]
            name = f"{name[: MAX_LENGTH - len(digest) - 1]}_{digest}"
        names[name] = tool
    return names
