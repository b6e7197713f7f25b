"""The bubblewrap backend: a host staging copy mounted at `/workspace` in a fresh namespace.

Each command gets its own namespace (see `bwrap_args`), so when it ends, or is
cancelled, every process it started is gone. The staging copy is `root/workspace`;
it outlives the sandbox object so a session can resume.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from airlock.atomic import write_atomic
from airlock.review.models import MANIFEST, Entry, Manifest
from airlock.review.scan import scan_tree
from airlock.review.store import ObjectStore
from airlock.safefs import UnsafePathError
from airlock.sandbox.base import ExecResult, OnOutput, OnProgress, SandboxError
from airlock.sandbox.bwrap_args import (
    Bind,
    NamespaceSpec,
    SystemLayout,
    bwrap_argv,
    detect_system,
    identity_files,
    shell_argv,
)
from airlock.sandbox.bwrap_tree import load_tree, read_files, revert_paths, write_files
from lima.process import kill_group, run_process

INSTALL_HINT = (
    "install bubblewrap (apt install bubblewrap, dnf install bubblewrap, pacman -S bubblewrap)"
)
USERNS_HINT = (
    "enable unprivileged user namespaces (Debian: sysctl kernel.unprivileged_userns_clone=1; "
    "Ubuntu 24.04+: sysctl kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor "
    "profile for bwrap; everywhere: user.max_user_namespaces > 0), or use the Lima backend"
)
USERNS_SIGNS = ("namespace", "uid map", "rtm_newaddr")
PROBE_TIMEOUT = 30.0
LOADED_FILE = "loaded.json"


class BwrapSandbox:
    """A bubblewrap sandbox over the staging copy `root/workspace` (Linux only)."""

    def __init__(
        self,
        root: Path,
        *,
        env: Mapping[str, str] | None = None,
        binds: Sequence[Bind] = (),
        wrapper: Sequence[str] = (),
        bwrap: str | None = None,
    ) -> None:
        """`env` and `binds` apply to every command; `wrapper` runs inside first and execs it.

        They stay public attributes, read on each command. `bwrap` is the executable
        (default: `bwrap` on PATH).
        """
        self.root = root
        self.workspace = root / "workspace"
        self.env = dict(env or {})
        self.binds = list(binds)
        self.wrapper = list(wrapper)
        self._bwrap = bwrap
        self._system: SystemLayout | None = None
        self._disable_userns = False
        self._cache: Manifest | None = None
        self._spawned: set[asyncio.subprocess.Process] = set()

    @property
    def kind(self) -> str:
        return "bwrap"

    @property
    def label(self) -> str:
        return "bwrap"

    async def start(self, on_progress: OnProgress | None = None) -> None:
        """Create the folders and check that bubblewrap can make a namespace here."""
        if not sys.platform.startswith("linux"):
            raise SandboxError("bubblewrap sandboxes need Linux", hint="use the Lima backend")
        bwrap = shutil.which(self._bwrap or "bwrap")
        if bwrap is None:
            raise SandboxError("bubblewrap (bwrap) is not installed", hint=INSTALL_HINT)
        if on_progress is not None:
            on_progress("checking bubblewrap")
        version = await run_process([bwrap, "--version"], env={}, timeout=PROBE_TIMEOUT)
        self._bwrap = bwrap
        self._disable_userns = _disable_userns_supported(version.stdout)
        try:
            self._system = await asyncio.to_thread(self._prepare)
        except OSError as exc:
            raise SandboxError(f"cannot prepare the sandbox folder {self.root}: {exc}") from exc
        probe = await run_process(self.argv(["true"]), env={}, timeout=PROBE_TIMEOUT)
        if probe.exit_code != 0:
            self._system = None
            raise _probe_error(probe.stderr.decode(errors="replace"))

    def _prepare(self) -> SystemLayout:
        """Create the folders and the synthetic /etc files; the host's system layout."""
        self.root.mkdir(parents=True, exist_ok=True)
        # The agent's files on the host may carry setuid bits (owned by root in CI): keep
        # other host users out of the whole folder.
        self.root.chmod(0o700)
        for folder in (self.workspace, self.root / "home", self.root / "etc"):
            folder.mkdir(exist_ok=True)
        system = detect_system()
        for name, text in identity_files(system.shell).items():
            (self.root / "etc" / name).write_text(text)
        return system

    def argv(self, command: str | Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
        """The host argv running `command` in a fresh namespace (current env, binds, wrapper)."""
        if self._system is None or self._bwrap is None:
            raise SandboxError("the bubblewrap sandbox is not started")
        spec = NamespaceSpec(
            workspace=self.workspace,
            home=self.root / "home",
            identity=self.root / "etc",
            system=self._system,
            env=self.env,
            binds=self.binds,
            wrapper=self.wrapper,
            disable_userns=self._disable_userns,
        )
        return bwrap_argv(self._bwrap, spec, shell_argv(spec, command), env)

    async def exec(
        self,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdin: bytes | None = None,
        on_output: OnOutput | None = None,
    ) -> ExecResult:
        """Run `command` in `/workspace`; cancelling kills every process it started."""
        return await run_process(
            self.argv(command, env), stdin=stdin, env={}, timeout=timeout, on_output=on_output
        )

    async def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stderr: int = asyncio.subprocess.PIPE,
    ) -> asyncio.subprocess.Process:
        """Start a long-lived process (e.g. an MCP stdio server) with stdin/stdout pipes.

        It runs in its own namespace and process group; `close` kills it if still running.
        Read its stderr (a pipe unless told otherwise), or it fills up and blocks.
        """
        process = await asyncio.create_subprocess_exec(
            *self.argv(argv, env),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env={},
            start_new_session=True,
        )
        self._spawned = {alive for alive in self._spawned if alive.returncode is None}
        self._spawned.add(process)
        return process

    async def holds_copy(self) -> bool:
        return self.workspace.is_dir() and (self.root / LOADED_FILE).is_file()

    async def load(self, baseline: Manifest, store: ObjectStore) -> None:
        """Make the staging copy equal to `baseline`, redoing only what differs."""
        await asyncio.to_thread(self._load, baseline, store)

    def _load(self, baseline: Manifest, store: ObjectStore) -> None:
        try:
            workspace = self._workspace()
            current = scan_tree(workspace, previous=self._loaded())
            load_tree(workspace, baseline, store, current)
            loaded = scan_tree(workspace, previous=current)
        except (OSError, UnsafePathError) as exc:
            raise SandboxError(f"cannot load the project into the sandbox: {exc}") from exc
        write_atomic(self.root / LOADED_FILE, MANIFEST.dump_json(loaded))
        self._cache = loaded

    def _workspace(self) -> Path:
        """The staging copy, made reachable again if the agent took away its permissions.

        Its path is the host's (the agent can reach only what is inside), so it can be
        used directly.
        """
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.workspace.chmod(0o755)
        return self.workspace

    def _loaded(self) -> Manifest:
        """The post-load snapshot, a stat cache: empty when missing or unreadable."""
        try:
            return MANIFEST.validate_json((self.root / LOADED_FILE).read_bytes())
        except (OSError, ValueError):
            return {}

    async def scan(self) -> Manifest:
        """The manifest of `/workspace`; files untouched since the last look are not read."""
        return await asyncio.to_thread(self._scan)

    def _scan(self) -> Manifest:
        try:
            manifest = scan_tree(self._workspace(), previous=self._cache or self._loaded())
        except OSError as exc:
            raise SandboxError(f"cannot scan the sandbox workspace: {exc}") from exc
        self._cache = manifest
        return manifest

    async def read(self, paths: Sequence[str]) -> dict[str, bytes]:
        """Contents of regular files; a fifo, symlink or missing path raises SandboxError."""
        return await asyncio.to_thread(read_files, self._workspace(), paths)

    async def write(self, files: Mapping[str, bytes]) -> None:
        """Replace or create regular files (an existing file keeps its mode, new ones 0644)."""
        await asyncio.to_thread(write_files, self._workspace(), files)

    async def revert(self, entries: Mapping[str, Entry | None], store: ObjectStore) -> None:
        """Put paths back as their baseline entries (None: remove, with any subtree)."""
        await asyncio.to_thread(revert_paths, self._workspace(), entries, store)

    async def close(self) -> None:
        """Kill spawned processes still running; the staging copy stays for resume."""
        spawned, self._spawned = self._spawned, set()
        for process in spawned:
            if process.returncode is None:
                kill_group(process)
                await process.wait()


def _disable_userns_supported(version_output: bytes) -> bool:
    """Whether this bwrap has `--disable-userns` (0.8.0 and later)."""
    match = re.search(rb"(\d+)\.(\d+)", version_output)
    return match is not None and (int(match[1]), int(match[2])) >= (0, 8)


def _probe_error(stderr: str) -> SandboxError:
    """The user-facing error for a bwrap that could not create the sandbox."""
    detail = next((line for line in stderr.splitlines() if line.strip()), "no error output")
    if any(sign in stderr.lower() for sign in USERNS_SIGNS):
        return SandboxError(
            f"bubblewrap cannot create a sandbox here: user namespaces are not allowed ({detail})",
            hint=USERNS_HINT,
        )
    return SandboxError(f"bubblewrap failed to start: {detail}")
