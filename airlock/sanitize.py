"""Neutralise untrusted text before it reaches a terminal.

Agent replies and command output may carry escape sequences (colours at best,
terminal-driving sequences at worst); only printable text, newlines and tabs pass.
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]          # CSI … final byte (colours, cursor moves)
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC … BEL or ST (titles, hyperlinks, clipboard)
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?  # DCS, SOS, PM, APC strings
    | \x1b[ -/]*[0-~]?               # any other escape
    | \x9b[0-?]*[ -/]*[@-~]          # 8-bit CSI
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sanitize(text: str) -> str:
    """Drop escape sequences and control characters, keeping `\\n` and `\\t`."""
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
