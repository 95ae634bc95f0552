"""`config check` refuses what `serve` refuses: an unknown worker class, TLS files that are not PEM, an
instance or log folder that cannot be created, a bind address that is no address. Both say it in one line
and exit with status 2; `serve` says it before it forks, and `config check` writes nothing."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conexoos.framework.cli import cli
from conexoos.framework.serve import GunicornServer
from tests.support.certificates import encrypted_self_signed, self_signed

from .test_cli import ENV_TO_CLEAR


def _tls_files(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "bad.crt", folder / "bad.key"
    certificate.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    key.write_text("not a key\n")
    return certificate, key


CASES = {
    "worker": ("WORKERS: nosuchworker", "config error: SERVER_ENV.WORKERS: 'nosuchworker' "),
    "tls": (
        "SSL: {Certificate: @/bad.crt, PrivateKey: @/bad.key}",
        "config error: SERVER_ENV.SSL.Certificate: '@/bad.crt' is not a PEM certificate (",
    ),
    "tls-encrypted-key": (
        "SSL: {Certificate: @/encrypted.crt, PrivateKey: @/encrypted.key}",
        "config error: SERVER_ENV.SSL.PrivateKey: '@/encrypted.key' is encrypted with a passphrase, ",
    ),
    "tls-key": (
        "SSL: {Certificate: @/good.crt, PrivateKey: @/bad.key}",
        "config error: SERVER_ENV.SSL.PrivateKey: '@/bad.key' is not a PEM private key, or not the key of ",
    ),
    "instance": ("INSTANCE_PATH: /proc/conexoos-nope", "config error: SERVER_ENV.INSTANCE_PATH: '/proc/"),
    "log": ("LOG: {DIR: /proc/nolog}", "config error: SERVER_ENV.LOG.DIR: '/proc/nolog'"),
    "address": ("BIND: {ADDRESS: 999.1.1.1}", "config error: SERVER_ENV.BIND.ADDRESS: '999.1.1.1'"),
    "foreign-address": (
        "BIND: {ADDRESS: 192.0.2.1}",  # TEST-NET-1: no machine's own
        "config error: SERVER_ENV.BIND.ADDRESS: '192.0.2.1' is not an address of this machine",
    ),
}


def _config(tmp_path: Path, case: str) -> Path:
    _tls_files(tmp_path)
    if "encrypted.crt" in CASES[case][0]:
        encrypted_self_signed(tmp_path)
    if "good.crt" in CASES[case][0]:
        (tmp_path / "good").mkdir()
        certificate, _ = self_signed(tmp_path / "good")
        certificate.rename(tmp_path / "good.crt")
    line = CASES[case][0].replace("@", str(tmp_path))
    instance = "" if case == "instance" else f"\n  INSTANCE_PATH: {tmp_path / 'instance'}"
    config = tmp_path / "config.yml"
    config.write_text(f"SERVER_ENV:\n  ENV: DEV\n  {line}{instance}\n", encoding="utf-8")
    return config


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *words: str) -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(cli, list(words), prog_name="conexoos", env=clear)
    assert "Traceback" not in result.output
    return result.exit_code, result.output.strip().splitlines()


def _check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_env: str) -> tuple[int, list[str]]:
    """``config check`` of a DEV configuration whose SERVER_ENV holds the lines ``server_env`` too."""
    config = tmp_path / "config.yml"
    config.write_text(f"SERVER_ENV:\n  ENV: DEV\n{server_env}", encoding="utf-8")
    return _run(tmp_path, monkeypatch, "config", "check", "--config", str(config))


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_check_refuses_what_serve_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    config = _config(tmp_path, case)
    before = sorted(tmp_path.rglob("*"))
    status, lines = _run(tmp_path, monkeypatch, "config", "check", "--config", str(config))
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith(CASES[case][1].replace("@", str(tmp_path)))
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("case", sorted(CASES))
def test_serve_refuses_before_forking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    config = _config(tmp_path, case)

    def started(_server: GunicornServer) -> None:
        raise AssertionError("gunicorn was started")

    monkeypatch.setattr(GunicornServer, "run", started)
    status, lines = _run(tmp_path, monkeypatch, "serve", "--config", str(config))
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith(CASES[case][1].replace("@", str(tmp_path)))
    assert not (tmp_path / "instance").exists()


def test_a_certificate_without_its_key_is_judged_on_its_own_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The missing key's line hid the certificate's: "must be set together", and nothing of the file."""
    certificate, _key = _tls_files(tmp_path)
    status, lines = _check(tmp_path, monkeypatch, f"  SSL: {{Certificate: {certificate}}}\n")
    assert status == 2
    assert lines[0] == (
        "config error: SERVER_ENV.SSL.PrivateKey: must be set with SERVER_ENV.SSL.Certificate (both, or "
        "neither)"
    )
    assert lines[1].startswith(
        f"config error: SERVER_ENV.SSL.Certificate: '{certificate}' is not a PEM certificate ("
    )


