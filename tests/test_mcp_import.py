"""`airlock mcp import|list|set-policy`: servers from Claude Desktop's config into a project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airlock.config import load_config
from tests.conftest import CliRunner

SAMPLE = Path(__file__).parent / "mcp_servers" / "claude_desktop_config.json"


@pytest.fixture
def project(tmp_path: Path, cli: CliRunner) -> Path:
    folder = tmp_path / "notes"
    (folder / "tools").mkdir(parents=True)
    assert cli("project", "add", folder).code == 0
    return folder


def desktop_config(target: Path, project: Path) -> Path:
    """The sample config, its server script pointing into `project` as a user's would."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(SAMPLE.read_text().replace("PROJECT_DIR", str(project)))
    return target


def servers(project: Path) -> dict[str, dict[str, object]]:
    registered = next(p for p in load_config().projects if p.path == project.resolve())
    return {server.name: server.model_dump() for server in registered.mcp}


def test_import_reports_what_it_imported_what_it_skipped_and_what_to_do(
    cli: CliRunner, project: Path, tmp_path: Path
) -> None:
    source = desktop_config(tmp_path / "claude_desktop_config.json", project)
    result = cli("mcp", "import", "--from", source, "--project", project)
    assert result.code == 0, result.err
    out = result.out
    assert f"imported 5 MCP server(s) into 'notes' from {source}" in out
    assert "  + notes (stdio, policy ask): python3 /workspace/tools/notes_server.py" in out
    assert f"{project}/tools/notes_server.py is the project's copy in the sandbox" in out
    assert "hands these variables to the sandbox: PYTHONPATH" in out
    assert "npx downloads the server when it starts: allow its package registry's host" in out
    assert "/Users/me/Desktop is outside the project: the sandbox cannot see it" in out
    assert f"reached from the host: allow it first (`airlock allow {project.resolve()} " in out
    assert "imported as 'Old-Feed'" in out and "disabled, as it was in Claude Desktop" in out
    assert "ignored cwd (stdio servers start in /workspace)" in out
    assert "  - skipped half: give exactly one of `command` (stdio server) or `url`" in out
    assert "  - skipped socket: unsupported type 'websocket' (stdio, http and sse are)" in out

    saved = servers(project)
    assert saved["notes"]["args"] == ["/workspace/tools/notes_server.py"]
    assert saved["notes"]["env"] == {"PYTHONPATH": "/opt/mcp-sdk"}
    assert saved["remote"]["transport"] == "http"
    assert saved["remote"]["headers"] == {"Authorization": "Bearer not-a-real-token"}
    assert saved["Old-Feed"]["transport"] == "sse" and saved["Old-Feed"]["enabled"] is False
    assert {server["policy"] for server in saved.values()} == {"ask"}


def test_import_reads_claude_desktops_own_file_and_never_overwrites(
    cli: CliRunner, project: Path, airlock_home: Path
) -> None:
    desktop_config(airlock_home / ".config" / "Claude" / "claude_desktop_config.json", project)
    first = cli("mcp", "import", "--project", project, "--only", "notes", "--only", "gone")
    assert first.code == 0, first.err
    assert "imported 1 MCP server(s)" in first.out
    assert "  - skipped gone: not in claude_desktop_config.json" in first.out
    again = cli("mcp", "import", "--project", "notes", "--only", "notes", "--policy", "auto")
    assert "  - skipped notes: the project already has a server named 'notes'" in again.out
    assert list(servers(project)) == ["notes"]
    assert servers(project)["notes"]["policy"] == "ask"


def test_list_and_set_policy(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    assert "no MCP servers in 'notes'" in cli("mcp", "list", project).out
    source = desktop_config(tmp_path / "desktop.json", project)
    cli("mcp", "import", "--from", source, "--project", project, "--only", "notes")
    changed = cli("mcp", "set-policy", project, "notes", "auto")
    assert changed.out == "notes: policy ask → auto\n"
    table = cli("mcp", "list", project).out.splitlines()
    assert table[0].split() == ["NAME", "TRANSPORT", "POLICY", "ENABLED", "COMMAND", "OR", "URL"]
    assert table[1].split()[:5] == ["notes", "stdio", "auto", "yes", "python3"]
    listed = json.loads(cli("mcp", "list", project, "--json").out)
    assert listed[0]["name"] == "notes" and listed[0]["policy"] == "auto"
    missing = cli("mcp", "set-policy", project, "nope", "deny")
    assert missing.code != 0 and "'notes' has no MCP server 'nope'" in missing.err


def test_bad_input_is_one_clear_line(cli: CliRunner, project: Path, tmp_path: Path) -> None:
    missing = cli("mcp", "import", "--from", tmp_path / "none.json", "--project", project)
    assert missing.code != 0 and "no Claude Desktop config at" in missing.err
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": {"a": }')
    bad = cli("mcp", "import", "--from", broken, "--project", project)
    assert "invalid JSON at line 1" in bad.err and "Traceback" not in bad.err
    source = desktop_config(tmp_path / "desktop.json", project)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    unregistered = cli("mcp", "import", "--from", source, "--project", stranger)
    assert "is not a registered project" in unregistered.err
    assert len(unregistered.err.strip().splitlines()) <= 2
