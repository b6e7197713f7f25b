"""Pydantic models of what `limactl list --json` prints (one object per line)."""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

Status = Literal["Running", "Stopped", "Broken", "Uninitialized", "Installing", ""]


class Instance(BaseModel):
    """One Lima instance. Unknown keys are ignored; JSON uses Lima's camelCase names."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )

    name: str
    status: Status | str = ""
    dir: str = ""
    vm_type: str = ""
    arch: str = ""
    cpus: int = 0
    memory: int = 0  # bytes
    disk: int = 0  # bytes
    hostname: str = ""
    ssh_local_port: int = 0
    message: str = ""
    protected: bool = False
    lima_version: str = ""
    errors: list[str] = Field(default_factory=list)
    config: dict[str, Any] | None = Field(default=None, exclude=True)

    @field_validator("errors", mode="before")
    @classmethod
    def _error_texts(cls, value: Any) -> Any:
        """Go error values arrive as structs (`{}` is dropped, `*fs.PathError` is a dict)."""
        if not isinstance(value, list):
            return value
        return [_error_text(item) for item in value]

    @field_validator("lima_version")
    @classmethod
    def _strip_v(cls, value: str) -> str:
        return value.removeprefix("v")

    @property
    def running(self) -> bool:
        return self.status == "Running"

    @property
    def broken(self) -> bool:
        return self.status == "Broken"


def _error_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and {"Op", "Path"} <= item.keys():
        errno = item.get("Err")
        reason = os.strerror(errno).lower() if isinstance(errno, int) else str(errno)
        return f"{item['Op']} {item['Path']}: {reason}"
    return json.dumps(item)


def parse_list_json(stdout: str) -> list[Instance]:
    """Parse `limactl list --json`: JSON Lines, not an array (one compact object a line)."""
    return [Instance.model_validate_json(line) for line in stdout.splitlines() if line.strip()]


def format_bytes(size: int) -> str:
    """go-units `BytesSize` as limactl's table shows it: `4GiB`, `100GiB`, `0B`."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    text = f"{value:.4g}"
    return f"{text}{units[unit]}"
