"""Done when: a server imported from a Claude Desktop config runs inside the sandbox and the
agent uses its tools, visibly, under the chosen approval policy (`airlock run`, headless)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from airlock.demo.messages_server import Reply, Text, ToolUse
from tests.conftest import CliRunner
from tests.mcp_servers.sandbox import (
    NOTES_SERVER,
    SERVER_ENV,
    give_sessions_the_sdk,
    require_sandbox_python,
)
from tests.scripted_api import ScriptedApi


@pytest.fixture
def project(tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registered project whose folder holds an MCP server, imported from Claude Desktop."""
    require_sandbox_python()
    give_sessions_the_sdk(monkeypatch)
    folder = tmp_path / "notes"
    (folder / "tools").mkdir(parents=True)
    shutil.copy(NOTES_SERVER, folder / "tools" / "notes_server.py")
    desktop = tmp_path / "claude_desktop_config.json"
    server = {"command": "python3", "args": [str(folder / "tools" / "notes_server.py")]}
    desktop.write_text(json.dumps({"mcpServers": {"notes": {**server, "env": SERVER_ENV}}}))
    assert cli("project", "add", folder).code == 0
    imported = cli("mcp", "import", "--from", desktop, "--project", folder)
    assert "  + notes (stdio, policy ask): python3 /workspace/tools/notes_server.py" in imported.out
    return folder


def note_script() -> list[Reply]:
    return [
        Reply(blocks=[ToolUse(name="mcp__notes__add_note", input={"text": "call the plumber"})]),
        Reply(blocks=[ToolUse(name="mcp__notes__whoami", input={})]),
        Reply(blocks=[Text(text="Noted.")]),
    ]


def test_imported_server_runs_in_the_sandbox_and_the_agent_uses_it(
    cli: CliRunner, project: Path, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(note_script())
    result = cli("run", project, "--prompt", "note it", "--sandbox", "bwrap", "--yes-mcp")
    assert result.code == 0, result.err

    tools = {tool["name"] for tool in api.requests[0].body["tools"]}
    assert {"mcp__notes__add_note", "mcp__notes__whoami"} <= tools
    saved = api.requests[1].tool_results()[0]
    assert (saved["content"], saved["is_error"]) == ("saved note in /workspace/notes.txt", False)
    assert api.requests[2].tool_results()[0]["content"].startswith("uid=1000 cwd=/workspace")

    out = result.out
    assert "mcp notes ready (stdio, policy ask): add_note, count_words, whoami" in out
    assert "mcp__notes__add_note {'text': 'call the plumber'}" in out
    assert "1 change(s) pending review:\n  added     notes.txt" in out
    assert not (project / "notes.txt").exists()  # only an approved sync writes the host
    approve = cli("approve", project, "--all")
    assert approve.code == 0, approve.err
    assert (project / "notes.txt").read_text() == "call the plumber\n"


def test_without_yes_mcp_the_ask_policy_refuses_visibly(
    cli: CliRunner, project: Path, scripted_api: ScriptedApi
) -> None:
    api = scripted_api.serve(note_script())
    result = cli("run", project, "--prompt", "note it", "--sandbox", "bwrap")
    assert result.code == 0, result.err
    refusal = api.requests[1].tool_results()[0]
    assert refusal["is_error"] and refusal["content"].startswith(
        "The user did not approve mcp__notes__add_note"
    )
    assert "✗ The user did not approve mcp__notes__add_note" in result.out
    assert "run with --yes-mcp, or use the TUI" in result.out
    assert "no changes pending" in result.out
