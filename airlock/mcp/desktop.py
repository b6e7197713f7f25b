"""Importing MCP servers from Claude Desktop's `claude_desktop_config.json`.

Each entry of its `mcpServers` becomes a project's `[[projects.mcp]]` server, or is
skipped with the reason. Notes tell the user what will differ in the sandbox: host
paths it cannot see, packages fetched at start (their registry must be allowlisted),
environment variables handed in, HTTP hosts missing from the allowlist.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from airlock.config import McpPolicy, McpServerConfig, ProjectConfig, describe_validation_error
from airlock.errors import AirlockError
from airlock.network.allowlist import Allowlist, AllowlistError
from airlock.sandbox.base import WORKSPACE

DESKTOP_FILE = "claude_desktop_config.json"
KNOWN_KEYS = {"command", "args", "env", "url", "headers", "type", "disabled"}
TYPES = {"stdio": "stdio", "sse": "sse", "http": "http", "streamable-http": "http"}
FETCHERS = {"npx", "uvx", "bunx", "pipx"}  # they download the server's package at start
SANDBOX_SYSTEM = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/", WORKSPACE + "/")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class ImportedServer(BaseModel):
    config: McpServerConfig
    notes: list[str] = []


class SkippedServer(BaseModel):
    name: str
    reason: str


class ImportReport(BaseModel):
    """What `airlock mcp import` did (its `--json` output)."""

    source: Path
    project: str
    imported: list[ImportedServer] = []
    skipped: list[SkippedServer] = []


def desktop_config_path() -> Path:
    """Where Claude Desktop keeps its config on this system (macOS or Linux)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Claude" / DESKTOP_FILE
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "Claude" / DESKTOP_FILE


def read_desktop_servers(path: Path) -> dict[str, Any]:
    """The `mcpServers` table of a Claude Desktop config file (empty when it has none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AirlockError(
            f"no Claude Desktop config at {path}", hint="give its path with --from PATH"
        ) from None
    except OSError as exc:
        raise AirlockError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise AirlockError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise AirlockError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    servers = data.get("mcpServers", {}) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise AirlockError(f"{path}: `mcpServers` is not a table of servers")
    return servers


def import_servers(
    project: ProjectConfig,
    servers: dict[str, Any],
    *,
    source: Path,
    policy: McpPolicy = "ask",
    only: list[str] | None = None,
) -> ImportReport:
    """Add `servers` to `project.mcp` (in memory; the caller saves), reporting each one."""
    report = ImportReport(source=source, project=project.name)
    taken = {server.name for server in project.mcp}
    for wanted in only or []:
        if wanted not in servers:
            report.skipped.append(SkippedServer(name=wanted, reason=f"not in {source.name}"))
    for raw_name, entry in servers.items():
        if only and raw_name not in only:
            continue
        name = _valid_name(raw_name)
        try:
            if not name:
                raise _Skip("its name has no letters or digits to keep")
            if name in taken:
                raise _Skip(f"the project already has a server named {name!r}")
            imported = _convert(name, entry, project, policy)
        except _Skip as skip:
            report.skipped.append(SkippedServer(name=raw_name, reason=str(skip)))
            continue
        if name != raw_name:
            imported.notes.insert(0, f"imported as {name!r} (names are letters, digits, _ and -)")
        taken.add(name)
        project.mcp.append(imported.config)
        report.imported.append(imported)
    return report


class _Skip(Exception):
    """Why an entry is not imported."""


def _valid_name(raw: str) -> str:
    if NAME.match(raw):
        return raw
    return re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-_")[:40]


def _convert(name: str, entry: Any, project: ProjectConfig, policy: McpPolicy) -> ImportedServer:
    if not isinstance(entry, dict):
        raise _Skip("its entry is not a JSON object")
    kind = entry.get("type")
    if kind is not None and kind not in TYPES:
        raise _Skip(f"unsupported type {kind!r} (stdio, http and sse are)")
    notes = []
    ignored = sorted(set(entry) - KNOWN_KEYS)
    if ignored:
        why = " (stdio servers start in /workspace)" if "cwd" in ignored else ""
        notes.append(f"ignored {', '.join(ignored)}{why}")
    fields = {key: entry[key] for key in KNOWN_KEYS - {"type", "disabled"} if key in entry}
    if "command" in fields:
        argv = [fields["command"], *_strings(fields.get("args", []), "args")]
        argv = _sandbox_paths(argv, project, notes)
        fields["command"], fields["args"] = argv[0], argv[1:]
    try:
        config = McpServerConfig(
            name=name,
            transport=TYPES[kind] if kind else None,
            policy=policy,
            enabled=entry.get("disabled") is not True,
            **fields,
        )
    except ValidationError as exc:
        raise _Skip(describe_validation_error(exc, entry)) from None
    notes.extend(_advice(config, project))
    if not config.enabled:
        notes.append("disabled, as it was in Claude Desktop")
    return ImportedServer(config=config, notes=notes)


def _strings(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Skip(f"`{field}` is not a list of strings")
    return value


def _sandbox_paths(argv: list[Any], project: ProjectConfig, notes: list[str]) -> list[Any]:
    """Host paths inside the project become `/workspace/…`; others the sandbox cannot see."""
    result = []
    for arg in argv:
        if isinstance(arg, str) and (arg.startswith("/") or arg.startswith("~/")):
            host = Path(arg).expanduser()
            if host.is_relative_to(project.path):
                moved = str(PurePosixPath(WORKSPACE, *host.relative_to(project.path).parts))
                notes.append(f"{arg} is the project's copy in the sandbox: {moved}")
                arg = moved
            elif not arg.startswith(SANDBOX_SYSTEM):
                notes.append(
                    f"{arg} is outside the project: the sandbox cannot see it "
                    "(copy what the server needs into the project)"
                )
        result.append(arg)
    return result


def _advice(config: McpServerConfig, project: ProjectConfig) -> list[str]:
    """What the user should know or do for this server to work in the sandbox."""
    advice = []
    if config.command is not None and PurePosixPath(config.command).name in FETCHERS:
        advice.append(
            f"{config.command} downloads the server when it starts: allow its package "
            f"registry's host for this project (`airlock allow {project.path} HOST`)"
        )
    if config.env:
        advice.append(f"hands these variables to the sandbox: {', '.join(sorted(config.env))}")
    if config.url is not None:
        parts = urlsplit(config.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or ""
        target = host if port in (80, 443) else f"{host}:{port}"
        try:
            allowed = Allowlist(project.allowlist).decide(host, port).allowed
        except AllowlistError:
            allowed = False
        if not allowed:
            advice.append(
                f"reached from the host: allow it first (`airlock allow {project.path} {target}`)"
            )
    return advice
