"""Fixtures of the framework tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def bare_project(tmp_path: Path) -> Path:
    """An empty project folder: the framework's own behaviour, without the Conexoos product's modules."""
    folder = tmp_path / "bare_project"
    folder.mkdir()
    return folder
