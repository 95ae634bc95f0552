"""``config check --connect`` ends with how many connections failed, counted in words."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conexoos.framework import cli as cli_module
from conexoos.framework.connect_checks import CheckResult


@pytest.mark.parametrize(
    ("results", "summary"),
    [
        ([CheckResult("SERVICES.redis", "connection refused")], "error: 1 of 1 connection failed"),
        (
            [CheckResult("main", None), CheckResult("SERVICES.redis", "connection refused")],
            "error: 1 of 2 connections failed",
        ),
    ],
)
def test_the_failed_connections_are_counted_in_words(
    monkeypatch: pytest.MonkeyPatch, results: list[CheckResult], summary: str
) -> None:
    monkeypatch.setattr(cli_module, "run_connect_checks", lambda _settings: results)
    result = CliRunner().invoke(cli_module.cli, ["config", "check", "--connect"])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == summary
