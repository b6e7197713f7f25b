"""The headless contract end to end: sandbox exec → changes → diff → approve → undo, and run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airlock.demo.messages_server import Reply, Text, ToolUse
from tests.conftest import CliRunner
from tests.scripted_api import ScriptedApi


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("one\ntwo\nthree\n")
    (folder / "old.txt").write_text("bye\n")
    (folder / "run.sh").write_text("#!/bin/sh\necho hi\n")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_sandbox_exec_leaves_changes_pending_and_host_untouched(
    cli: CliRunner, project: Path
) -> None:
    before = tree(project)
    script = "echo new > new.txt; sed -i s/two/TWO/ keep.txt; rm old.txt; chmod +x run.sh"
    result = cli("sandbox", "exec", project, "--", "sh", "-c", script)
    assert result.code == 0
    assert "4 change(s) pending" in result.err
    assert tree(project) == before
    changes = json.loads(cli("changes", project, "--json").out)
    kinds = {change["path"]: change["kind"] for change in changes}
    assert kinds == {
        "keep.txt": "modified",
        "new.txt": "added",
        "old.txt": "deleted",
        "run.sh": "mode",
    }
    assert all({"path", "kind", "binary", "conflict", "hunks"} <= set(c) for c in changes)


def test_sandbox_exec_passes_the_exit_code_through(cli: CliRunner, project: Path) -> None:
    assert cli("sandbox", "exec", project, "--", "sh", "-c", "exit 7").code == 7
    assert "give a command" in cli("sandbox", "exec", project).err


def test_diff_approve_and_undo_round_trip(cli: CliRunner, project: Path) -> None:
    before = tree(project)
    modes = {p.name: p.stat().st_mode for p in project.iterdir()}
    cli("sandbox", "exec", project, "--", "sh", "-c", "sed -i s/two/TWO/ keep.txt; echo n > n.txt")
    diff = cli("diff", project, "keep.txt").out
    assert "-two" in diff and "+TWO" in diff and "n.txt" not in diff
    approved = cli("approve", project, "keep.txt")
    assert approved.code == 0 and "wrote    keep.txt" in approved.out
    assert (project / "keep.txt").read_text() == "one\nTWO\nthree\n"
    assert not (project / "n.txt").exists()
    remaining = json.loads(cli("changes", project, "--json").out)
    assert [change["path"] for change in remaining] == ["n.txt"]
    assert "sync" in cli("history", project).out
    assert cli("undo", project).code == 0
    assert tree(project) == before
    history = json.loads(cli("history", project, "--json").out)
    (undo,) = [record for record in history if record["action"] == "undo"]
    assert "is an undo, not a sync" in cli("undo", project, undo["id"]).err
    assert {p.name: p.stat().st_mode for p in project.iterdir()} == modes
    # What the undo took back is pending review again.
    paths = {c["path"] for c in json.loads(cli("changes", project, "--json").out)}
    assert paths == {"keep.txt", "n.txt"}


def test_a_move_is_listed_and_approved_as_one(cli: CliRunner, project: Path) -> None:
    cli("sandbox", "exec", project, "--", "sh", "-c", "mkdir old && mv old.txt old/")
    listing = cli("changes", project).out
    assert "old.txt      moved to old/old.txt" in listing
    assert "old/old.txt  moved from old.txt" in listing
    assert "moved to old/old.txt (same content" in cli("diff", project, "old.txt").out
    assert cli("approve", project, "old.txt").code == 0
    assert not (project / "old.txt").exists()
    assert (project / "old/old.txt").is_file()


def test_reject_reverts_in_the_sandbox(cli: CliRunner, project: Path) -> None:
    cli("sandbox", "exec", project, "--", "sh", "-c", "echo x > x.txt; echo y > y.txt")
    result = cli("reject", project, "x.txt", "--reason", "no x please")
    assert result.code == 0
    assert [c["path"] for c in json.loads(cli("changes", project, "--json").out)] == ["y.txt"]
    listing = cli("sandbox", "exec", project, "--", "ls")
    assert "x.txt" not in listing.out and "y.txt" in listing.out


def test_review_commands_explain_missing_sessions_and_paths(cli: CliRunner, project: Path) -> None:
    result = cli("changes", project)
    assert result.code == 1 and "no session yet" in result.err
    cli("sandbox", "exec", project, "--", "true")
    missing = cli("approve", project, "nope.txt")
    assert missing.code == 2 and "no pending change at nope.txt" in missing.err
    assert "PATH… or --all" in cli("approve", project).err
    assert "no such folder" in cli("changes", project / "nope").err


def test_run_against_the_scripted_api_leaves_exactly_the_expected_changes(
    cli: CliRunner, project: Path, scripted_api: ScriptedApi
) -> None:
    before = tree(project)
    server = scripted_api.serve(
        [
            Reply(
                blocks=[
                    Text(text="Adding a summary."),
                    ToolUse(
                        name="bash",
                        input={"command": "wc -l keep.txt > summary.txt; cat summary.txt"},
                    ),
                ]
            ),
            Reply(blocks=[Text(text="Wrote summary.txt.")]),
        ]
    )
    result = cli("run", project, "--prompt", "summarise", "--sandbox", "bwrap")
    assert result.code == 0, result.err
    assert "$ wc -l keep.txt" in result.out and "3 keep.txt" in result.out
    assert "Wrote summary.txt." in result.out
    assert "3 keep.txt" in server.requests[1].tool_results()[0]["content"]
    assert tree(project) == before
    changes = json.loads(cli("changes", project, "--json").out)
    assert [(c["path"], c["kind"]) for c in changes] == [("summary.txt", "added")]


def test_run_json_prints_one_event_per_line(
    cli: CliRunner, project: Path, scripted_api: ScriptedApi
) -> None:
    scripted_api.serve([Reply(blocks=[Text(text="hello")])])
    result = cli("run", project, "--prompt", "hi", "--json")
    types = [json.loads(line)["type"] for line in result.out.splitlines()]
    assert "user_prompt" in types and "assistant_text" in types
    assert types[-1] == "changes_updated" and "turn_ended" in types


def test_run_without_api_key_is_one_clear_line(cli: CliRunner, project: Path) -> None:
    result = cli("run", project, "--prompt", "hi")
    assert result.code == 1
    assert "ANTHROPIC_API_KEY is not set" in result.err and "Traceback" not in result.err


def test_run_with_a_rejected_key_fails_clearly(
    cli: CliRunner, project: Path, scripted_api: ScriptedApi
) -> None:
    scripted_api.serve([Reply(status=401)])
    result = cli("run", project, "--prompt", "hi")
    assert result.code == 1
    assert "rejected the API key" in result.out


def test_run_continue_resumes_the_conversation(
    cli: CliRunner, project: Path, scripted_api: ScriptedApi
) -> None:
    server = scripted_api.serve(
        [Reply(blocks=[Text(text="first")]), Reply(blocks=[Text(text="2")])]
    )
    cli("run", project, "--prompt", "one")
    cli("run", project, "--prompt", "two", "--continue")
    roles = [message["role"] for message in server.requests[-1].messages]
    assert roles == ["user", "assistant", "user"]
    sessions = cli("sessions", project).out
    assert sessions.count("\n") == 2  # header + one session


def airlock_process(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`airlock ARGV…` run as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "airlock", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_demo_headless_runs_to_the_end_with_changes_pending(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    env = {**os.environ, "NO_COLOR": "1"}
    result = airlock_process(env, "demo", str(folder), "--headless")
    assert result.returncode == 0, result.stderr
    assert "demo model" in result.stdout
    assert "$ ls -la" in result.stdout
    assert "added     REPORT.md" in result.stdout
    assert not (folder / "REPORT.md").exists()
    assert (folder / "todo.txt").exists()
    # Carried on outside `airlock demo` (no API key), it still talks to the scripted model.
    env.pop("ANTHROPIC_API_KEY", None)
    more = airlock_process(env, "run", str(folder), "--prompt", "more", "--continue")
    assert more.returncode == 0, more.stderr
    assert "I only know this one script" in more.stdout


def test_a_project_whose_folder_is_gone_is_one_clear_line(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    assert cli("project", "add", folder).code == 0
    folder.rmdir()
    result = cli("sandbox", "exec", "gone", "--", "ls")
    assert result.code != 0 and "Traceback" not in result.err
    assert "the folder of project 'gone' is gone" in result.err
    assert "airlock project remove gone" in result.err


def test_a_run_without_a_key_leaves_the_current_session_alone(
    cli: CliRunner, project: Path
) -> None:
    cli("sandbox", "exec", project, "--", "sh", "-c", "echo n > n.txt")
    failed = cli("run", project, "--prompt", "hi")
    assert failed.code != 0 and "ANTHROPIC_API_KEY is not set" in failed.err
    assert [c["path"] for c in json.loads(cli("changes", project, "--json").out)] == ["n.txt"]
    assert cli("sessions", project).out.count("\n") == 2  # header + the one session


def test_a_project_name_that_is_also_a_folder_here_is_ambiguous(
    cli: CliRunner, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("project", "add", project, "--name", "other").code == 0
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path)
    result = cli("changes", "other")
    assert result.code != 0 and "is both the project at" in result.err
    assert cli("sandbox", "exec", "./other", "--", "true").code == 0  # the folder, as asked


def test_a_name_with_control_characters_is_approved_as_it_is_shown(
    cli: CliRunner, project: Path
) -> None:
    cli("sandbox", "exec", project, "--", "sh", "-c", "echo x > \"$(printf '\\033[31mred')\"")
    listing = cli("changes", project).out
    assert "added  pending   red" in listing and "\x1b" not in listing
    assert cli("approve", project, "red").code == 0
    assert (project / "\x1b[31mred").read_text() == "x\n"


def test_sandbox_exec_takes_its_options_between_dir_and_the_command(
    cli: CliRunner, project: Path
) -> None:
    result = cli("sandbox", "exec", project, "--sandbox", "bwrap", "--", "sh", "-c", "echo ok")
    assert result.code == 0 and result.out == "ok\n"
    assert (
        "unexpected --bogus before --" in cli("sandbox", "exec", project, "--bogus", "--", "ls").err
    )
    assert cli("sandbox", "exec", project, "--", "sh", "-c", "echo a -- b").out == "a -- b\n"
