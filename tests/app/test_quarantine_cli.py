"""``conexoos analytics quarantine``: operators see the events the roll-up set aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from conexoos.app.models.persistent.event import EventQuarantine
from conexoos.framework import db
from tests.support.cli import run_cli


def _quarantine(argv_tail: list[str], config: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    result = run_cli(monkeypatch, "--config", str(config), "analytics", "quarantine", *argv_tail)
    assert result.exit_code == 0, result.output
    # Only the command's own lines (the framework may warn about the test database's migration state).
    return "\n".join(line for line in result.output.splitlines() if not line.startswith("warning:"))


def test_the_command_counts_and_lists_quarantined_events(
    cli_app: Flask,
    config_file: Path,
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
    with cli_app.app_context():
        db.session.delete(db.session.scalars(select(EventQuarantine)).first())
        db.session.commit()
    assert _quarantine(["--limit", "0"], config_file, monkeypatch).splitlines() == ["1 event in quarantine"]
    assert len(lines) == 2
    assert lines[1].startswith("event 9\towner 1\t") and lines[1].endswith("DataError: bad 9")
