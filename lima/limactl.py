"""Async driver of the `limactl` CLI (Lima v2.x), as a subprocess caller sees it.

Every call runs `limactl` in its own process group (`lima.process.run_process`),
so a timeout or a cancelled task kills it. Failures become typed `LimaError`s
carrying limactl's own `level=fatal` message.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from lima.errors import (
    InstanceBroken,
    InstanceExists,
    InstanceNotFound,
    InstanceNotRunning,
    LimactlFailed,
    LimactlNotFound,
    LimactlRefusesRoot,
    LimactlTimeout,
    LimaError,
    StartFailed,
)
from lima.logline import QUOTED, LogLine, fatal_message, parse_log, parse_log_line
from lima.models import Instance, parse_list_json
from lima.process import OnOutput, ProcessResult, run_process
from lima.progress import ProgressParser, StartProgress, split_hint

OnProgress = Callable[[StartProgress], None]

ROOT_REFUSAL = "must not run as the root user"
DEFAULT_START_TIMEOUT = 600.0  # limactl's own default (`--timeout 10m`)
LOG_TAIL = 8
_HAS_ERRORS = re.compile(rf"instance {QUOTED} has errors")


class LineSplitter:
    """Cut a stream of chunks into complete text lines."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def flush(self) -> list[str]:
        rest, self.pending = self.pending, b""
        return [rest.decode("utf-8", "replace")] if rest.strip() else []


