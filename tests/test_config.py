"""Config file: round trip, atomic writes, and one clear message for every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from airlock.config import (
    AirlockConfig,
    McpServerConfig,
    ProjectConfig,
    TaskConfig,
    VMConfig,
    load_config,
    save_config,
)
from airlock.errors import ConfigError
from airlock.paths import airlock_paths
from tests.conftest import CliRunner


def write_config(text: str) -> Path:
    path = airlock_paths().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_xdg_variables_decide_where_files_live(airlock_home: Path) -> None:
    paths = airlock_paths()
    assert paths.config_file == airlock_home / ".config/airlock/config.toml"
    assert paths.data_dir == airlock_home / ".local/share/airlock"
    assert paths.state_dir == airlock_home / ".local/state/airlock"


def test_relative_xdg_value_is_ignored(monkeypatch: pytest.MonkeyPatch, airlock_home: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    assert airlock_paths().config_dir == airlock_home / ".config/airlock"


def test_missing_file_gives_defaults() -> None:
    assert load_config() == AirlockConfig()


def test_full_config_round_trips_with_array_of_tables(tmp_path: Path) -> None:
    config = AirlockConfig(
        model="claude-test",
        keymap={"review": "ctrl+r"},
        projects=[
            ProjectConfig(
                name="notes",
                path=tmp_path,
                instructions='Be brief.\nUse "metric" units.',
                allowlist=["allowed.test", "*.allowed.test"],
                vm=VMConfig(cpus=4, memory="8GiB", disk="50GiB"),
                mcp=[
                    McpServerConfig(
                        name="fs", command="mcp-fs", args=["/workspace"], env={"A": "1"}
                    )
                ],
                tasks=[TaskConfig(name="daily", schedule="0 9 * * 1-5", prompt="Tidy up")],
            )
        ],
    )
    save_config(config)
    text = airlock_paths().config_file.read_text()
    assert "[[projects]]" in text and "[projects.vm]" in text and "[[projects.tasks]]" in text
    assert load_config() == config


def test_save_leaves_no_temp_files() -> None:
    save_config(AirlockConfig(model="a"))
    save_config(AirlockConfig(model="b"))
    assert [p.name for p in airlock_paths().config_dir.iterdir()] == ["config.toml"]


def test_invalid_toml_names_file_and_line() -> None:
    path = write_config('model = "x"\ntheme = \n')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(path) in str(info.value)
    assert "line 2" in str(info.value)


def test_validation_error_names_the_field_path() -> None:
    write_config('[[projects]]\nname = "notes"\npath = "/tmp"\n[projects.vm]\ncpus = "many"\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "projects[0] (notes).vm.cpus" in str(info.value)


def test_unknown_setting_is_reported_not_ignored() -> None:
    write_config('modle = "typo"\n')
    with pytest.raises(ConfigError, match="modle: unknown setting"):
        load_config()


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[[projects]]\nname = "a"\npath = "relative"\n', "must be absolute"),
        ('[[projects]]\nname = "a b"\npath = "/x"\n', "projects[0] (a b).name"),
        ('[[projects]]\nname = "a"\npath = "/x"\n[projects.vm]\nmemory = "lots"\n', "vm.memory"),
        (
            '[[projects]]\nname = "a"\npath = "/x"\n[[projects.tasks]]\nname = "t"\n'
            'schedule = "61 * * * *"\nprompt = "p"\n',
            "invalid cron expression",
        ),
        (
            '[[projects]]\nname = "a"\npath = "/x"\n[[projects.mcp]]\nname = "s"\n',
            "exactly one of `command`",
        ),
        ('[[projects]]\nname = "a"\npath = "/x"\n[[projects]]\nname = "a"\npath = "/y"\n', "share"),
    ],
)
def test_each_invalid_value_has_a_clear_message(snippet: str, expected: str) -> None:
    write_config(snippet)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert expected in str(info.value)


def test_cli_reports_invalid_config_in_one_line_without_traceback(cli: CliRunner) -> None:
    write_config("this is not toml\n")
    result = cli("project", "list")
    assert result.code == 2
    assert "invalid TOML" in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_project_add_list_remove(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "My Notes"
    folder.mkdir()
    assert cli("project", "add", folder).code == 0
    listed = cli("project", "list")
    assert "My-Notes" in listed.out and str(folder) in listed.out
    again = cli("project", "add", folder)
    assert again.code == 1 and "already the project" in again.err
    assert cli("project", "remove", "My-Notes").code == 0
    assert "no projects yet" in cli("project", "list").out
    assert folder.is_dir()


def test_project_add_rejects_missing_folder_and_bad_name(cli: CliRunner, tmp_path: Path) -> None:
    assert "no such folder" in cli("project", "add", tmp_path / "nope").err
    (tmp_path / "p").mkdir()
    assert "invalid project name" in cli("project", "add", tmp_path / "p", "--name", "a b").err


def test_project_list_json_is_an_array(cli: CliRunner, tmp_path: Path) -> None:
    import json

    (tmp_path / "p").mkdir()
    cli("project", "add", tmp_path / "p", "--name", "p1")
    data = json.loads(cli("project", "list", "--json").out)
    assert data[0]["name"] == "p1" and data[0]["path"] == str(tmp_path / "p")


def test_default_model_is_not_deprecated_by_the_sdk() -> None:
    from anthropic._data import DEPRECATED_MODELS

    assert AirlockConfig().model not in DEPRECATED_MODELS


def test_a_folder_holding_airlock_s_own_files_is_refused(cli: CliRunner) -> None:
    own = airlock_paths().data_dir
    own.mkdir(parents=True, exist_ok=True)
    for folder in (own.parent.parent, own):
        result = cli("project", "add", folder)
        assert result.code != 0 and "holds Airlock's own files" in result.err
    assert load_config().projects == []
