"""Errors of the Lima layer: each one carries the one line a user needs, plus a hint."""

from __future__ import annotations

import sys


class LimaError(Exception):
    """Base of every `limactl` failure; `str()` is the message plus an indented hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def detail(self) -> str:
        """The message, with any attached log lines."""
        return self.message

    def __str__(self) -> str:
        return self.detail if not self.hint else f"{self.detail}\n  hint: {self.hint}"


def install_hint() -> str:
    """How to install Lima on this OS."""
    if sys.platform == "darwin":
        return "install Lima with `brew install lima` (see https://lima-vm.io/docs/installation/)"
    return "install Lima and QEMU (https://lima-vm.io/docs/installation/, e.g. `brew install lima`)"


class LimactlNotFound(LimaError):
    """`limactl` is not on PATH."""

    def __init__(self, executable: str = "limactl") -> None:
        super().__init__(f"{executable} not found on PATH: Lima is not installed", install_hint())


class LimactlRefusesRoot(LimaError):
    """limactl will not run as the root user."""

    def __init__(self) -> None:
        super().__init__("limactl refuses to run as the root user", "run it as a normal user")


class InstanceNotFound(LimaError):
    """No instance of that name."""

    def __init__(self, name: str, hint: str = "see `limactl list`") -> None:
        super().__init__(f"Lima instance {name!r} does not exist", hint)
        self.name = name


class InstanceExists(LimaError):
    """An instance of that name already exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Lima instance {name!r} already exists", f"start it with `limactl start {name}`"
        )
        self.name = name


class InstanceNotRunning(LimaError):
    """The instance exists but is stopped."""

    def __init__(self, name: str, hint: str | None = None) -> None:
        super().__init__(
            f"Lima instance {name!r} is not running",
            hint or f"start it with `limactl start {name}`",
        )
        self.name = name


class InstanceBroken(LimaError):
    """The instance is `Broken` (e.g. the VM died under a live host agent)."""

    def __init__(self, name: str, errors: list[str], hint: str | None = None) -> None:
        detail = "; ".join(errors) or "no detail given"
        super().__init__(
            f"Lima instance {name!r} is broken: {detail}",
            hint or f"force it off with `limactl stop -f {name}`, then start it again",
        )
        self.name = name
        self.errors = errors


class StartFailed(LimaError):
    """`limactl start`/`create` failed; the last log lines say why."""

    def __init__(self, name: str, reason: str, log_tail: list[str], hint: str | None) -> None:
        super().__init__(f"Lima instance {name!r} failed to start: {reason}", hint)
        self.name = name
        self.reason = reason
        self.log_tail = log_tail

    @property
    def detail(self) -> str:
        return "\n".join([self.message, *(f"  | {line}" for line in self.log_tail)])


class LimactlFailed(LimaError):
    """Any other non-zero exit of `limactl`, with the tail of what it said."""

    def __init__(self, args: list[str], exit_code: int, reason: str) -> None:
        command = " ".join(["limactl", *args[:2]])
        super().__init__(f"`{command}` failed (exit {exit_code}): {reason or 'no output'}")
        self.exit_code = exit_code
        self.reason = reason


class LimactlTimeout(LimaError):
    """`limactl` did not finish in time (and was killed)."""

    def __init__(self, args: list[str], seconds: float) -> None:
        command = " ".join(["limactl", *args[:2]])
        super().__init__(f"`{command}` did not finish within {seconds:g} s and was stopped")
