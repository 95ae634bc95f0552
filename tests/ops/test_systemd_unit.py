"""deploy/systemd/conexoos.service: valid for systemd, and it runs a real ``conexoos serve``."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conexoos.framework.cli import cli
from conexoos.framework.schema import SERVER_ENV, Key

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "systemd" / "conexoos.service"
INSTALLED_COMMAND = "/srv/conexoos/.venv/bin/conexoos"
HARDENING = ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "RestrictAddressFamilies")


def service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_exec_start_is_conexoos_serve() -> None:
    words = shlex.split(service_section()["ExecStart"])
    assert words[0] == INSTALLED_COMMAND
    assert words[1] == "serve" and "serve" in cli.commands
    options = {param.opts[0] for param in cli.commands["serve"].params if param.opts}
    assert {word for word in words[2:] if word.startswith("--")} <= options


def test_stop_and_reload_are_graceful() -> None:
    service = service_section()
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    graceful = SERVER_ENV["GRACEFUL_TIMEOUT"]
    assert isinstance(graceful, Key)
    assert int(service["TimeoutStopSec"]) > graceful.default  # systemd must not kill a graceful stop
    for option in HARDENING:
        assert option in service


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the unit is still parsed by the tests above")
    command = Path(sys.executable).with_name("conexoos")
    assert command.exists(), command
    unit = tmp_path / "conexoos.service"
    # The installed path does not exist here: verify the unit with this checkout's real command.
    unit.write_text(UNIT.read_text().replace(INSTALLED_COMMAND, str(command)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys and bad values are only warnings
