"""Configuration: pydantic models, TOML load (tomllib) and atomic save (tomli-w).

One file, `$XDG_CONFIG_HOME/airlock/config.toml`, holds the global settings and a
`[[projects]]` table per project. Any problem with it becomes one `ConfigError`
naming the file, the TOML line, or the field path.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from airlock.atomic import write_atomic
from airlock.errors import ConfigError
from airlock.network.allowlist import AllowlistError, normalize_entry
from airlock.paths import airlock_paths

DEFAULT_MODEL = "claude-sonnet-5-5"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
SIZE_PATTERN = r"^\d+(\.\d+)?(MiB|GiB|TiB)$"

SandboxChoice = Literal["auto", "lima", "bwrap"]
McpPolicy = Literal["auto", "ask", "deny"]


class StrictModel(BaseModel):
    """A config table: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


class VMConfig(StrictModel):
    """Size of a project's Lima instance (Lima's own units: `4GiB`)."""

    cpus: int = Field(default=2, ge=1, le=256)
    memory: str = Field(default="4GiB", pattern=SIZE_PATTERN)
    disk: str = Field(default="20GiB", pattern=SIZE_PATTERN)


class McpServerConfig(StrictModel):
    """One MCP server: stdio (`command`) runs in the sandbox, HTTP (`url`) from the host."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    transport: Literal["stdio", "http", "sse"] | None = None
    policy: McpPolicy = "ask"
    enabled: bool = True
    timeout: float = Field(default=120.0, gt=0, le=86400)  # seconds one tool call may take

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of `command` (stdio server) or `url` (HTTP server)")
        if self.transport is None:
            self.transport = "stdio" if self.command is not None else "http"
        if (self.transport == "stdio") != (self.command is not None):
            raise ValueError(f"transport {self.transport!r} does not match command/url")
        return self


class TaskConfig(StrictModel):
    """A scheduled task: a prompt run on a 5-field cron schedule."""

    name: str = Field(pattern=NAME_PATTERN)
    schedule: str
    prompt: str = Field(min_length=1)
    enabled: bool = True

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from cronsim import CronSim, CronSimError  # local: only configs with tasks pay for it

        if len(value.split()) != 5:
            raise ValueError("schedule must be a 5-field cron expression, e.g. '0 9 * * 1-5'")
        try:
            CronSim(value, datetime(2000, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from exc
        return value


class ProjectConfig(StrictModel):
    """A folder Airlock works on, with everything that belongs to it."""

    name: str = Field(pattern=NAME_PATTERN)
    path: Path
    instructions: str = ""
    model: str | None = None
    sandbox: SandboxChoice | None = None
    allowlist: list[str] = Field(default_factory=list)
    allow_dns: bool = False
    vm: VMConfig = Field(default_factory=VMConfig)
    mcp: list[McpServerConfig] = Field(default_factory=list)
    tasks: list[TaskConfig] = Field(default_factory=list)

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        value = value.expanduser()
        if not value.is_absolute():
            raise ValueError("project path must be absolute")
        return value

    @field_validator("allowlist")
    @classmethod
    def _valid_entries(cls, value: list[str]) -> list[str]:
        """Each entry in its canonical form (`airlock allow` writes them so), no duplicates."""
        try:
            return list(dict.fromkeys(normalize_entry(entry) for entry in value))
        except AllowlistError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            raise ValueError(f"{exc.message}{hint}") from exc


class AirlockConfig(StrictModel):
    """The whole config file."""

    model: str = DEFAULT_MODEL
    sandbox: SandboxChoice = "auto"
    theme: str = "airlock-dark"
    tool_types: Literal["anthropic", "json-schema"] = Field(
        default="anthropic",
        description="`json-schema` sends bash/editor as plain tools, for compatible endpoints",
    )
    max_tokens: int = Field(default=8192, ge=256)
    keymap: dict[str, str] = Field(default_factory=dict)
    projects: list[ProjectConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_projects(self) -> AirlockConfig:
        for attr in ("name", "path"):
            seen: set[object] = set()
            for project in self.projects:
                value = getattr(project, attr)
                if value in seen:
                    raise ValueError(f"two projects share the {attr} {str(value)!r}")
                seen.add(value)
        return self


def config_path() -> Path:
    return airlock_paths().config_file


def load_config(path: Path | None = None) -> AirlockConfig:
    """Read and validate the config; a missing file means the defaults."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AirlockConfig()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return AirlockConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc, data)}") from exc


def describe_validation_error(exc: ValidationError, data: Any = None) -> str:
    """Turn pydantic's report into `field.path: message` lines a user can act on."""
    lines = []
    for error in exc.errors():
        where = _field_path(error["loc"], data)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


def _field_path(loc: tuple[int | str, ...], data: Any) -> str:
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node):
                node = node[key]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label = f"[{key}] ({node['name']})"
            else:
                node = None
            parts.append(label)
        else:
            parts.append(("." if parts else "") + key)
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts)


def save_config(config: AirlockConfig, path: Path | None = None) -> None:
    """Write the config atomically (temp file + fsync + rename)."""
    path = path or config_path()
    data = config.model_dump(mode="json", exclude_defaults=True)
    # Keep project entries complete enough to read back on their own.
    data["projects"] = [
        project.model_dump(mode="json", exclude_defaults=True) for project in config.projects
    ]
    write_atomic(path, dump_toml(data).encode("utf-8"))


def dump_toml(data: dict[str, Any]) -> str:
    """TOML with real `[table]` / `[[array]]` headers (tomli-w alone inlines short tables)."""
    return "\n".join(_table_chunks((), data)).lstrip("\n")


def _table_chunks(prefix: tuple[str, ...], table: dict[str, Any]) -> list[str]:
    plain = {key: value for key, value in table.items() if value is not None}
    tables = {key: value for key, value in plain.items() if isinstance(value, dict) and value}
    arrays = {
        key: value
        for key, value in plain.items()
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
    }
    scalars = {
        key: value
        for key, value in plain.items()
        if key not in tables and key not in arrays and value != {} and value != []
    }
    chunks = [tomli_w.dumps(scalars, multiline_strings=True)] if scalars else []
    for key, value in tables.items():
        chunks.append(f"[{_dotted((*prefix, key))}]")
        chunks.extend(_table_chunks((*prefix, key), value))
    for key, items in arrays.items():
        for item in items:
            chunks.append(f"[[{_dotted((*prefix, key))}]]")
            chunks.extend(_table_chunks((*prefix, key), item))
    return chunks


def _dotted(keys: tuple[str, ...]) -> str:
    return ".".join(
        key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key) for key in keys
    )
