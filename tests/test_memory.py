"""Project memory and instructions from the command line; memory reaches the next session."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.config import load_config
from airlock.demo.messages_server import Reply, Text, ToolUse
from tests.conftest import CliRunner
from tests.scripted_api import ScriptedApi


def test_remembered_notes_reach_the_next_sessions_system_prompt(
    cli: CliRunner, tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    server = scripted_api.serve(
        [
            Reply(blocks=[ToolUse(name="remember", input={"note": "Prefers tabs."})]),
            Reply(blocks=[Text(text="noted")]),
            Reply(blocks=[Text(text="new session")]),
        ]
    )
    project = tmp_path / "proj"
    project.mkdir()
    assert cli("run", project, "--prompt", "remember tabs").code == 0
    assert "Prefers tabs." in cli("memory", project).out
    assert cli("run", project, "--prompt", "hello again").code == 0  # a new session
    assert "Prefers tabs." in server.requests[-1].system_text()
    assert "Prefers tabs." not in server.requests[0].system_text()


def test_memory_is_kept_outside_the_project_folder(cli: CliRunner, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    path = Path(cli("memory", project, "--path").out.strip())
    assert path.name == "AIRLOCK.md" and project not in path.parents
    assert "no memory yet" in cli("memory", project).out


def test_memory_edit_uses_the_editor(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text("#!/bin/sh\necho '- my own note' >> \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    project = tmp_path / "p"
    project.mkdir()
    assert cli("memory", project, "--edit").code == 0
    assert "- my own note" in cli("memory", project).out
    monkeypatch.setenv("EDITOR", str(tmp_path / "missing-editor"))
    assert "set $EDITOR" in cli("memory", project, "--edit").err


def test_project_set_instructions_from_a_file(
    cli: CliRunner, tmp_path: Path, scripted_api: ScriptedApi
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    cli("project", "add", project, "--name", "p")
    instructions = tmp_path / "instructions.md"
    instructions.write_text("Answer in haiku.")
    assert cli("project", "set", "p", "--instructions-file", instructions).code == 0
    assert load_config().projects[0].instructions == "Answer in haiku."
    server = scripted_api.serve([Reply(blocks=[Text(text="ok")])])
    cli("run", project, "--prompt", "hi")
    assert "Answer in haiku." in server.requests[0].system_text()
    assert "cannot read" in cli("project", "set", "p", "--instructions-file", tmp_path / "no").err
    assert "no project named" in cli("project", "set", "nope", "--model", "x").err
