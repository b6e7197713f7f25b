"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def code_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)


def test_readme_opens_with_the_two_setup_commands() -> None:
    first, second = code_blocks()[:2]
    assert "\n" not in first and "\n" not in second
    assert first.endswith("airlock demo")
    assert "pytest" in second


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_command = code_blocks()[1]
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()
