"""`config check --connect` (and every database error) names a server database by host:port, its driver's
default port when the configuration gives none, as `run` and the README show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import make_url

from conexoos.framework.cli import cli
from conexoos.framework.database_errors import connection_label

from .test_cli import ENV_TO_CLEAR


@pytest.mark.parametrize(
    ("url", "place"),
    [
        ("postgresql+psycopg://u@127.0.0.1/db", "postgresql at 127.0.0.1:5432"),
        ("mysql+pymysql://u@db.internal/db", "mysql at db.internal:3306"),
        ("postgresql+psycopg://u@db.internal:6432/db", "postgresql at db.internal:6432"),
        (
            "postgresql+psycopg://u@/db?host=/var/run/postgresql",
            "postgresql at the Unix socket in /var/run/postgresql (port 5432)",
        ),
        ("postgresql+psycopg://u@[::1]/db", "postgresql at [::1]:5432"),
        ("mysql+pymysql://u@[fd00::5]:3307/db", "mysql at [fd00::5]:3307"),
        ("postgresql:///db?user=postgres", "postgresql at the default Unix socket (port 5432)"),
        ("postgresql:///db?port=5433", "postgresql at the default Unix socket (port 5433)"),
        ("postgresql:///db?host=db1,db2&port=5433", "postgresql at db1:5433, db2:5433"),
        ("postgresql:///db?host=db1&host=db2", "postgresql at db1:5432, db2:5432"),
        ("postgresql:///db?host=db1,::1&port=5433,5434", "postgresql at db1:5433, [::1]:5434"),
        ("postgresql:///db?host=/tmp&port=5433", "postgresql at the Unix socket in /tmp (port 5433)"),
        ("postgresql:///db?host=db1,/tmp", "postgresql at db1:5432, the Unix socket in /tmp (port 5432)"),
        (
            "mysql+pymysql://u@/db?unix_socket=/run/mysqld/mysqld.sock",
            "mysql at the Unix socket /run/mysqld/mysqld.sock",
        ),
        (
            "mysql+pymysql://u@db.internal/db?unix_socket=/run/my.sock",
            "mysql at the Unix socket /run/my.sock",
        ),
    ],
)
def test_a_server_connection_is_named_with_its_port(url: str, place: str) -> None:
    assert connection_label(make_url(url), "main") == f"connection 'main' ({place})"


def test_config_check_connect_names_the_default_port(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "DATABASE:\n  main: {driver: postgresql, user: u, database: x, address: 127.0.0.1}\n",
        encoding="utf-8",
    )
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(cli, ["config", "check", "--connect", "--config", str(config)], env=clear)
    assert "database connection 'main' (postgresql at 127.0.0.1:5432): " in result.output
