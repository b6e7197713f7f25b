"""A session's egress proxy: started with the session, fed by the project's allowlist.

Events go to the session; a host the allowlist denies is put to the front end's
`approver` (the TUI asks the user), and "always" is saved to the project's config.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from airlock.config import ProjectConfig
from airlock.events import Event, NetworkRequest, Status
from airlock.network.allowlist import Allowlist
from airlock.network.approval import DeniedRequest, OnDenied, Verdict
from airlock.network.bwrap_routing import forwarder_wrapper, routing_mounts, sandbox_env
from airlock.network.proxy import EgressProxy
from airlock.network.upstream import Resolver
from airlock.sandbox.bwrap_args import Bind


def socket_dir() -> Path:
    """A short private folder for Unix sockets (paths are limited to 107 bytes)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"airlock-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


class SessionEgress:
    """The proxy of one session, and what a bubblewrap sandbox needs to reach it."""

    def __init__(
        self,
        project: ProjectConfig,
        log_path: Path,
        emit: Callable[[Event], None],
        *,
        resolver: Resolver | None = None,
    ) -> None:
        self.project = project
        self.emit = emit
        self.approver: OnDenied | None = None  # set by a front end that can ask the user
        self.socket = socket_dir() / f"{secrets.token_hex(6)}.sock"
        self.proxy = EgressProxy(
            Allowlist(project.allowlist),
            resolver=resolver,
            on_event=self._on_event,
            log_path=log_path,
            on_denied=self._ask,
            on_allow_always=self._save_always,
        )

    async def start_unix(self) -> None:
        await self.proxy.listen_unix(self.socket)

    def bwrap_options(self) -> tuple[dict[str, str], list[Bind], list[str]]:
        """(env, binds, wrapper) for `BwrapSandbox`: the proxy is its only way out."""
        binds = [Bind(source=source, dest=dest) for source, dest in routing_mounts(self.socket)]
        return sandbox_env(), binds, forwarder_wrapper()

    def set_allowlist(self, entries: list[str]) -> None:
        """Apply an edited allowlist to requests from now on."""
        self.proxy.allowlist = Allowlist(entries)
        self.project.allowlist = list(entries)

    async def close(self) -> None:
        await self.proxy.close()

    def _on_event(self, event: NetworkRequest) -> None:
        self.emit(event)

    async def _ask(self, request: DeniedRequest) -> Verdict:
        if self.approver is None:
            return Verdict.DENY
        return await self.approver(request)

    def _save_always(self, entry: str) -> None:
        from airlock.config import load_config
        from airlock.projects import find_project, update_project

        entries = [*self.project.allowlist, entry]
        self.project.allowlist = entries
        registered = find_project(load_config(), self.project.name)
        if registered is None or registered.path != self.project.path:
            self.emit(Status(message=f"allowed {entry} for this session (project not registered)"))
            return
        registered.allowlist = sorted(set(registered.allowlist) | {entry})
        update_project(registered)
        self.emit(Status(message=f"added {entry} to the allowlist of {self.project.name}"))
