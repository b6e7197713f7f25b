"""The per-session network log: one `NetworkRequest` JSON object per line.

An allowed request is written twice, when it is decided (`closed: false`) and when its
connection ends (`closed: true`, final byte counts), so a crash never loses a decision.
`read_network_log` folds the two into one record per request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import ValidationError

from airlock.events import NetworkRequest

logger = logging.getLogger(__name__)


class NetworkLog:
    """Appends events to a JSON-lines file (created private, parents included)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, event: NetworkRequest) -> None:
        """Write one line; a write failure is logged, never raised into the proxy."""
        line = event.model_dump_json().encode() + b"\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            logger.warning("cannot write the network log %s: %s", self.path, exc.strerror)


def read_network_log(path: Path) -> list[NetworkRequest]:
    """One record per request, latest state wins, in the order requests were decided.

    A missing file is an empty log; an unreadable line (e.g. cut short by a crash) is skipped.
    """
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    records: dict[str, NetworkRequest] = {}
    for index, line in enumerate(lines):
        try:
            event = NetworkRequest.model_validate_json(line)
        except ValidationError:
            continue
        records[event.request_id or f"line {index}"] = event
    return list(records.values())
