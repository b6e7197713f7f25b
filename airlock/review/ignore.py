"""`.airlockignore`: gitignore-style rules for what never enters the sandbox or the review.

Supported: comments, blank lines, `!` negation, trailing `/` (directories only),
leading or inner `/` (anchored to the project root), `*`, `?`, `[...]` and `**`.
As in git, a file inside an ignored directory cannot be re-included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILE = ".airlockignore"
DEFAULT_PATTERNS = (".git/",)


@dataclass(frozen=True, slots=True)
class Rule:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _translate(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = glob[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        elif char == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def parse_rule(line: str) -> Rule | None:
    """One line of an ignore file, or None for blanks and comments."""
    line = line.rstrip("\n").rstrip()
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    prefix = "" if anchored else "(?:.*/)?"
    return Rule(re.compile(f"^{prefix}{_translate(line)}$"), negated, dir_only)


class IgnoreRules:
    """An ordered rule list; the last matching rule decides."""

    def __init__(self, lines: list[str] | tuple[str, ...] = ()) -> None:
        parsed = (parse_rule(line) for line in (*DEFAULT_PATTERNS, *lines))
        self.rules = [rule for rule in parsed if rule is not None]
        self._dirs: dict[str, bool] = {}  # directory -> excluded (it or a parent ignored)

    @classmethod
    def for_project(cls, root: Path) -> IgnoreRules:
        """The defaults plus the project's `.airlockignore`, if it has one."""
        path = root / IGNORE_FILE
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            text = ""
        return cls(text.splitlines())

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether `path` (relative, POSIX) is ignored; its parents are checked by the walker."""
        result = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(path):
                result = not rule.negated
        return result

    def excludes(self, path: str, is_dir: bool) -> bool:
        """Whether `path` or any of its parent directories is ignored."""
        parent = path.rpartition("/")[0]
        return (bool(parent) and self._excluded_dir(parent)) or self.ignored(path, is_dir)

    def _excluded_dir(self, path: str) -> bool:
        known = self._dirs.get(path)
        if known is None:
            known = self._dirs[path] = self.excludes(path, True)
        return known
