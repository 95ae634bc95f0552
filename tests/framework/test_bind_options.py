"""The command line's --host and --port, refused, are named as the options they are (not as the
configuration's SERVER_ENV.BIND, which was not used)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conexoos.framework.cli import cli

from .test_cli import ENV_TO_CLEAR


def invoke(tmp_path: Path, *words: str) -> tuple[int, str]:
    config = tmp_path / "config.yml"
    config.write_text(
        f"SERVER_ENV:\n  ENV: DEV\n  STARTUP_WAIT: 0\n  INSTANCE_PATH: {tmp_path / 'instance'}\n",
        encoding="utf-8",
    )
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(cli, [*words, "--config", str(config)], prog_name="conexoos", env=clear)
    return result.exit_code, result.output


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another socket listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("words", [("run", "--no-reload"), ("serve",)], ids=" ".join)
def test_a_bad_host_option_is_named_as_the_option(tmp_path: Path, words: tuple[str, ...]) -> None:
    status, output = invoke(tmp_path, *words, "--host", "http://x")
    assert status == 2
    assert output.strip() == (
        "config error: --host: 'http://x' is neither an IP address nor a host name that resolves"
    )


@pytest.mark.parametrize("words", [("run", "--no-reload"), ("serve",)], ids=" ".join)
def test_a_taken_port_option_is_named_as_the_option(
    tmp_path: Path, words: tuple[str, ...], taken_port: int
) -> None:
    status, output = invoke(tmp_path, *words, "--host", "127.0.0.1", "--port", str(taken_port))
    assert status == 2
    assert output.strip().startswith(f"config error: --host/--port: 127.0.0.1:{taken_port} is in use")
