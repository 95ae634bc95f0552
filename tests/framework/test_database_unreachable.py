"""A database that cannot be reached ends every command that needs it with one line naming the connection,
its host:port, the cause in words and the driver's reason (never the password), and exit status 2, without a
traceback. (``run`` and ``serve`` wait for it first: STARTUP_WAIT 0 tries once; tests/faults waits.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conexoos.framework.cli import cli

from .test_cli import ENV_TO_CLEAR, free_port

PASSWORD = "s3cret-do-not-show"


@pytest.mark.parametrize(
    "words", [("db", "current"), ("db", "upgrade"), ("run", "--no-reload"), ("serve",)], ids=" ".join
)
def test_a_closed_port_is_one_line_naming_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: tuple[str, ...]
) -> None:
    port = free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        "SERVER_ENV:\n  ENV: DEV\n  STARTUP_WAIT: 0\n  INSTANCE_PATH: " + str(tmp_path / "instance") + "\n"
        f"DATABASE:\n  main: {{driver: postgresql, user: postgres, password: {PASSWORD}, database: x, "
        f"address: 127.0.0.1, port: {port}}}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(cli, [*words, "--config", str(config)], prog_name="conexoos", env=clear)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"database error: connection 'main' (postgresql at 127.0.0.1:{port}): ")
    assert "connection refused: nothing listens there (is the server running?)" in lines[0]
    assert PASSWORD not in result.output and "Traceback" not in result.output
