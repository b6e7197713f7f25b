"""limactl's stderr: logrus lines (logfmt, or JSON with `--log-format json`)."""

from __future__ import annotations

import json
import os
import re
import sys
import time

BARE = re.compile(r"^[A-Za-z0-9\-._/@^+]+$")


class Fatal(Exception):
    """limactl's `logrus.Fatal(err)`: one fatal line, exit 1."""


class Settings:
    """Global flags that change how every line is written."""

    log_format = "text"


def now() -> str:
    """RFC 3339 to the second with the local offset (`Z` under UTC), as logrus prints it."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return stamp[:-5] + "Z" if stamp.endswith(("+0000", "-0000")) else stamp[:-2] + ":" + stamp[-2:]


def log(level: str, msg: str, **fields: object) -> None:
    """One log line on stderr: keys `time`, `level`, `msg`, then the fields sorted by name."""
    if Settings.log_format == "json":
        record = {"level": level, "msg": msg, "time": now(), **fields}
        line = json.dumps(dict(sorted(record.items())), separators=(",", ":"))
    else:
        parts = [f'time="{now()}"', f"level={level}", f"msg={quote(msg)}"]
        parts += [f"{key}={quote(str(value))}" for key, value in sorted(fields.items())]
        line = " ".join(parts)
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def quote(value: str) -> str:
    """A logfmt value: bare when every byte is safe, else Go-quoted (empty prints as nothing)."""
    if value == "" or BARE.match(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def pause() -> None:
    """A slow boot, when FAKE_LIMACTL_START_DELAY asks for one."""
    delay = float(os.environ.get("FAKE_LIMACTL_START_DELAY") or 0)
    if delay:
        time.sleep(delay)