@pytest.mark.parametrize("command", [["config", "check"], ["serve"]])
def test_what_serve_refuses_is_listed_with_the_configurations_other_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """A file with a refused value and an unknown worker class: the worker class was named only in the next
    run, once the value was mended. A check of a key already refused is not repeated."""
    config = tmp_path / "config.yml"
    config.write_text(
        "SERVER_ENV:\n  ENV: DEV\n  WORKERS: nosuchworker\n  THREADS_PER_CORE: many\n"
        "  SSL: {Certificate: /nonexistent.crt}\n"
        f"  INSTANCE_PATH: {tmp_path / 'instance'}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(GunicornServer, "run", lambda _server: pytest.fail("gunicorn was started"))
    status, lines = _run(tmp_path, monkeypatch, *command, "--config", str(config))
    assert status == 2
    keys = [line.removeprefix("config error: ").split(":", 1)[0] for line in lines]
    assert keys == [
        "SERVER_ENV.THREADS_PER_CORE",
        "SERVER_ENV.SSL.Certificate",
        "SERVER_ENV.SSL.PrivateKey",
        "SERVER_ENV.WORKERS",
    ], lines
    assert not (tmp_path / "instance").exists()


def test_a_certificate_that_is_no_certificate_is_named_while_the_key_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the missing key was reported; the certificate's own mistake came a run later, as "PEM lib"."""
    certificate, _ = _tls_files(tmp_path)
    missing = tmp_path / "none.key"
    status, lines = _check(
        tmp_path,
        monkeypatch,
        f"  SSL: {{Certificate: {certificate}, PrivateKey: {missing}}}\n"
        f"  INSTANCE_PATH: {tmp_path / 'instance'}\n",
    )
    assert status == 2
    assert lines == [
        f"config error: SERVER_ENV.SSL.PrivateKey: '{missing}' is not valid; expected a readable PEM file",
        f"config error: SERVER_ENV.SSL.Certificate: '{certificate}' is not a PEM certificate "
        "(the file holds no readable PEM block of that kind)",
    ], lines


def test_what_serve_refuses_is_said_with_its_secrets_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The values the serve checks quote were shown whole, unlike those the value checks quote."""
    status, lines = _check(
        tmp_path,
        monkeypatch,
        "  WORKERS: 'a.b password=worker-secret'\n  INSTANCE_PATH: '/proc/x?token=folder-secret'\n"
        "  BIND: {ADDRESS: 'token=address-secret'}\n",
    )
    assert status == 2 and len(lines) == 3, lines
    assert not any(
        secret in " ".join(lines) for secret in ("worker-secret", "folder-secret", "address-secret")
    )
    assert "password=***" in lines[0] and "token=***" in lines[1]


def test_a_valid_certificate_and_key_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate, key = self_signed(tmp_path)
    status, lines = _check(
        tmp_path,
        monkeypatch,
        f"  SSL: {{Certificate: {certificate}, PrivateKey: {key}}}\n  BIND: {{ADDRESS: localhost}}\n"
        f"  INSTANCE_PATH: {tmp_path / 'new' / 'instance'}\n",
    )
    assert status == 0, lines


@contextlib.contextmanager
def port_in_use() -> Iterator[int]:
    """A loopback port something listens on, while the block runs."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Gunicorn retried for 5 seconds and exited with status 1, its reason in its error log only."""
    with port_in_use() as port:
        config = tmp_path / "config.yml"
        config.write_text(
            f"SERVER_ENV:\n  ENV: DEV\n  BIND: {{ADDRESS: 127.0.0.1, PORT: {port}}}\n"
            f"  INSTANCE_PATH: {tmp_path / 'instance'}\n",
            encoding="utf-8",
        )
        monkeypatch.setattr(GunicornServer, "run", lambda _server: pytest.fail("gunicorn was started"))
        status, lines = _run(tmp_path, monkeypatch, "serve", "--config", str(config))
        checked, _ = _run(tmp_path, monkeypatch, "config", "check", "--config", str(config))
    assert status == 2 and lines == [
        f"config error: SERVER_ENV.BIND: 127.0.0.1:{port} is in use by another process (is the site already "
        "running?); stop it, or choose another port (--port)"
    ]
    assert not (tmp_path / "instance").exists()
    assert checked == 0  # a running site is no mistake of its configuration


def test_run_on_a_port_in_use_says_so_in_one_line_and_makes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Werkzeug printed five lines (one claiming a production deployment), exited 1, and the instance
    folder had been made."""
    with port_in_use() as port:
        config = tmp_path / "config.yml"
        config.write_text(
            f"SERVER_ENV:\n  ENV: DEV\n  INSTANCE_PATH: {tmp_path / 'instance'}\n", encoding="utf-8"
        )
        status, lines = _run(tmp_path, monkeypatch, "run", "--config", str(config), "--port", str(port))
    assert status == 2 and lines == [
        f"config error: --port: 127.0.0.1:{port} is in use by another process (is the site already "
        "running?); stop it, or choose another port (--port)"
    ]
    assert not (tmp_path / "instance").exists()
