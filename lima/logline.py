"""Parse `limactl`'s stderr lines: logrus logfmt, `--log-format json`, or raw text.

limactl writes every log line to stderr; with no TTY they are logfmt
(`time="…" level=info msg="…" key=value`, values quoted with Go's `strconv.Quote`).
A few lines are not logrus at all (`Downloading the image (…)`, a template's
`message:`); they come back as raw lines with no level.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, Field

_PAIR = re.compile(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# Names and paths are `name` in v2.2 (`%#q`) and "name" before (`%q`).
QUOTED = r"[`\"](.+?)[`\"]"


class LogLine(BaseModel):
    """One stderr line: `level` is None for a raw (non-logrus) line."""

    level: str | None = None
    msg: str
    time: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        """The message with its extra fields, as a person would read it."""
        extra = " ".join(f"{key}={value}" for key, value in self.fields.items())
        return f"{self.msg} ({extra})" if extra else self.msg


def go_unquote(value: str) -> str:
    """Undo Go's `strconv.Quote` (a bare value is returned as it is)."""
    if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
        return value

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        if code[0].isdigit():
            return chr(int(code, 8))
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPE.sub(replace, value[1:-1])


def parse_log_line(line: str) -> LogLine:
    """Parse one line of limactl's stderr (without its newline)."""
    line = line.rstrip("\r\n")
    if line.startswith("{"):
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict) and "msg" in data:
            extra = {k: str(v) for k, v in data.items() if k not in ("level", "msg", "time")}
            time = data.get("time")
            return LogLine(
                level=str(data.get("level")),
                msg=str(data["msg"]),
                time=str(time) if time is not None else None,
                fields=extra,
            )
    if line.startswith("time="):
        pairs = {key: go_unquote(value) for key, value in _PAIR.findall(line)}
        if "level" in pairs and "msg" in pairs:
            time = pairs.pop("time", None)
            level = pairs.pop("level")
            msg = pairs.pop("msg")
            return LogLine(level=level, msg=msg, time=time, fields=pairs)
    return LogLine(msg=line)


def parse_log(text: str) -> list[LogLine]:
    """Every non-empty line of a stderr capture."""
    return [parse_log_line(line) for line in text.splitlines() if line.strip()]


def fatal_message(lines: list[LogLine]) -> str | None:
    """The message of the last `level=fatal` line, if limactl itself failed."""
    for line in reversed(lines):
        if line.level == "fatal":
            return line.msg
    return None
