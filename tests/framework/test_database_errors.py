"""Each driver's connection failure, read back as a cause in words and whether waiting can mend it:
against the real servers (PyMySQL on MariaDB, psycopg on a closed port, sqlite3 on a missing folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from conexoos.framework.database_errors import database_cause, describe_connection_error
from conexoos.framework.startup import try_connection
from tests.support.services import server_url

from .helpers import free_port
from .test_cli import invoke


def failure(url: str) -> tuple[str, bool]:
    error = try_connection(make_url(url), timeout=2)
    assert error is not None, f"{url} connected"
    return database_cause(error).summary, database_cause(error).lasting


@pytest.mark.services
def test_mariadb_wrong_password_and_missing_database_are_lasting() -> None:
    admin = server_url("mariadb")
    assert failure(admin.set(password="not-the-password").render_as_string(hide_password=False)) == (
        "wrong password or unknown user",
        True,
    )
    assert failure(admin.set(database="conexoos_no_such_db").render_as_string(hide_password=False)) == (
        "the database does not exist",
        True,
    )


@pytest.mark.services
def test_config_check_shows_mariadbs_using_password_phrase_whole(tmp_path: Path) -> None:
    """``(using password: YES)`` is MariaDB's own words: ``config check --connect`` showed ``(using
    password: ***``, as if YES were the password; the password itself stays out."""
    rendered = server_url("mariadb").set(password="wrong-pw-123").render_as_string(hide_password=False)
    config = tmp_path / "config.yml"
    config.write_text(f"SERVER_ENV: {{ENV: DEV}}\nDATABASE: {{default: main, main: {{url: '{rendered}'}}}}\n")
    output = invoke("--config", str(config), "config", "check", "--connect").output
    assert "wrong password or unknown user ((1045, \"Access denied for user 'root'@" in output
    assert '(using password: YES)"))' in output
    assert "wrong-pw-123" not in output


@pytest.mark.parametrize("driver", ["postgresql+psycopg", "mysql+pymysql"])
def test_a_closed_port_is_refused_and_worth_waiting_for(driver: str) -> None:
    assert failure(f"{driver}://user:pw@127.0.0.1:{free_port()}/db") == (
        "connection refused: nothing listens there (is the server running?)",
        False,
    )


@pytest.mark.parametrize("driver", ["postgresql+psycopg", "mysql+pymysql"])
def test_an_unknown_host_is_worth_waiting_for(driver: str) -> None:
    summary, lasting = failure(f"{driver}://user:pw@no-such-host.invalid:5432/db")
    assert (summary, lasting) == ("unknown host: the name does not resolve", False)


def test_a_sqlite_file_in_a_missing_folder_cannot_be_opened(tmp_path: Path) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'missing' / 'app.db'}")
    error = try_connection(url)
    assert error is not None
    line = describe_connection_error(error, url, "main")
    assert line.startswith("connection 'main' (sqlite at ")
    assert line.endswith(": the database file cannot be opened (unable to open database file)")


def test_the_password_never_shows(tmp_path: Path) -> None:
    url = make_url(f"postgresql+psycopg://user:S3cret-pw@127.0.0.1:{free_port()}/db")
    error = try_connection(url)
    assert error is not None
    line = describe_connection_error(error, url, None)
    assert "S3cret-pw" not in line and line.startswith("connection (postgresql at 127.0.0.1:")


@pytest.mark.services
@pytest.mark.parametrize("how", ["the error line", "config check --connect"])
def test_a_short_password_is_no_word_of_the_drivers_message(tmp_path: Path, how: str) -> None:
    """A password of 1 to 3 characters was hidden wherever it stood alone: with password ``not``, 'FATAL:
    role "u" does *** exist', the password given away; the words are whole now, and config check warns."""
    url = server_url("postgresql").set(username="u", password="not", database="conexoos_no_such_db")
    if how == "the error line":
        error = try_connection(url, timeout=2)
        assert error is not None
        line = describe_connection_error(error, url, "main")
    else:
        config = tmp_path / "config.yml"
        rendered = url.render_as_string(hide_password=False)
        config.write_text(
            f"SERVER_ENV: {{ENV: DEV}}\nDATABASE: {{default: main, main: {{url: '{rendered}'}}}}\n"
        )
        line = invoke("--config", str(config), "config", "check", "--connect").output
        assert "warning: the secret DATABASE.main.url holds is shorter than 4 characters" in line
        assert ":not@" not in line
    assert 'unknown user (FATAL: role "u" does not exist)' in line
    assert "***" not in line.split("unknown user", 1)[1]
