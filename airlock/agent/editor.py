"""`str_replace_based_edit_tool`: view, create and edit files in the sandbox's /workspace."""

from __future__ import annotations

import posixpath
import shlex

from airlock.agent.tools import EditorInput
from airlock.errors import AirlockError
from airlock.sandbox.base import WORKSPACE, Sandbox

MAX_VIEW_CHARS = 64_000
SNIPPET_CONTEXT = 4


class ToolFailure(Exception):
    """A tool call that cannot be done; its message goes back to the model as an error."""


def workspace_path(path: str) -> str:
    """The path relative to /workspace, refusing anything outside it."""
    full = posixpath.normpath(path if path.startswith("/") else posixpath.join(WORKSPACE, path))
    if full == WORKSPACE:
        return ""
    if not full.startswith(WORKSPACE + "/"):
        raise ToolFailure(f"{path}: only paths under {WORKSPACE} can be used")
    return full[len(WORKSPACE) + 1 :]


def numbered(lines: list[str], first: int) -> str:
    return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines, first))


class Editor:
    """The text editor tool over a sandbox (reads and writes go through its protocol)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def run(self, args: EditorInput) -> str:
        rel = workspace_path(args.path)
        if args.command == "view":
            return await self._view(args, rel)
        if not rel:
            raise ToolFailure(f"{args.path} is a directory")
        if args.command == "create":
            if args.file_text is None:
                raise ToolFailure("create needs file_text")
            await self.sandbox.write({rel: args.file_text.encode("utf-8")})
            return f"File created successfully at: {args.path}"
        text = await self._read_text(rel, args.path)
        if args.command == "str_replace":
            return await self._replace(args, rel, text)
        return await self._insert(args, rel, text)

    async def _read_file(self, rel: str) -> bytes | None:
        try:
            found = await self.sandbox.read([rel])
        except (AirlockError, OSError):
            return None
        return found.get(rel)

    async def _read_text(self, rel: str, shown: str) -> str:
        data = await self._read_file(rel)
        if data is None:
            raise ToolFailure(f"{shown}: no such file (or not a regular file)")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ToolFailure(f"{shown} is not UTF-8 text ({len(data)} bytes)") from exc

    async def _view(self, args: EditorInput, rel: str) -> str:
        data = await self._read_file(rel) if rel else None
        if data is None:
            return await self._list_dir(args.path, rel)
        try:
            lines = data.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            return f"{args.path} is a binary file ({len(data)} bytes)"
        first, last = 1, len(lines)
        if args.view_range:
            if len(args.view_range) != 2:
                raise ToolFailure("view_range must be [start, end] (end -1 means to the end)")
            first, last = args.view_range[0], args.view_range[1]
            last = len(lines) if last == -1 else last
            if not 1 <= first <= last <= len(lines):
                raise ToolFailure(f"view_range {args.view_range} is outside lines 1..{len(lines)}")
        shown = numbered(lines[first - 1 : last], first)
        if len(shown) > MAX_VIEW_CHARS:
            shown = shown[:MAX_VIEW_CHARS] + "\n[… file truncated: use view_range to see more …]"
        return shown

    async def _list_dir(self, shown: str, rel: str) -> str:
        target = posixpath.join(WORKSPACE, rel) if rel else WORKSPACE
        script = (
            f"test -d {shlex.quote(target)} || exit 3; "
            f"find {shlex.quote(target)} -maxdepth 2 -not -path '*/.*' | sort | head -n 500"
        )
        result = await self.sandbox.exec(script, timeout=30)
        if result.exit_code == 3:
            raise ToolFailure(f"{shown}: no such file or directory")
        listing = result.stdout.decode("utf-8", errors="replace")
        return f"Files and directories up to 2 levels deep in {shown}:\n{listing}"

    async def _replace(self, args: EditorInput, rel: str, text: str) -> str:
        if not args.old_str:
            raise ToolFailure("str_replace needs a non-empty old_str")
        count = text.count(args.old_str)
        if count == 0:
            raise ToolFailure(
                f"old_str was not found in {args.path}: it must match exactly, "
                "including whitespace and indentation"
            )
        if count > 1:
            lines = [text[:match].count("\n") + 1 for match in _find_all(text, args.old_str)]
            raise ToolFailure(
                f"old_str occurs {count} times in {args.path} (lines {', '.join(map(str, lines))});"
                " include more surrounding text so it is unique"
            )
        start = text.index(args.old_str)
        new_text = text.replace(args.old_str, args.new_str or "", 1)
        await self.sandbox.write({rel: new_text.encode("utf-8")})
        line = text[:start].count("\n")
        return f"The file {args.path} has been edited. {_snippet(new_text, line)}"

    async def _insert(self, args: EditorInput, rel: str, text: str) -> str:
        inserted = args.insert_text if args.insert_text is not None else args.new_str
        if inserted is None or args.insert_line is None:
            raise ToolFailure("insert needs insert_line and new_str")
        lines = text.split("\n")
        if not 0 <= args.insert_line <= len(lines):
            raise ToolFailure(f"insert_line must be between 0 and {len(lines)}")
        new_lines = inserted.split("\n")
        lines[args.insert_line : args.insert_line] = new_lines
        new_text = "\n".join(lines)
        await self.sandbox.write({rel: new_text.encode("utf-8")})
        return f"The file {args.path} has been edited. {_snippet(new_text, args.insert_line)}"


def _find_all(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _snippet(text: str, line: int) -> str:
    lines = text.split("\n")
    first = max(line - SNIPPET_CONTEXT, 0)
    last = min(line + SNIPPET_CONTEXT * 2, len(lines))
    return f"Here is a snippet of the result:\n{numbered(lines[first:last], first + 1)}"
