"""An empty ``--config`` file (0 bytes, or only comments) is said to be empty, by `config check` and at the
start: it gave an all-defaults DEV site without a word."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from conexoos.framework import load_settings
from conexoos.framework.cli import cli

EMPTY = (
    "the configuration file holds no settings (it is empty, or only comments): every key takes its default, "
    "a DEV site on an SQLite file in the instance folder; was another file meant?"
)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("config.yml", ""),
        ("config.yml", "\n# production settings go here\n"),
        ("config.yml", "{}"),
        # An empty .json file was a JSON syntax error, while an empty .yml got this warning.
        ("config.json", ""),
        ("config.json", " \n\t\n"),
    ],
)
def test_config_check_warns_that_the_file_is_empty(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert f"warning: {path}: {EMPTY}" in result.output


def test_the_start_logs_that_the_file_is_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "config.yml"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="conexoos.config"):
        settings = load_settings(path, environ={})
    assert settings.env == "DEV"
    assert f"config: {path}: {EMPTY}" in caplog.messages


def test_a_file_with_settings_is_not_said_to_be_empty(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("SERVER_ENV:\n  APP_NAME: Shop\n", encoding="utf-8")
    assert not any("holds no settings" in warning for warning in load_settings(path, environ={}).warnings)
    assert not any("holds no settings" in warning for warning in load_settings(None, environ={}).warnings)
