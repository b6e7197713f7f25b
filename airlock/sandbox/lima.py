"""The Lima backend: one VM per project; files cross only as tar streams over `limactl shell`.

The guest's only way out is the session's egress proxy on this machine, at the instance's
port (`lima_egress`): every start passes the port and the DNS choice as Lima params, and
every command gets the proxy variables. There is no host mount. `load` streams the
baseline into the guest's `/workspace`; `scan` runs one guest-side `find` + `sha256sum`
pass that hashes only files changed since the load; `read`, `write` and `revert` are one
tar stream each. Commands run as the guest's unprivileged user with a clean environment,
and a cancelled or timed-out command is killed in the guest too (killing `limactl` alone
would leave it running).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, ValidationError

from airlock.atomic import write_atomic
from airlock.config import ProjectConfig
from airlock.network.client_env import proxy_env
from airlock.network.lima_firewall import HOST_ADDRESS, lima_params
from airlock.review.models import Entry, EntryType, Manifest
from airlock.review.store import ObjectStore
from airlock.safefs import UnsafePathError, rel_parts
from airlock.sandbox.base import (
    WORKSPACE,
    ExecResult,
    OnOutput,
    OnProgress,
    SandboxError,
    WorkspaceLost,
)
from airlock.sandbox.lima_claim import (
    forget_parked,
    holder,
    instance_lock,
    park,
    parked,
    set_holder,
)
from airlock.sandbox.lima_claim import store as claim_store
from airlock.sandbox.lima_egress import choose_port, declared_params, param_sets
from airlock.sandbox.lima_scan import parse_hashes, parse_scan, time_ns
from airlock.sandbox.lima_scripts import (
    APPLY,
    APPLY_ONE,
    HASH,
    HOLDS,
    KILL,
    LOAD,
    LOST_EXIT,
    READ,
    SCAN,
    exec_argv,
    sh,
)
from airlock.sandbox.lima_tar import (
    PERMISSIONS,
    Opener,
    Staged,
    blob,
    file_info,
    plan_members,
    read_files,
    tar_info,
    tar_stream,
    tree_members,
)
from lima.errors import InstanceBroken, InstanceNotRunning, LimaError
from lima.limactl import DEFAULT_START_TIMEOUT, Limactl
from lima.process import kill_group
from lima.progress import StartProgress
from lima.template import render_template

INSTANCE_PREFIX = "airlock-"
SLUG_MAX = 32
STATE_FILE = "lima-loaded.json"
SCRIPT_TIMEOUT = 900.0  # loading or scanning a big tree
KILL_TIMEOUT = 60.0
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def instance_name(project: ProjectConfig) -> str:
    """`airlock-<slug>`: a valid, short Lima name, distinct for every project name."""
    slug = re.sub(r"[^a-z0-9]+", "-", project.name.lower()).strip("-")[:SLUG_MAX].strip("-")
    if slug != project.name:
        slug = f"{slug or 'project'}-{hashlib.sha256(project.name.encode()).hexdigest()[:6]}"
    return INSTANCE_PREFIX + slug


class LoadedState(BaseModel):
    """What `load` left in the guest: its time there, and the tree (for unchanged digests)."""

    instance: str
    loaded_at: str  # the guest's clock, as `find -printf %T@` prints it
    manifest: Manifest


class LimaSandbox:
    """The project's Lima instance, `airlock-<project>`, created from the airlock template."""

    def __init__(
        self,
        project: ProjectConfig,
        root: Path,
        *,
        limactl: Limactl | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        shared: bool = True,
    ) -> None:
        """`root` is the session's folder on the host (it keeps the loaded snapshot).

        `shared`: take turns with the project's other sessions in the VM (`lima_claim`);
        False only for the claim's own access to another session's workspace.
        """
        self.project = project
        self.root = root
        self.name = instance_name(project)
        self.limactl = limactl or Limactl()
        self.start_timeout = start_timeout
        self.proxy_port: int | None = None  # fixed by `egress_port`
        self._status: str | None = None
        self._state: LoadedState | None = None
        self._spawned: dict[str, asyncio.subprocess.Process] = {}  # by kill token
        self._shared = shared

    @property
    def kind(self) -> str:
        return "lima"

    @property
    def label(self) -> str:
        return f"lima: {self.name} ({self._status})" if self._status else f"lima: {self.name}"

    async def egress_port(self) -> int:
        """The host port the guest may reach: the session's proxy must listen on it."""
        if self.proxy_port is None:
            with self._lima_errors():
                instances = await self.limactl.instances()
            self.proxy_port = choose_port(self.name, instances, self.project.allow_dns)
        return self.proxy_port

    async def start(self, on_progress: OnProgress | None = None) -> None:
        """Create the instance if missing (sized from the project), boot it if stopped;
        either way with this session's egress params."""

        def report(event: StartProgress) -> None:
            if on_progress is not None:
                on_progress(event.line())

        params = lima_params(await self.egress_port(), self.project.allow_dns)
        vm = self.project.vm
        with self._lima_errors():
            instance = await self.limactl.instance(self.name)
            if instance is None:
                template = render_template(
                    cpus=vm.cpus, memory=vm.memory, disk=vm.disk, params=params
                )
                await self.limactl.ensure_running(
                    self.name, template, on_progress=report, timeout=self.start_timeout
                )
            elif instance.broken:
                raise InstanceBroken(self.name, instance.errors)
            elif not instance.running:
                declared_params(instance)
                await self.limactl.start(
                    self.name,
                    sets=param_sets(params),
                    on_progress=report,
                    timeout=self.start_timeout,
                )
        self._status = "Running"

    async def exec(
        self,
        command: str | Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        stdin: bytes | None = None,
        on_output: OnOutput | None = None,
    ) -> ExecResult:
        """Run `command` in `/workspace` (a str under `bash -c`) with only `env` added."""
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        _check_command(argv, env)
        token = secrets.token_hex(8)
        try:
            async with self._workspace():
                with self._lima_errors():
                    result = await self.limactl.shell(
                        self.name,
                        exec_argv(token, argv, self._env(env), timeout),
                        workdir=WORKSPACE,
                        stdin=stdin,
                        timeout=timeout,
                        on_output=on_output,
                    )
        except asyncio.CancelledError:
            await asyncio.shield(self._kill(token))
            raise
        if result.timed_out:
            await self._kill(token)
        return result

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        """A command's environment: the proxy variables (once the port is known), then `env`."""
        proxy = proxy_env(self.proxy_port, HOST_ADDRESS) if self.proxy_port is not None else {}
        return {**proxy, **(env or {})}

    async def _kill(self, token: str) -> None:
        """Stop a command (and all it started) in the guest; best effort."""
        with contextlib.suppress(LimaError):
            await self.limactl.shell(self.name, sh(KILL, token), timeout=KILL_TIMEOUT)

    async def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stderr: int = asyncio.subprocess.PIPE,
    ) -> asyncio.subprocess.Process:
        """Start a long-lived process (e.g. an MCP stdio server) in `/workspace`, its stdin
        and stdout piped through `limactl shell`; `close` stops it in the guest too."""
        _check_command(argv, env)
        token = secrets.token_hex(8)
        with self._lima_errors():
            limactl = self.limactl.path()
        args = self.limactl.shell_args(
            self.name, exec_argv(token, list(argv), self._env(env), None), WORKSPACE
        )
        async with self._workspace():
            process = await asyncio.create_subprocess_exec(
                limactl,
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=self.limactl.env,
                start_new_session=True,
            )
        self._spawned[token] = process
        return process

    async def load(self, baseline: Manifest, store: ObjectStore) -> None:
        """Empty `/workspace` and unpack the baseline into it, as one tar stream."""
        async with self._workspace(loading=True):
            await self._load(baseline, store)
        forget_parked(self.root)

    async def _load(self, baseline: Manifest, store: ObjectStore) -> None:
        stream = tar_stream(tree_members(baseline, store))
        out = await self._script("load the project into", LOAD, stdin=stream)
        words = out.split()
        stamp = words[-1].decode("ascii", "replace") if words else ""
        if not re.fullmatch(r"\d+(\.\d+)?", stamp):
            raise SandboxError(f"unexpected answer from the Lima sandbox after loading: {out!r}")
        self._state = LoadedState(instance=self.name, loaded_at=stamp, manifest=baseline)
        data = self._state.model_dump_json().encode("utf-8")
        await asyncio.to_thread(write_atomic, self.root / STATE_FILE, data)

    def _loaded(self) -> LoadedState | None:
        """The last load's state, from memory or from the session folder (after a resume)."""
        if self._state is None:
            with contextlib.suppress(OSError, ValidationError):
                state = LoadedState.model_validate_json((self.root / STATE_FILE).read_bytes())
                self._state = state if state.instance == self.name else None
        return self._state

    async def holds_copy(self) -> bool:
        state = self._loaded()
        try:
            async with self._workspace():
                await self._script("check", HOLDS, state.loaded_at if state else "0")
        except WorkspaceLost:
            return False
        return True

    async def scan(self) -> Manifest:
        """One guest-side pass; only files changed since `load` are hashed there."""
        async with self._workspace():
            return await self._scan()

    async def _scan(self) -> Manifest:
        state = self._loaded()
        loaded_at = state.loaded_at if state else "0"
        out = await self._script("scan", SCAN, loaded_at)
        found = parse_scan(out, state.manifest if state else {}, time_ns(loaded_at.encode()))
        manifest = found.manifest
        if found.unhashed:
            hashed = parse_hashes(
                await self._script("hash files in", HASH, stdin=_path_list(found.unhashed))
            )
            for path in found.unhashed:
                if path in hashed:
                    manifest[path] = replace(manifest[path], digest=hashed[path])
                else:
                    del manifest[path]  # unreadable, as the bubblewrap scan leaves it out
        return manifest

    async def read(self, paths: Sequence[str]) -> dict[str, bytes]:
        """Regular files of `/workspace`, as one tar stream; anything else is an error."""
        _check_paths(paths, "read")
        if not paths:
            return {}
        async with self._workspace():
            out = await self._script("read files from", READ, stdin=_path_list(paths))
        files = read_files(out)
        for path in paths:
            if path not in files:
                raise SandboxError(
                    f"cannot read {path} from the sandbox: missing, or not a regular file"
                )
        return {path: files[path] for path in paths}

    async def write(self, files: Mapping[str, bytes]) -> None:
        """Replace or create regular files (an existing file keeps its mode, new ones 0644)."""
        _check_paths(list(files), "write")
        plan: list[str] = []
        staged: dict[int, Staged] = {}
        for index, (path, data) in enumerate(files.items()):
            plan.append(f"W{index}/{path}")
            staged[index] = (file_info(), _bytes_opener(data))
        await self._apply("write files in", plan, staged, stamp_now=True)

    async def revert(self, entries: Mapping[str, Entry | None], store: ObjectStore) -> None:
        """Put paths back as their baseline entries (None: remove, with any subtree)."""
        _check_paths(list(entries), "revert")
        removed = [path for path, entry in entries.items() if entry is None]
        plan = [f"D/{path}" for path in sorted(removed, key=_depth, reverse=True)]
        placed: list[str] = []
        folders: list[str] = []
        staged: dict[int, Staged] = {}
        for index, path in enumerate(sorted(set(entries) - set(removed))):
            entry = entries[path]
            assert entry is not None
            mode = f"{entry.mode & PERMISSIONS:o}"
            if entry.type is EntryType.DIR:
                folders.append(f"M{mode}/{path}")
            elif entry.type is EntryType.OTHER:
                if entry.special == "fifo":  # sockets and devices are never recreated
                    placed.append(f"P{mode}/{path}")
            else:
                info = tar_info(path, entry)
                assert info is not None
                opener = blob(store, entry, path) if entry.type is EntryType.FILE else None
                staged[index] = (info, opener)
                placed.append(f"R{index}/{path}")
        # Folder modes last, deepest first: a read-only folder must still take its children.
        plan += placed + sorted(folders, key=lambda op: _depth(op.split("/", 1)[1]), reverse=True)
        await self._apply("revert files in", plan, staged, stamp_now=False)

    async def _apply(
        self, what: str, plan: list[str], staged: dict[int, Staged], *, stamp_now: bool
    ) -> None:
        if plan:
            stream = tar_stream(plan_members(plan, staged))
            async with self._workspace():
                await self._script(what, APPLY, APPLY_ONE, "-m" if stamp_now else "", stdin=stream)

    @contextlib.asynccontextmanager
    async def _workspace(self, loading: bool = False) -> AsyncIterator[None]:
        """Hold the VM's workspace for one operation, parking another session's if needed."""
        if not self._shared:
            yield
            return
        async with instance_lock(self.name):
            current = holder(self.name)
            if current != str(self.root):
                if current is not None and Path(current).is_dir():
                    other = LimaSandbox(
                        self.project, Path(current), limactl=self.limactl, shared=False
                    )
                    if other._loaded() is not None:
                        await park(other)
                if not loading:
                    await self._unpark()
                set_holder(self.name, self.root)
            yield

    async def _unpark(self) -> None:
        tree = parked(self.root)
        if tree is not None:
            await self._load(tree, claim_store())
            forget_parked(self.root)
        elif self._loaded() is not None:
            raise SandboxError(
                f"this session's workspace in {self.name} was replaced and cannot be restored",
                hint="start a new session",
            )

    async def close(self) -> None:
        """Stop spawned processes still running (in the guest too); the VM keeps running."""
        spawned, self._spawned = self._spawned, {}
        for token, process in spawned.items():
            if process.returncode is None:
                kill_group(process)
                await self._kill(token)
                await process.wait()

    async def _script(
        self, what: str, script: str, *args: str, stdin: Iterator[bytes] | bytes | None = None
    ) -> bytes:
        """Run a guest script; its whole stdout (a failure is a `SandboxError`)."""
        out = bytearray()

        def collect(stream: str, chunk: bytes) -> None:
            if stream == "stdout":
                out.extend(chunk)

        with self._lima_errors():
            result = await self.limactl.shell(
                self.name,
                sh(script, *args),
                stdin=stdin,
                timeout=SCRIPT_TIMEOUT,
                on_output=collect,
                capture_limit=64 * 1024,
            )
        if result.timed_out:
            raise SandboxError(f"could not {what} the Lima sandbox within {SCRIPT_TIMEOUT:g} s")
        if result.exit_code == LOST_EXIT and script.startswith(HOLDS):
            raise WorkspaceLost(
                f"the VM {self.name} no longer holds this session's copy of the project"
            )
        if result.exit_code != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = lines[-1] if lines else f"exit code {result.exit_code}"
            raise SandboxError(f"could not {what} the Lima sandbox: {detail}")
        return bytes(out)

    @contextlib.contextmanager
    def _lima_errors(self) -> Iterator[None]:
        """Lima's errors as the sandbox's (the engine and the agent know only those)."""
        try:
            yield
        except LimaError as exc:
            if isinstance(exc, InstanceNotRunning):
                self._status = "Stopped"
            raise SandboxError(exc.detail, hint=exc.hint) from exc


def _check_command(argv: Sequence[str], env: Mapping[str, str] | None) -> None:
    if not argv:
        raise SandboxError("empty command")
    bad = [key for key in env or {} if not ENV_NAME.match(key)]
    if bad:
        raise SandboxError(f"invalid environment variable name {bad[0]!r}")


def _check_paths(paths: Sequence[str], verb: str) -> None:
    for path in paths:
        try:
            rel_parts(path)
        except UnsafePathError as exc:
            raise SandboxError(f"cannot {verb} {path!r} in the sandbox: {exc.message}") from exc


def _path_list(paths: Sequence[str]) -> bytes:
    """NUL-separated `./path` names (never read as options by the guest tools)."""
    return b"".join(b"./" + os.fsencode(path) + b"\0" for path in paths)


def _depth(path: str) -> int:
    return path.count("/")


def _bytes_opener(data: bytes) -> Opener:
    return lambda: io.BytesIO(data)
