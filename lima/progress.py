"""Turn `limactl start`/`create` log lines into typed progress events.

A start walks through fixed phases (see `PHASES`); each event says which one,
what is happening, and whether a step just finished (`ok=True`), failed
(`ok=False`) or is under way (`ok=None`). Lines that carry no progress are skipped.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from lima.logline import QUOTED, LogLine

Phase = Literal["instance", "image", "vm", "ssh", "provision", "boot", "ready"]
PHASES: tuple[Phase, ...] = ("instance", "image", "vm", "ssh", "provision", "boot", "ready")

# Which phase each kind of hostagent requirement belongs to.
REQUIREMENT_PHASES: dict[str, Phase] = {
    "essential": "ssh",
    "optional": "provision",
    "final": "boot",
}

_HOSTAGENT = "[hostagent] "
_WAITING = re.compile(
    rf"Waiting for the (essential|optional|final) requirement (\d+) of (\d+): {QUOTED}"
)
_SATISFIED = re.compile(r"The (essential|optional|final) requirement (\d+) of (\d+) is satisfied")
_STARTING_INSTANCE = re.compile(
    rf"Starting the instance {QUOTED} with (?:internal |external )?VM driver {QUOTED}"
)
_STARTING_VM = re.compile(r"Starting (QEMU|VZ|krunkit)\b")


_HINT = re.compile(r"\s*\(hint: (.+)\)\s*$")
_REASONS = (
    ("exiting, status=", "the VM's host agent exited"),
    ("degraded, status=", "the VM came up degraded: a readiness check failed"),
    ("did not receive an event with the `running` status", "timed out waiting for the VM"),
)


def split_hint(message: str) -> tuple[str, str | None]:
    """A fatal start message made readable, and the `(hint: …)` it carried."""
    found = _HINT.search(message)
    hint = found[1] if found else None
    message = _HINT.sub("", message)
    for prefix, reason in _REASONS:
        if message.startswith(prefix):
            return reason, hint
    return message, hint


class StartProgress(BaseModel):
    """One step of bringing an instance up."""

    phase: Phase
    message: str
    ok: bool | None = None  # None: under way; True: done; False: failed

    @property
    def step(self) -> int:
        """1-based position of the phase in `PHASES`."""
        return PHASES.index(self.phase) + 1

    def line(self) -> str:
        """E.g. `[4/7] waiting for ssh (1 of 2) …`, `[4/7] ssh: ok`, `[3/7] failed: …`."""
        prefix = f"[{self.step}/{len(PHASES)}]"
        if self.ok is None:
            return f"{prefix} {self.message} …"
        return f"{prefix} {self.message}" if self.ok else f"{prefix} failed: {self.message}"


class ProgressParser:
    """Stateful: remembers requirement names so 'requirement 2 of 3 is satisfied' reads well."""

    def __init__(self) -> None:
        self.phase: Phase = "instance"
        self.requirements: dict[tuple[str, str], str] = {}
        self.last: StartProgress | None = None

    def feed(self, line: LogLine) -> StartProgress | None:
        """The progress event a log line carries, or None (noise, or a repeat)."""
        event = self._event(line)
        if event is None or event == self.last:
            return None
        self.phase = event.phase
        self.last = event
        return event

    def _event(self, line: LogLine) -> StartProgress | None:
        msg = line.msg.removeprefix(_HOSTAGENT)
        if line.level in ("error", "fatal"):
            return StartProgress(phase=self.phase, message=split_hint(msg)[0], ok=False)
        if line.level is None:
            return None  # raw lines (the download bar's title, a template message)
        if msg.startswith("READY."):
            return StartProgress(phase="ready", message="ready", ok=True)
        if msg.startswith("DEGRADED."):
            return StartProgress(phase="ready", message=msg, ok=False)
        if waiting := _WAITING.search(msg):
            kind, index, total, name = waiting.groups()
            self.requirements[(kind, index)] = name
            return StartProgress(
                phase=REQUIREMENT_PHASES[kind], message=f"waiting for {name} ({index} of {total})"
            )
        if satisfied := _SATISFIED.search(msg):
            kind, index, total = satisfied.groups()
            name = self.requirements.get((kind, index), f"{kind} requirement {index} of {total}")
            return StartProgress(phase=REQUIREMENT_PHASES[kind], message=f"{name}: ok", ok=True)
        return self._lifecycle(msg)

    def _lifecycle(self, msg: str) -> StartProgress | None:
        if msg.startswith("Terminal is not available"):  # logged only for a new instance
            return StartProgress(phase="instance", message="creating the instance")
        if found := re.match(rf"Using the existing instance {QUOTED}", msg):
            return StartProgress(
                phase="instance", message=f"using the existing instance {found[1]}", ok=True
            )
        if found := re.search(rf"The instance {QUOTED} is already running", msg):
            return StartProgress(phase="ready", message=f"{found[1]} is already running", ok=True)
        if msg.startswith("Attempting to download the"):
            what = msg.removeprefix("Attempting to download the ")
            return StartProgress(phase="image", message=f"downloading the {what}")
        if msg.startswith("Downloaded the"):
            what = msg.removeprefix("Downloaded the ").split(" from ")[0]
            return StartProgress(phase="image", message=f"downloaded the {what}", ok=True)
        if msg.startswith("Using cache "):
            return StartProgress(phase="image", message="using the cached download", ok=True)
        if found := _STARTING_INSTANCE.match(msg):
            return StartProgress(phase="instance", message=f"starting {found[1]} ({found[2]})")
        if found := _STARTING_VM.match(msg):
            return StartProgress(phase="vm", message=f"booting the VM ({found[1]})")
        if msg.startswith("Driver stopped due to error"):
            return StartProgress(phase="vm", message=msg, ok=False)
        return None
