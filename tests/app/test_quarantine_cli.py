"""``conexoos analytics quarantine``: operators see the events the roll-up set aside."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from conexoos.app.models.persistent.event import EventQuarantine
from conexoos.framework import db
from conexoos.framework.cli import cli

from .test_cli import cli_app, config_file  # noqa: F401  (fixtures)


def _quarantine(argv_tail: list[str], config: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    argv = ["--config", str(config), "analytics", "quarantine", *argv_tail]
    monkeypatch.setattr(sys, "argv", ["conexoos", *argv])  # project commands are found from argv
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # Only the command's own lines (the framework may warn about the test database's migration state).
    return "\n".join(line for line in result.output.splitlines() if not line.startswith("warning:"))


def test_the_command_counts_and_lists_quarantined_events(
    cli_app: Flask,  # noqa: F811
    config_file: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _quarantine([], config_file, monkeypatch).splitlines() == ["0 events in quarantine"]
    with cli_app.app_context():
        for event_id in (7, 9):
            db.session.add(
                EventQuarantine(
                    event_id=event_id, owner_id=1, data="{}", error=f"DataError: bad {event_id}\nmore"
                )
            )
        db.session.commit()
    lines = _quarantine(["--limit", "1"], config_file, monkeypatch).splitlines()
    assert lines[0] == "2 events in quarantine"
    assert len(lines) == 2
    assert lines[1].startswith("event 9\towner 1\t") and lines[1].endswith("DataError: bad 9")
