"""``conexoos config check --connect`` tries every connection and service, one line each: against a
PostgreSQL cluster, a Redis and a memcached of the test's own, up, down or refusing the password."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conexoos.framework import connect_checks
from conexoos.framework.config import Settings
from tests.faults.conftest import database_entry, missing
from tests.framework.test_cli import invoke
from tests.support.memcached_server import MemcachedServer
from tests.support.postgres_cluster import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.smtp_server import HOST, SmtpServer


@pytest.fixture
def memcached() -> Iterator[MemcachedServer]:
    try:
        server = MemcachedServer()
    except RuntimeError as error:
        missing(str(error))
    yield server
    server.stop()


def check(tmp_path: Path, database: dict[str, Any], redis: RedisServer, memcached: MemcachedServer) -> Any:
    config = {
        "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(tmp_path / "instance")},
        "DATABASE": {"default": "main", "main": database},
        "SERVICES": {"redis": redis.service, "memcached": memcached.service},
    }
    path = tmp_path / "config.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return invoke("config", "check", "--connect", "--config", str(path))


def test_everything_answers(
    tmp_path: Path, postgres: PostgresCluster, redis_server: RedisServer, memcached: MemcachedServer
) -> None:
    redis_server.start()
    memcached.start()
    result = check(tmp_path, database_entry(postgres), redis_server, memcached)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        f"database connection 'main' (postgresql at 127.0.0.1:{postgres.port}): ok",
        f"SERVICES.redis (127.0.0.1:{redis_server.port}): ok",
        f"SERVICES.memcached (127.0.0.1:{memcached.port}): ok",
    ]


def test_each_failure_is_one_line_with_its_cause(
    tmp_path: Path, postgres: PostgresCluster, redis_server: RedisServer, memcached: MemcachedServer
) -> None:
    result = check(tmp_path, database_entry(postgres, password="wrong-password"), redis_server, memcached)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[1:] == [
        f"database connection 'main' (postgresql at 127.0.0.1:{postgres.port}): FAILED: wrong password or "
        'unknown user (FATAL: password authentication failed for user "conexoos_app")',
        f"SERVICES.redis (127.0.0.1:{redis_server.port}): FAILED: connection refused: nothing listens there "
        f"(is the server running?) (Error 111 connecting to 127.0.0.1:{redis_server.port}. "
        "Connection refused.)",
        f"SERVICES.memcached (127.0.0.1:{memcached.port}): FAILED: connection refused: nothing listens there "
        "(is the server running?) ([Errno 111] Connection refused)",
    ]
    assert result.stderr.strip() == "error: 3 of 3 connections failed"
    assert "wrong-password" not in result.output


def test_a_registered_check_is_run_and_reported(
    tmp_path: Path,
    postgres: PostgresCluster,
    redis_server: RedisServer,
    memcached: MemcachedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """How SMTP, LDAP or an identity provider plug in: a check that names its cause fails the command."""
    seen: list[Settings] = []

    def smtp_check(settings: Settings) -> str | None:
        seen.append(settings)
        return "connection refused by mail.example.org:587"

    monkeypatch.setattr(connect_checks, "_registered", {})
    connect_checks.register_connect_check("SERVICES.smtp", smtp_check)
    connect_checks.register_connect_check("LDAP", smtp_check, applies=lambda _settings: False)
    redis_server.start()
    memcached.start()
    result = check(tmp_path, database_entry(postgres), redis_server, memcached)
    assert result.exit_code == 1, result.output
    assert (
        result.stdout.splitlines()[-1] == "SERVICES.smtp: FAILED: connection refused by mail.example.org:587"
    )
    assert len(seen) == 1 and result.stderr.strip() == "error: 1 of 4 connections failed"


def test_the_smtp_server_is_tried_too(tmp_path: Path) -> None:
    server = SmtpServer(login=("mailer", "right password")).start()
    try:
        config = {
            "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(tmp_path / "instance")},
            "DATABASE": {
                "default": "main",
                "main": {"driver": "sqlite", "database": str(tmp_path / "db.sqlite")},
            },
            "SERVICES": {"smtp": server.settings(USER="mailer", PASSWORD="right password")},
        }
        path = tmp_path / "config.yml"
        path.write_text(json.dumps(config), encoding="utf-8")
        result = invoke("config", "check", "--connect", "--config", str(path))
        assert result.exit_code == 0, result.output
        assert f"SERVICES.smtp ({HOST}:{server.port}, none): ok" in result.stdout
        config["SERVICES"]["smtp"]["PASSWORD"] = "wrong password"
        path.write_text(json.dumps(config), encoding="utf-8")
        refused = invoke("config", "check", "--connect", "--config", str(path))
        assert refused.exit_code == 1
        assert smtp_line(refused.stdout).startswith(
            f"SERVICES.smtp ({HOST}:{server.port}, none): FAILED: the server refused the login (535 "
        )
        assert "wrong password" not in refused.stdout
        config["SERVICES"]["smtp"] |= {"SECURITY": "tls", "PASSWORD": "right password"}  # a plain server
        path.write_text(json.dumps(config), encoding="utf-8")
        no_tls = invoke("config", "check", "--connect", "--config", str(path))
        assert smtp_line(no_tls.stdout).startswith(
            f"SERVICES.smtp ({HOST}:{server.port}, tls): FAILED: TLS handshake failed: "
        )
    finally:
        server.stop()
    config["SERVICES"]["smtp"]["SECURITY"] = "none"
    path.write_text(json.dumps(config), encoding="utf-8")
    stopped = invoke("config", "check", "--connect", "--config", str(path))
    assert stopped.exit_code == 1
    assert smtp_line(stopped.stdout) == (
        f"SERVICES.smtp ({HOST}:{server.port}, none): FAILED: "
        "connection refused: nothing listens there (is the server running?)"
    )


def smtp_line(stdout: str) -> str:
    [line] = [line for line in stdout.splitlines() if line.startswith("SERVICES.smtp")]
    return line


def test_an_smtp_host_that_does_not_resolve_or_answer_is_named_in_words(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections (backlog), never says hello
    port = silent.getsockname()[1]
    try:
        lines = []
        for host, port_number in (("nowhere.invalid", 25), ("127.0.0.1", port)):
            config = {
                "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(tmp_path / "instance")},
                "DATABASE": {
                    "default": "main",
                    "main": {"driver": "sqlite", "database": str(tmp_path / "db.sqlite")},
                },
                "SERVICES": {"smtp": {"HOST": host, "PORT": port_number, "SECURITY": "none", "TIMEOUT": 1}},
            }
            path = tmp_path / "config.yml"
            path.write_text(json.dumps(config), encoding="utf-8")
            result = invoke("config", "check", "--connect", "--config", str(path))
            assert result.exit_code == 1
            lines.append(smtp_line(result.stdout))
    finally:
        silent.close()
    assert lines == [
        "SERVICES.smtp (nowhere.invalid:25, none): FAILED: unknown host: the name does not resolve",
        f"SERVICES.smtp (127.0.0.1:{port}, none): FAILED: no answer: timed out after 1 s",
    ]


def sqlite_check(tmp_path: Path, database: Path) -> Any:
    config = {
        "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(tmp_path / "instance")},
        "DATABASE": {"default": "main", "main": {"driver": "sqlite", "database": str(database)}},
    }
    path = tmp_path / "config.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return invoke("config", "check", "--connect", "--config", str(path))


def test_a_fresh_install_whose_sqlite_folder_does_not_exist_yet_is_ok(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "conexoos.db"
    result = sqlite_check(tmp_path, database)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        f"database connection 'main' (sqlite at {database}): ok (the file will be created)"
    ]
    assert not (tmp_path / "instance").exists()  # checking creates nothing


def test_a_sqlite_folder_that_cannot_be_created_fails(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    database = tmp_path / "a-file" / "instance" / "conexoos.db"
    result = sqlite_check(tmp_path, database)
    assert result.exit_code == 1, result.output
    blocker = str(tmp_path / "a-file")
    assert result.stdout.splitlines()[1].endswith(
        f"FAILED: the folder of {str(database)!r} cannot be created: {blocker!r} is not a folder"
    )


def test_a_sqlite_folder_that_takes_no_new_file_fails_even_for_root(tmp_path: Path) -> None:
    """/proc takes no file, whoever asks: root passes the permission check anywhere, so it is tried."""
    database = Path("/proc/conexoos-check-missing/conexoos.db")
    result = sqlite_check(tmp_path, database)
    assert result.exit_code == 1, result.output
    line = result.stdout.splitlines()[1]
    assert f"FAILED: {str(database)!r} cannot be created: '/proc' takes no new file (" in line, line
    assert not Path("/proc/conexoos-check-missing").exists()


def test_checking_a_new_sqlite_file_leaves_no_trace(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "conexoos.db"
    assert sqlite_check(tmp_path, database).exit_code == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.yml"]
