"""The instance folder (databases, sessions, mail with its one-time links, the generated key) is made
readable by its owner only; one that exists keeps the permissions its operator gave it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conexoos.framework.config import load_settings
from conexoos.framework.serve import gunicorn_options
from tests.conftest import AppFactory

from .test_cli import python


def mode_of(folder: Path) -> int:
    return stat.S_IMODE(folder.stat().st_mode)


def test_a_new_instance_folder_is_the_owners_only(make_app: AppFactory, tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "instance"
    make_app(overrides={"SERVER_ENV": {"INSTANCE_PATH": str(folder)}})
    assert mode_of(folder) == 0o700


def test_an_existing_instance_folder_keeps_its_permissions(make_app: AppFactory, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o750)
    make_app(overrides={"SERVER_ENV": {"INSTANCE_PATH": str(folder)}})
    assert mode_of(folder) == 0o750


def test_logs_kept_inside_a_new_instance_folder_do_not_open_it(tmp_path: Path) -> None:
    """The log folder was made first (with its parents, as the umask said: 755), and the folder then
    kept that: any user of the machine could read the database, and the setup link in the log."""
    folder = tmp_path / "instance"
    config = tmp_path / "config.yml"
    config.write_text(f"SERVER_ENV:\n  INSTANCE_PATH: {folder}\n  LOG:\n    DIR: logs\n", encoding="utf-8")
    previous = os.umask(0o022)
    try:
        result = python("-m", "conexoos", "db", "upgrade", "--config", str(config), cwd=tmp_path)
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (folder / "logs" / "app.log").exists()
    assert mode_of(folder) == 0o700


def test_serve_makes_the_instance_folder_before_its_log_folder(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    settings = load_settings(
        None, overrides={"SERVER_ENV": {"INSTANCE_PATH": str(folder), "LOG": {"DIR": "logs"}}}, environ={}
    )
    previous = os.umask(0o022)
    try:
        options = gunicorn_options(settings)
    finally:
        os.umask(previous)
    assert options["errorlog"] == str(folder / "logs" / "gunicorn.error.log")
    assert mode_of(folder) == 0o700


def test_a_new_log_folder_outside_the_instance_folder_is_the_owners_only(tmp_path: Path) -> None:
    """The log names the setup link: under /tmp/x/logs/deep it was 755 and its files 644."""
    logs = tmp_path / "x" / "newlogs" / "deep"
    settings = load_settings(
        None,
        overrides={"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance"), "LOG": {"DIR": str(logs)}}},
        environ={},
    )
    previous = os.umask(0o022)
    try:
        gunicorn_options(settings)
    finally:
        os.umask(previous)
    assert [mode_of(folder) for folder in (tmp_path / "x", tmp_path / "x" / "newlogs", logs)] == [0o700] * 3
