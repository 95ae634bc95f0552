"""A database connection says what it connects to once: keys beside ``url`` that it would override, and a
server connection without an address (an unset ``${DB_HOST}``), are config errors, not silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from conexoos.framework import ConfigError, load_settings

from .helpers import write_files


def load(tmp_path: Path, connection: str, environ: dict[str, str] | None = None) -> list[str]:
    """The problems of a configuration whose ``DATABASE.main`` is ``connection`` (none: it loaded)."""
    folder = write_files(tmp_path, {"config.yml": f"DATABASE:\n  main: {connection}\n"})
    try:
        load_settings(folder / "config.yml", environ=environ or {})
    except ConfigError as error:
        return error.problems
    return []


def test_a_password_beside_a_url_is_refused(tmp_path: Path) -> None:
    """It was never used: the URL without a password was."""
    problems = load(
        tmp_path,
        '{url: "mysql+pymysql://u@127.0.0.1:3306/db", password: "${DB_PASSWORD}"}',
        {"DB_PASSWORD": "s3cret-value"},
    )
    assert problems == [
        "DATABASE.main: url overrides password (a key beside url is not used): put it in the URL, or drop "
        "url and keep the keys"
    ]


def test_a_driver_and_address_of_another_database_beside_a_url_are_refused(tmp_path: Path) -> None:
    problems = load(tmp_path, '{url: "postgresql://u@db.internal/app", driver: mysql, address: otherhost}')
    assert problems == [
        "DATABASE.main: url overrides driver, address (a key beside url is not used): put them in the URL, "
        "or drop url and keep the keys"
    ]


@pytest.mark.parametrize(
    ("driver", "url"),
    [
        ("mysql", "mysql+pymysql://reader@db2/archive"),  # the README's own example
        ("mariadb", "mysql://reader@db2/archive"),
        ("postgresql", "postgresql+psycopg://u@db.internal/app"),
        ("postgresql+psycopg", "postgresql://u@db.internal/app"),
    ],
)
def test_a_driver_that_agrees_with_the_url_is_allowed(tmp_path: Path, driver: str, url: str) -> None:
    assert load(tmp_path, f'{{driver: {driver}, url: "{url}", readonly: true, connect_timeout: 2}}') == []


@pytest.mark.parametrize("driver", ["postgresql", "mysql", "mariadb"])
def test_an_empty_address_from_an_unset_variable_is_refused(tmp_path: Path, driver: str) -> None:
    """PostgreSQL was reached on this host instead: a wrong server on an app host that has one."""
    problems = load(tmp_path, f'{{driver: {driver}, database: app, address: "${{DB_HOST}}"}}')
    backend = "postgresql" if driver == "postgresql" else "mysql"
    assert problems == [
        f"DATABASE.main.address: is empty (from $DB_HOST, which is not set); a {backend} connection needs "
        "the host name or IP address of its server (localhost for this machine)"
    ]


def test_a_missing_address_is_refused_too(tmp_path: Path) -> None:
    assert load(tmp_path, "{driver: postgresql, database: app}") == [
        "DATABASE.main.address: is empty; a postgresql connection needs the host name or IP address of its "
        "server (localhost for this machine)"
    ]


@pytest.mark.parametrize(
    "connection",
    [
        "{driver: postgresql, database: app, address: localhost}",
        "{driver: postgresql, database: app, params: {host: /var/run/postgresql}}",
        "{driver: mysql, database: app, params: {unix_socket: /run/mysqld/mysqld.sock}}",
        "{driver: sqlite, database: app.db}",
        '{url: "postgresql:///app"}',  # written whole: the socket of this host, as the URL says
    ],
)
def test_a_connection_that_names_its_server_or_needs_none_is_accepted(
    tmp_path: Path, connection: str
) -> None:
    assert load(tmp_path, connection) == []


def test_a_url_given_over_the_files_keys_replaces_them(tmp_path: Path) -> None:
    """Overrides (tests, tools) giving a connection by its URL over one the file gives by its keys (the
    embedded default's SQLite file): the URL is the connection, not a URL refused for the keys beside it."""
    database = tmp_path / "over.db"
    settings = load_settings(
        None, environ={}, overrides={"DATABASE": {"main": {"url": f"sqlite:///{database}"}}}
    )
    assert settings.databases["main"].url.database == str(database)
