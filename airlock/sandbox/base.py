"""The `Sandbox` protocol every backend implements.

The project lives at `/workspace` inside the sandbox; commands run there as an
unprivileged user, with a clean environment (never the host's API key).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from airlock.errors import AirlockError
from airlock.review.models import Entry, Manifest
from airlock.review.store import ObjectStore
from lima.process import OnOutput
from lima.process import ProcessResult as ExecResult

WORKSPACE = "/workspace"

OnProgress = Callable[[str], None]

__all__ = [
    "WORKSPACE",
    "ExecResult",
    "OnOutput",
    "OnProgress",
    "Sandbox",
    "SandboxError",
    "WorkspaceLost",
]


class SandboxError(AirlockError):
    """The sandbox could not be created, reached or used."""


class WorkspaceLost(SandboxError):
    """`/workspace` no longer holds the copy this session loaded (its VM was rebuilt)."""


class Sandbox(Protocol):
    """An isolated place holding a copy of the project at `/workspace`."""

    @property
    def kind(self) -> str:
        """`bwrap` or `lima`."""
        ...

    @property
    def label(self) -> str:
        """What the header shows, e.g. `bwrap` or `lima: airlock-notes (Running)`."""
        ...

    async def start(self, on_progress: OnProgress | None = None) -> None:
        """Make the sandbox ready (boot the VM, create the staging dir)."""
        ...

    async def exec(
        self,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdin: bytes | None = None,
        on_output: OnOutput | None = None,
    ) -> ExecResult:
        """Run a shell command (str, via `bash -c`) or argv in `/workspace`, streaming output.

        A timeout ends with exit code 124 and `timed_out`; cancelling the awaiting
        task kills the whole process tree.
        """
        ...

    async def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stderr: int = asyncio.subprocess.PIPE,
    ) -> asyncio.subprocess.Process:
        """Start a long-lived process in `/workspace` with stdin/stdout pipes (an MCP stdio
        server); `close` stops it. Read its stderr (a pipe unless told otherwise)."""
        ...

    async def load(self, baseline: Manifest, store: ObjectStore) -> None:
        """Make `/workspace` equal to the baseline tree."""
        ...

    async def scan(self) -> Manifest:
        """The manifest of `/workspace`, hashing only what changed since `load`
        (`WorkspaceLost` if it is not that copy any more)."""
        ...

    async def holds_copy(self) -> bool:
        """Whether `/workspace` still holds the copy `load` put there (with its edits)."""
        ...

    async def read(self, paths: Sequence[str]) -> dict[str, bytes]:
        """Contents of regular files of `/workspace`, in one round trip."""
        ...

    async def write(self, files: Mapping[str, bytes]) -> None:
        """Replace regular files of `/workspace` (keeping their mode)."""
        ...

    async def revert(self, entries: Mapping[str, Entry | None], store: ObjectStore) -> None:
        """Make each path match its baseline entry (content from `store`); None deletes it."""
        ...

    async def close(self) -> None:
        """Release what `start` took (the VM keeps running; staging dirs stay for resume)."""
        ...
