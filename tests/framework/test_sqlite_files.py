"""An existing SQLite file must be a database, and one this process can write: ``config check --connect``
said ok, and ``run``/``serve`` started and served, on ``/etc/passwd`` and on an immutable file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conexoos.framework.config import load_settings
from conexoos.framework.startup import DatabaseUnavailable, wait_for_databases
from tests.framework.test_cli import invoke


def write_config(tmp_path: Path, file: Path, readonly: bool = False) -> Path:
    config = {
        "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(tmp_path / "instance")},
        "DATABASE": {
            "default": "main",
            "main": {"driver": "sqlite", "database": str(file), "readonly": readonly},
        },
    }
    path = tmp_path / "config.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def database_file(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE kept (id INTEGER)")
        connection.execute("PRAGMA user_version = 7")
    return path


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    """A database file no process may write, root included (``chattr +i``)."""
    file = database_file(tmp_path / "frozen.db")
    made = subprocess.run(["chattr", "+i", str(file)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not available here: {made.stderr.decode().strip()}")
    yield file
    subprocess.run(["chattr", "-i", str(file)], check=True)


def test_a_file_that_is_no_database_fails_the_check_and_the_start(tmp_path: Path) -> None:
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n" * 20, encoding="utf-8")
    config = write_config(tmp_path, text)
    result = invoke("config", "check", "--connect", "--config", str(config))
    assert result.exit_code == 1, result.output
    assert f"'{text}' is not a SQLite database (file is not a database)" in result.output
    with pytest.raises(DatabaseUnavailable, match="put a backup back with `conexoos db restore`"):
        wait_for_databases(load_settings(config, environ={}))


def test_a_database_no_process_may_write_fails_unless_readonly(tmp_path: Path, immutable: Path) -> None:
    config = write_config(tmp_path, immutable)
    result = invoke("config", "check", "--connect", "--config", str(config))
    assert result.exit_code == 1, result.output
    assert f"'{immutable}' cannot be written (attempt to write a readonly database)" in result.output
    with pytest.raises(
        DatabaseUnavailable, match=r"connection 'main' \(sqlite at .*frozen.db\): .* readonly: true"
    ):
        wait_for_databases(load_settings(config, environ={}))
    readonly = write_config(tmp_path, immutable, readonly=True)
    assert invoke("config", "check", "--connect", "--config", str(readonly)).exit_code == 0
    wait_for_databases(load_settings(readonly, environ={}))


def test_a_writable_database_passes_and_is_left_as_it_was(tmp_path: Path) -> None:
    file = database_file(tmp_path / "site.db")
    before = file.read_bytes()
    config = write_config(tmp_path, file)
    result = invoke("config", "check", "--connect", "--config", str(config))
    assert result.exit_code == 0, result.output
    wait_for_databases(load_settings(config, environ={}))
    assert file.read_bytes() == before  # the probe's write was rolled back
    with sqlite3.connect(file) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (7,)
