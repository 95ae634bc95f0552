"""Plugins for tests: fake ones installed in a temporary folder (a real ``.dist-info`` with its entry point,
found by ``importlib.metadata`` as pip's are), and a way to forget a loaded plugin's modules afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from conexoos.framework import db
from conexoos.framework.database import forget_unloaded_models
from conexoos.framework.plugins import set_enabled


def install_fake_plugin(
    root: Path, name: str, module: str, files: dict[str, str], summary: str = "A plugin for tests"
) -> None:
    """Write package ``module`` (``files`` by relative path) and its distribution declaring ``name``."""
    info = root / f"{module}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.2.3\nSummary: {summary}\n"
    )
    (info / "entry_points.txt").write_text(f"[conexoos.plugins]\n{name} = {module}\n")
    for relative, text in {"__init__.py": "", **files}.items():
        path = root / module / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@contextmanager
def plugin_modules_forgotten(*packages: str) -> Iterator[None]:
    """Afterwards, unload ``packages`` (and their models): the rest of the run sees no plugin loaded."""
    try:
        yield
    finally:
        for name in list(sys.modules):
            if any(name == package or name.startswith(package + ".") for package in packages):
                del sys.modules[name]
        forget_unloaded_models()


def switch_plugin(app: Flask, name: str, enabled: bool = True) -> None:
    """Store ``name`` as enabled (or not) in the app's database, as the admin page and the CLI do."""
    with app.app_context():
        set_enabled(name, enabled, "test")
        db.session.commit()


def fake_plugins_fixture(
    monkeypatch: pytest.MonkeyPatch, root: Path, packages: tuple[str, ...]
) -> Iterator[Path]:
    """Put ``root`` first on ``sys.path`` for the test, then forget ``packages``."""
    monkeypatch.syspath_prepend(str(root))
    with plugin_modules_forgotten(*packages):
        yield root
