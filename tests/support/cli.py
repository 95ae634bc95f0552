"""Running the ``conexoos`` command in-process, as its console script runs it."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner, Result

from conexoos.framework.cli import cli


def run_cli(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str | None = None) -> Result:
    """``conexoos ARGV`` through click; exceptions propagate. ``sys.argv`` is set too, because the
    project's own commands are found from the command line."""
    monkeypatch.setattr(sys, "argv", ["conexoos", *argv])
    return CliRunner().invoke(cli, list(argv), input=stdin, catch_exceptions=False)
