"""A strict parser for the YAML subset Lima templates use (stdlib only; PyYAML is no dependency).

Supported: block mappings and sequences (a sequence may sit at its key's indent),
`- key: value` items, plain / single- / double-quoted scalars, ints, floats, booleans,
null, flow `[a, b]` / `{k: v}` without nesting, `|` / `|-` literal blocks, comments.
Anything else raises `YamlError`, so a template that drifts outside the subset fails
the tests instead of being half-read.
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[A-Za-z0-9_][A-Za-z0-9_.\-/]*):(?:[ \t]+(.*))?$""")
_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$")


class YamlError(ValueError):
    """The text is not in the supported subset."""


def loads(text: str) -> Any:
    """Parse one YAML document."""
    parser = _Parser(text.splitlines())
    if parser.peek() is None:
        return None
    value = parser.node(0)
    if parser.peek() is not None:
        raise YamlError(f"line {parser.index + 1}: unexpected indentation")
    return value


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.index = 0

    def peek(self) -> tuple[int, str] | None:
        """(indent, content) of the next line that is not blank or a comment."""
        while self.index < len(self.lines):
            raw = self.lines[self.index]
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise YamlError(f"line {self.index + 1}: tab in indentation")
            content = raw.strip()
            if content and not content.startswith("#"):
                return len(raw) - len(raw.lstrip(" ")), content
            self.index += 1
        return None

    def node(self, indent: int) -> Any:
        found = self.peek()
        if found is None or found[0] < indent:
            return None
        at, content = found
        if content == "-" or content.startswith("- "):
            return self.sequence(at)
        if _KEY.match(content):
            return self.mapping(at)
        raise YamlError(f"line {self.index + 1}: expected a mapping or a sequence")

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while (found := self.peek()) is not None and found[0] == indent:
            match = _KEY.match(found[1])
            if match is None:
                raise YamlError(f"line {self.index + 1}: expected `key: value`")
            key = _unquote_key(match.group(1))
            if key in result:
                raise YamlError(f"line {self.index + 1}: duplicate key {key!r}")
            rest = (match.group(2) or "").strip()
            self.index += 1
            result[key] = self.value_after_key(indent, rest)
        if found is not None and found[0] > indent:
            raise YamlError(f"line {self.index + 1}: unexpected indentation")
        return result

    def value_after_key(self, indent: int, rest: str) -> Any:
        if rest in ("|", "|-"):
            return self.literal(indent, keep_newline=rest == "|")
        if rest and not rest.startswith("#"):
            return scalar(rest, self.index)
        following = self.peek()
        if following is None:
            return None
        if following[0] > indent:
            return self.node(indent + 1)
        is_item = following[1] == "-" or following[1].startswith("- ")
        return self.sequence(indent) if following[0] == indent and is_item else None

    def sequence(self, indent: int) -> list[Any]:
        result: list[Any] = []
        while (found := self.peek()) is not None and found[0] == indent:
            content = found[1]
            if not (content == "-" or content.startswith("- ")):
                break
            rest = content[1:].strip()
            if not rest:
                self.index += 1
                result.append(self.node(indent + 1))
            elif _KEY.match(rest):
                # `- key: value` opens a mapping whose keys sit two columns in.
                self.lines[self.index] = " " * (indent + 2) + rest
                result.append(self.mapping(indent + 2))
            else:
                self.index += 1
                result.append(scalar(rest, self.index))
        return result

    def literal(self, indent: int, keep_newline: bool) -> str:
        body: list[str] = []
        block_indent: int | None = None
        while self.index < len(self.lines):
            raw = self.lines[self.index]
            if raw.strip():
                current = len(raw) - len(raw.lstrip(" "))
                if current <= indent:
                    break
                block_indent = current if block_indent is None else block_indent
                if current < block_indent:
                    raise YamlError(f"line {self.index + 1}: literal block dedented")
                body.append(raw[block_indent:])
            else:
                body.append("")
            self.index += 1
        while body and not body[-1]:
            body.pop()
        text = "\n".join(body)
        return text + "\n" if keep_newline and text else text


def scalar(text: str, line: int = 0) -> Any:
    """One inline value."""
    if text.startswith('"'):
        end = _closing_double_quote(text)
        _only_comment_after(text[end + 1 :], line)
        try:
            return json.loads(text[: end + 1])
        except ValueError as exc:
            raise YamlError(f"line {line}: unsupported escape in {text!r}") from exc
    if text.startswith("'"):
        end = text.find("'", 1)
        while end != -1 and text[end + 1 : end + 2] == "'":
            end = text.find("'", end + 2)
        if end == -1:
            raise YamlError(f"line {line}: unterminated string")
        _only_comment_after(text[end + 1 :], line)
        return text[1:end].replace("''", "'")
    plain = re.split(r"\s+#", text, maxsplit=1)[0].strip()
    if plain.startswith(("[", "{")):
        return _flow(plain, line)
    if plain[:1] in ("&", "*", "!", "%", "@", "`", ">", "|"):
        raise YamlError(f"line {line}: unsupported YAML syntax {plain!r}")
    return _plain(plain)


def _closing_double_quote(text: str) -> int:
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    raise YamlError(f"unterminated string {text!r}")


def _only_comment_after(rest: str, line: int) -> None:
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise YamlError(f"line {line}: unexpected text after a quoted string: {rest!r}")


def _flow(text: str, line: int) -> Any:
    opening, closing = text[0], {"[": "]", "{": "}"}[text[0]]
    if not text.endswith(closing):
        raise YamlError(f"line {line}: unterminated flow collection {text!r}")
    inner = text[1:-1].strip()
    if any(char in inner for char in "[]{}"):
        raise YamlError(f"line {line}: nested flow collections are not supported")
    items = [item.strip() for item in inner.split(",")] if inner else []
    if opening == "[":
        return [scalar(item, line) for item in items]
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition(":")
        if not sep:
            raise YamlError(f"line {line}: expected `key: value` in {text!r}")
        result[_unquote_key(key.strip())] = scalar(value.strip(), line) if value.strip() else None
    return result


def _plain(text: str) -> Any:
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _unquote_key(key: str) -> str:
    if key[:1] in ("'", '"'):
        return str(scalar(key))
    return key