class Limactl:
    """One `limactl` executable (found on PATH when called, so PATH changes are honoured)."""

    def __init__(self, executable: str = "limactl", env: Mapping[str, str] | None = None) -> None:
        self.executable = executable
        self.env = env

    def path(self) -> str:
        """Absolute path of limactl, or `LimactlNotFound`."""
        found = shutil.which(self.executable)
        if found is None:
            raise LimactlNotFound(self.executable)
        return found

    # -- plumbing ---------------------------------------------------------

    async def run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | Iterable[bytes] | None = None,
        timeout: float | None = None,
        on_output: OnOutput | None = None,
        capture_limit: int = 1 << 20,
    ) -> ProcessResult:
        """Run `limactl ARGS…` and return how it ended (a non-zero exit is not an error here,
        a timeout is: the process group has been killed)."""
        result = await self._spawn(args, stdin, timeout, on_output, capture_limit)
        if result.timed_out:
            raise LimactlTimeout(list(args), timeout or 0)
        return result

    async def _spawn(
        self,
        args: Sequence[str],
        stdin: bytes | Iterable[bytes] | None,
        timeout: float | None,
        on_output: OnOutput | None,
        capture_limit: int,
    ) -> ProcessResult:
        result = await run_process(
            [self.path(), *args],
            stdin=stdin,
            env=self.env,
            timeout=timeout,
            on_output=on_output,
            capture_limit=capture_limit,
        )
        if result.exit_code == 1 and ROOT_REFUSAL in result.stderr.decode("utf-8", "replace"):
            raise LimactlRefusesRoot()
        return result

    async def check(self, args: Sequence[str], *, timeout: float | None = None) -> ProcessResult:
        """`run`, raising a typed error on a non-zero exit."""
        result = await self.run(args, timeout=timeout)
        if result.exit_code != 0:
            raise self.error(args, result)
        return result

    def error(self, args: Sequence[str], result: ProcessResult) -> LimaError:
        """The typed error for a failed call, from limactl's `level=fatal` line."""
        lines = parse_log(result.stderr.decode("utf-8", "replace"))
        message = fatal_message(lines) or (lines[-1].msg if lines else "")
        name = _instance_arg(args)
        return known_error(message, name) or LimactlFailed(list(args), result.exit_code, message)

    # -- commands ---------------------------------------------------------

    async def version(self) -> str:
        """The version limactl reports (`2.2.0`, without a leading `v`)."""
        result = await self.check(["--version"], timeout=30)
        text = result.stdout.decode("utf-8", "replace").strip()
        return text.rsplit(" ", 1)[-1].removeprefix("v")

    async def instances(self) -> list[Instance]:
        """Every instance, sorted by name, with the error texts limactl logs for broken ones."""
        result = await self.check(["list", "--json"], timeout=60)
        instances = parse_list_json(result.stdout.decode("utf-8", "replace"))
        problems: dict[str, list[str]] = {}
        for line in parse_log(result.stderr.decode("utf-8", "replace")):
            found = _HAS_ERRORS.search(line.msg)
            if found and "errors" in line.fields:
                problems[found[1]] = [line.fields["errors"].strip("[]")]
        return [
            instance.model_copy(update={"errors": problems[instance.name]})
            if instance.name in problems
            else instance
            for instance in instances
        ]

    async def instance(self, name: str) -> Instance | None:
        """The instance called `name`, or None."""
        return next((item for item in await self.instances() if item.name == name), None)

    async def create(
        self,
        name: str,
        template: str | Path,
        *,
        sets: Sequence[str] = (),
        on_progress: OnProgress | None = None,
    ) -> None:
        """`limactl create --name NAME TEMPLATE` (a file path or `template:NAME`)."""
        args = ["create", "--tty=false", f"--name={name}", *_set_flags(sets), str(template)]
        await self._boot(name, args, on_progress, timeout=DEFAULT_START_TIMEOUT)

    async def start(
        self,
        name: str,
        *,
        template: str | Path | None = None,
        sets: Sequence[str] = (),
        on_progress: OnProgress | None = None,
        timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        """Boot `name` and wait for READY; with `template`, create it first."""
        args = ["start", "--tty=false", f"--timeout={max(int(timeout), 1)}s", *_set_flags(sets)]
        args += [f"--name={name}", str(template)] if template is not None else [name]
        # limactl enforces --timeout itself; ours only catches a limactl that hangs.
        await self._boot(name, args, on_progress, timeout=timeout + 60)

    async def _boot(
        self, name: str, args: list[str], on_progress: OnProgress | None, timeout: float
    ) -> None:
        parser = ProgressParser()
        splitter = LineSplitter()
        log: list[LogLine] = []

        def take(lines: list[str]) -> None:
            for text in lines:
                if not text.strip():
                    continue
                line = parse_log_line(text)
                log.append(line)
                event = parser.feed(line)
                if event is not None and on_progress is not None:
                    on_progress(event)

        def on_output(stream: str, chunk: bytes) -> None:
            if stream == "stderr":
                take(splitter.feed(chunk))

        result = await self.run(args, timeout=timeout, on_output=on_output)
        take(splitter.flush())
        if result.exit_code == 0:
            return
        reason = fatal_message(log) or (log[-1].msg if log else f"exit code {result.exit_code}")
        known = known_error(reason, name)
        if isinstance(known, InstanceExists | InstanceBroken | InstanceNotFound):
            raise known
        message, hint = split_hint(reason)
        if "running` status" in reason:
            hint = f"the VM may still be running: stop it with `limactl stop -f {name}`"
        raise StartFailed(name, message, [line.text for line in log[-LOG_TAIL:]], hint)

    async def ensure_running(
        self,
        name: str,
        template_yaml: str,
        *,
        on_progress: OnProgress | None = None,
        timeout: float = DEFAULT_START_TIMEOUT,
    ) -> bool:
        """Start `name`, creating it from `template_yaml` if it does not exist.

        Returns whether it was created. A Broken instance is an error: starting it
        would fail anyway, and the user should see why.
        """
        instance = await self.instance(name)
        if instance is not None and instance.broken:
            raise InstanceBroken(name, instance.errors)
        if instance is not None and instance.running:
            return False
        if instance is not None:
            await self.start(name, on_progress=on_progress, timeout=timeout)
            return False
        with tempfile.TemporaryDirectory(prefix="lima-template-") as folder:
            template = Path(folder) / f"{name}.yaml"
            template.write_text(template_yaml, encoding="utf-8")
            await self.start(name, template=template, on_progress=on_progress, timeout=timeout)
        return True

    async def stop(self, name: str, *, force: bool = False) -> None:
        """`limactl stop [-f] NAME` (graceful stops take a few seconds)."""
        await self.check(["stop", *(["-f"] if force else []), name], timeout=240)

    async def delete(self, name: str, *, force: bool = False) -> None:
        """`limactl delete [-f] NAME`; without force the instance must be stopped."""
        await self.check(["delete", *(["-f"] if force else []), name], timeout=240)

    def shell_args(
        self, name: str, argv: Sequence[str] = (), workdir: str | None = None
    ) -> list[str]:
        """Arguments of `limactl shell` (flags must come before the instance name)."""
        flags = ["--workdir", workdir] if workdir else []
        return ["shell", *flags, name, *(["--", *argv] if argv else [])]

    async def shell(
        self,
        name: str,
        argv: Sequence[str],
        *,
        workdir: str | None = None,
        stdin: bytes | Iterable[bytes] | None = None,
        timeout: float | None = None,
        on_output: OnOutput | None = None,
        capture_limit: int = 1 << 20,
    ) -> ProcessResult:
        """Run `argv` in the guest; the result carries the command's own exit code.

        limactl's own refusals (instance missing or stopped) raise instead. A timeout
        returns `timed_out` (exit 124) like `run_process`: the local process group is
        killed, but the remote command is not (see limactl.md §3) — callers clean up.
        """
        args = self.shell_args(name, argv, workdir)
        result = await self._spawn(args, stdin, timeout, on_output, capture_limit)
        if result.exit_code == 1:
            refusal = _limactl_refusal(result.stderr, name)
            if refusal is not None:
                raise refusal
        return result

    async def copy(self, sources: Sequence[str], target: str, *, recursive: bool = False) -> None:
        """`limactl copy [-r] SRC… DST`; guest paths are written `INSTANCE:/path`."""
        await self.check(["copy", *(["-r"] if recursive else []), *sources, target], timeout=None)


def known_error(message: str, name: str | None) -> LimaError | None:
    """A typed error for limactl's fatal messages that mean something to a user."""
    if ROOT_REFUSAL in message:
        return LimactlRefusesRoot()
    if found := re.search(rf"instance {QUOTED} does not exist", message):
        return InstanceNotFound(found[1])
    if name and ("unmatched instances" in message or re.search(r"open \S*lima\.yaml", message)):
        return InstanceNotFound(name)
    if found := re.search(rf"instance {QUOTED} is stopped", message):
        return InstanceNotRunning(found[1])
    if found := re.search(rf"instance {QUOTED} already exists", message):
        return InstanceExists(found[1])
    if name and "got `Broken`" in message:
        return InstanceBroken(name, [])
    if name and (found := re.search(r"errors inspecting instance: \[(.*)\]", message)):
        return InstanceBroken(name, [found[1]])
    if name and "expected status `Stopped`, got `Running`" in message:
        return LimaError(
            f"Lima instance {name!r} is running", "stop it first, or delete it with --force"
        )
    return None


def _limactl_refusal(stderr: bytes, name: str) -> LimaError | None:
    """limactl's own failure of a `shell` call (its last stderr line is a fatal log line)."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return None
    line = parse_log_line(lines[-1])
    if line.level != "fatal":
        return None
    return known_error(line.msg, name) or LimaError(f"limactl shell {name}: {line.msg}")


def _instance_arg(args: Sequence[str]) -> str | None:
    """The instance a command was about: its last positional argument."""
    positional = [arg for arg in args[1:] if not arg.startswith("-")]
    return positional[-1] if positional else None


def _set_flags(sets: Sequence[str]) -> list[str]:
    return [f"--set={expression}" for expression in sets]
