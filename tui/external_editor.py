"""Hand a text to the user's $VISUAL / $EDITOR and take back what they saved."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual.app import App, SuspendNotSupported

from airlock.errors import AirlockError


def edit_in_editor(app: App[object], data: bytes, name: str) -> bytes:
    """`data` as the user saved it from their editor, in a private temp file named like `name`.

    The app is suspended, and its loop blocked, while the editor runs: Textual must not
    draw then (its output queue would fill up). Headless (tests), the editor runs as a
    plain subprocess on the same path.
    """
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "") or ["vi"]
    safe_name = re.sub(r"[^\w.-]", "_", name.rpartition("/")[2])[-80:] or "file"
    with tempfile.TemporaryDirectory(prefix="airlock-edit-") as folder:
        file = Path(folder) / safe_name
        file.write_bytes(data)
        try:
            with contextlib.nullcontext() if app.is_headless else app.suspend():
                stdin = subprocess.DEVNULL if app.is_headless else None
                code = subprocess.run([*editor, str(file)], stdin=stdin, check=False).returncode
        except SuspendNotSupported as exc:
            raise AirlockError("an editor cannot be opened in this terminal") from exc
        except OSError as exc:
            raise AirlockError(f"cannot run the editor {editor[0]!r}: {exc.strerror}") from exc
        if code != 0:
            raise AirlockError(f"the editor exited with status {code}; nothing was changed")
        return file.read_bytes()
