"""Helpers for the review tests: real trees on disk, and a gate over a real bwrap sandbox."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from airlock.review.gate import ReviewGate
from airlock.review.store import ObjectStore
from airlock.sandbox.bwrap import BwrapSandbox

# path -> (kind, content or link target, permission bits): what a user could observe.
Tree = dict[str, tuple[str, bytes | str | None, int]]

needs_bwrap = pytest.mark.skipif(
    not Path("/usr/bin/bwrap").exists(), reason="bubblewrap is not installed"
)


def tree_state(root: Path) -> Tree:
    """Every path below `root`, read without following any symlink."""
    found: Tree = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("symlink", os.readlink(path), 0)
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("dir", None, mode)
            elif stat.S_ISREG(info.st_mode):
                found[rel] = ("file", path.read_bytes(), mode)
            else:
                found[rel] = ("other", None, mode)
    return found


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    """Create files (and their folders) below `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)


def numbered(count: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {n}\n" for n in range(1, count + 1))


@dataclass
class GateEnv:
    """A project folder, its sandbox and its gate, all under one temp folder."""

    base: Path
    project: Path
    store: ObjectStore
    sandbox: BwrapSandbox
    gate: ReviewGate

    @classmethod
    async def create(
        cls,
        base: Path,
        files: dict[str, str | bytes],
        links: dict[str, str] | None = None,
        modes: dict[str, int] | None = None,
    ) -> GateEnv:
        """The project holds `files`, `links` (path -> target) and `modes` at session start."""
        project = base / "project"
        project.mkdir(parents=True)
        write_tree(project, files)
        for path, target in (links or {}).items():
            os.symlink(target, project / path)
        for path, mode in (modes or {}).items():
            os.chmod(project / path, mode)
        store = ObjectStore(base / "objects")
        sandbox = BwrapSandbox(base / "sandbox")
        await sandbox.start()
        gate = cls.open_gate(base, project, store, sandbox)
        await sandbox.load(gate.baseline, store)
        return cls(base, project, store, sandbox, gate)

    @staticmethod
    def open_gate(
        base: Path, project: Path, store: ObjectStore, sandbox: BwrapSandbox
    ) -> ReviewGate:
        return ReviewGate(
            project,
            sandbox,
            store,
            base / "session",
            base / "journal.jsonl",
            snapshot_cache=base / "snapshot.json",
        )

    def reopen(self) -> ReviewGate:
        """A new gate on the same session state, as after a restart."""
        self.gate = self.open_gate(self.base, self.project, self.store, self.sandbox)
        return self.gate

    async def run(self, command: str) -> None:
        result = await self.sandbox.exec(command)
        assert result.exit_code == 0, result.stderr.decode(errors="replace")

    def sandbox_bytes(self, rel: str) -> bytes:
        return (self.sandbox.workspace / rel).read_bytes()
