"""A session's egress proxy: started with the session, fed by the project's allowlist.

Events go to the session; a host the allowlist denies is put to the front end's
`approver` (the TUI asks the user), and "always" is saved to the project's config.

Allowlist changes reach a running session two ways: the TUI calls `set_allowlist`, and
edits of the config file (`airlock allow` / `airlock deny`, or by hand) are read before
the next request once the file changed (a `stat` per request, a reload per change). A
project that is not registered keeps the list it started with, plus what the user allowed.

AIRLOCK_TEST_HOSTS (`loopback_hosts`) may point made-up `.test` names at loopback servers
for tests; it changes name resolution only, never the allowlist.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from airlock.config import ProjectConfig, config_path, load_config
from airlock.errors import AirlockError
from airlock.events import Event, NetworkRequest, Status
from airlock.network.allowlist import Allowlist
from airlock.network.approval import OnDenied
from airlock.network.bwrap_routing import forwarder_wrapper, routing_mounts, sandbox_env
from airlock.network.loopback_hosts import resolver_from_env
from airlock.network.proxy import EgressProxy, ProxyError
from airlock.network.upstream import Resolver
from airlock.projects import find_project, update_project
from airlock.sandbox.bwrap_args import Bind

logger = logging.getLogger(__name__)
FileStamp = tuple[int, int, int] | None


def socket_dir() -> Path:
    """A short private folder for Unix sockets (paths are limited to 107 bytes)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"airlock-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def _stamp(path: Path) -> FileStamp:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


class SessionEgress:
    """The proxy of one session, and what a sandbox needs to reach it."""

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
        self.socket = socket_dir() / f"{secrets.token_hex(6)}.sock"
        self._config_stamp = _stamp(config_path())
        self.proxy = EgressProxy(
            Allowlist(project.allowlist),
            resolver=resolver or resolver_from_env(),
            on_event=self._on_event,
            log_path=log_path,
            on_allow_always=self._save_always,
            allowlist_source=self._config_allowlist,
        )

    async def start_unix(self) -> None:
        """Listen on a private Unix socket (bind-mounted into a bubblewrap sandbox)."""
        await self.proxy.listen_unix(self.socket)

    async def start_tcp(self, port: int) -> None:
        """Listen on 127.0.0.1:PORT (a Lima guest reaches it as 192.168.5.2:PORT)."""
        try:
            await self.proxy.listen_tcp("127.0.0.1", port)
        except ProxyError as exc:
            raise ProxyError(
                f"the egress proxy {exc.message}",
                hint="is another Airlock session of this project open? Close it first",
            ) from exc

    @property
    def approver(self) -> OnDenied | None:
        """Asks the user about a denied host; set by a front end that can (None: deny)."""
        return self.proxy.on_denied

    @approver.setter
    def approver(self, hook: OnDenied | None) -> None:
        self.proxy.on_denied = hook

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

    def _registered(self) -> ProjectConfig | None:
        """This project as the config file has it now (None if it is not registered)."""
        found = find_project(load_config(), self.project.name)
        return found if found is not None and found.path == self.project.path else None

    def _config_allowlist(self) -> Allowlist | None:
        """The project's allowlist from the config file, if the file changed since last read."""
        stamp = _stamp(config_path())
        if stamp == self._config_stamp:
            return None
        self._config_stamp = stamp
        try:
            registered = self._registered()
        except AirlockError as exc:
            logger.warning("allowlist not reloaded: %s", exc.message)
            return None
        if registered is None:
            return None
        self.project.allowlist = list(registered.allowlist)
        return Allowlist(registered.allowlist)

    def _save_always(self, entry: str) -> None:
        self.project.allowlist = [*self.project.allowlist, entry]
        registered = self._registered()
        if registered is None:
            self.emit(Status(message=f"allowed {entry} for this session (project not registered)"))
            return
        registered.allowlist = sorted(set(registered.allowlist) | {entry})
        update_project(registered)
        self.emit(Status(message=f"added {entry} to the allowlist of {self.project.name}"))
