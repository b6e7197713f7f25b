"""Asking the user about a request the allowlist denies: allow once, allow always, or deny.

The proxy calls an `OnDenied` hook with a `DeniedRequest` and awaits the `Verdict` it
returns: typically an `asyncio.Future` that the TUI (or the headless CLI) resolves from the
keyboard. Concurrent requests for the same host and port share one question. A question
not answered within the timeout, or whose awaitable fails or is cancelled, is a deny, so a
request never hangs forever; on timeout the awaitable is cancelled (check `done()` before
resolving it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)


class Verdict(StrEnum):
    """The user's answer about a denied host."""

    ONCE = "once"  # allow the waiting request(s), ask again next time
    ALWAYS = "always"  # add the host to the allowlist
    DENY = "deny"


class DeniedRequest(BaseModel):
    """What the user is asked about."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    method: str
    reason: str  # why the allowlist denied it, e.g. "not in allowlist"


OnDenied = Callable[[DeniedRequest], Awaitable[Verdict]]


class Approvals:
    """Asks `on_denied` at most once at a time per host:port, with a deadline."""

    def __init__(self, on_denied: OnDenied | None, timeout: float) -> None:
        self.on_denied = on_denied  # None: nobody to ask, so denied hosts stay denied
        self._timeout = timeout
        self._pending: dict[tuple[str, int], asyncio.Task[tuple[Verdict, str]]] = {}
        self.waiting = 0  # requests waiting for a verdict right now

    async def ask(self, request: DeniedRequest) -> tuple[Verdict, str]:
        """The verdict for `request`, and a note on how it was reached (for the event)."""
        if self.on_denied is None:
            return Verdict.DENY, ""
        key = (request.host, request.port)
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._question(request))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        self.waiting += 1
        try:
            # Shielded: a client going away must not cancel the question for the others.
            return await asyncio.shield(task)
        finally:
            self.waiting -= 1

    async def _question(self, request: DeniedRequest) -> tuple[Verdict, str]:
        assert self.on_denied is not None
        try:
            async with asyncio.timeout(self._timeout):
                verdict = Verdict(await self.on_denied(request))
            return verdict, "denied by the user" if verdict is Verdict.DENY else ""
        except TimeoutError:
            return Verdict.DENY, f"no answer within {self._timeout:g}s"
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the proxy is closing
            return Verdict.DENY, "question cancelled"
        except Exception:
            logger.exception("egress proxy: the approval hook failed")
            return Verdict.DENY, "approval failed"

    async def close(self) -> None:
        """Cancel every open question (their requests are denied)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
