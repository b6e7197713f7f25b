"""Syntax highlighting of single diff lines, by file type, cached per line text.

Lines are highlighted one at a time (only the visible ones are ever asked for), so a
construct spanning lines, such as a docstring, is coloured as its lines allow. The
lexer is made once per file: making one per line would cost more than the lexing.
"""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from textual.cache import LRUCache
from textual.content import Content, Span
from textual.highlight import HighlightTheme

from airlock.sanitize import sanitize

TAB_SIZE = 4
CACHE_LINES = 4096
# Bidirectional controls can make code read differently from what it does ("Trojan
# Source"), and line separators would break a row in two: show them as visible marks.
INVISIBLE = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), "�")
INVISIBLE.update(dict.fromkeys(map(ord, "\u2028\u2029"), " "))


def clean_line(text: str) -> str:
    """A line of untrusted file text made safe and single-line for the screen."""
    return sanitize(text).translate(INVISIBLE).expandtabs(TAB_SIZE)


class LineHighlighter:
    """Highlighted `Content` for the lines of one file (Textual's highlight theme)."""

    def __init__(self, path: str) -> None:
        language = Syntax.guess_lexer(path.rpartition("/")[2] or path)
        self.language = None if language == "default" else language
        self._lexer = Syntax("", language, tab_size=TAB_SIZE).lexer if self.language else None
        self._styles: dict[Any, str | None] = {}
        self._cache: LRUCache[str, Content] = LRUCache(CACHE_LINES)

    def line(self, text: str) -> Content:
        """The line, cleaned and highlighted (theme variables resolve when drawn)."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self._highlight(clean_line(text))
            self._cache[text] = cached
        return cached

    def _highlight(self, text: str) -> Content:
        if self._lexer is None:
            return Content(text)
        spans: list[Span] = []
        start = 0
        for token_type, token in self._lexer.get_tokens(text):
            end = min(start + len(token), len(text))
            style = self._style(token_type)
            if style and end > start:
                spans.append(Span(start, end, style))
            start += len(token)
        return Content(text, spans).stylize_before("$text")

    def _style(self, token_type: Any) -> str | None:
        """The theme's style of a token type, or of its nearest parent that has one."""
        if token_type not in self._styles:
            found = token_type
            while found is not None and found not in HighlightTheme.STYLES:
                found = found.parent
            self._styles[token_type] = HighlightTheme.STYLES.get(found) if found else None
        return self._styles[token_type]
