"""Generated project trees: mixed file sizes, deterministic, plus the edits of one agent turn."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

FILES_PER_DIR = 25
DIRS_PER_DIR = 20
WORDS = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "config",
    "value",
    "return",
    "import",
    "self",
    "data",
    "print",
    "result",
    "index",
    "count",
    "update",
    "for",
    "in",
    "if",
    "else",
)


def text_lines(rng: random.Random, count: int) -> list[str]:
    """Source-like lines of words, each ending with a newline."""
    return [" ".join(rng.choices(WORDS, k=rng.randint(2, 10))) + "\n" for _ in range(count)]


def file_size(rng: random.Random) -> int:
    """Mostly small files, some medium, a few large (about 3.5 KB on average)."""
    roll = rng.random()
    if roll < 0.75:
        return rng.randint(100, 2_000)
    if roll < 0.97:
        return rng.randint(2_000, 12_000)
    return rng.randint(12_000, 64_000)


def file_paths(count: int) -> list[str]:
    """`count` paths two folders deep, `FILES_PER_DIR` to a folder."""
    paths = []
    for number in range(count):
        folder = number // FILES_PER_DIR
        top, sub = divmod(folder, DIRS_PER_DIR)
        paths.append(f"pkg{top:03d}/mod{sub:02d}/file{number:06d}.txt")
    return paths


class Content:
    """Slices of one pool of text, so that generating many files stays cheap."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pool = "".join(text_lines(self.rng, 40_000)).encode()

    def next(self, size: int) -> bytes:
        start = self.rng.randrange(0, len(self.pool) - size)
        start = self.pool.find(b"\n", start) + 1
        return self.pool[start : start + size]


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_tree(root: Path, count: int, seed: int = 9) -> list[str]:
    """Create `count` files of mixed sizes below `root`; returns their relative paths."""
    content = Content(seed)
    paths = file_paths(count)
    for rel in paths:
        write_file(root / rel, content.next(file_size(content.rng)))
    return paths


@dataclass(frozen=True)
class Edits:
    """What one agent turn does to a tree: files changed, added and deleted."""

    changed: list[str]
    added: list[str]
    deleted: list[str]

    @classmethod
    def pick(cls, paths: list[str], changed: int, added: int, deleted: int) -> Edits:
        rng = random.Random(len(paths))
        chosen = rng.sample(paths, changed + deleted)
        new = [f"{path.rpartition('/')[0]}/new{n:04d}.txt" for n, path in enumerate(chosen[:added])]
        return cls(changed=chosen[:changed], added=new, deleted=chosen[changed:])

    def apply(self, root: Path, round_: int) -> None:
        """Make the edits (again): changed and added files get content new to this round."""
        for rel in self.changed:
            path = root / rel
            lines = path.read_bytes().splitlines(keepends=True)
            middle = len(lines) // 2
            lines[middle : middle + 1] = [f"edited in round {round_}{'!' * round_}\n".encode()]
            path.write_bytes(b"".join(lines))
        for number, rel in enumerate(self.added):
            (root / rel).write_bytes(f"new file {number}, round {round_}\n".encode() * 20)
        for rel in self.deleted:
            (root / rel).unlink(missing_ok=True)


def tree_bytes(root: Path) -> int:
    """Total size of the regular files below `root`."""
    return sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(root)
        for name in names
    )
