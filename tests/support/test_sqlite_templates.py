"""A test's SQLite file made from a template (tests/support/sqlite_templates.py) is what create_all makes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from conexoos.app.models.persistent import User
from conexoos.framework import create_app
from conexoos.framework.database import db
from tests.conftest import AppFactory, base_overrides
from tests.support import sqlite_templates
from tests.support.sqlite_templates import SchemaTemplates

REPOSITORY = Path(__file__).resolve().parents[2]


def product(folder: Path) -> Flask:
    return create_app(None, None, overrides=base_overrides(folder))


def schema(path: Path) -> list[tuple[str, str, str]]:
    """Every table, index and trigger of the file, with the SQL that made it."""
    with sqlite3.connect(path) as connection:
        return sorted(connection.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        names = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names)


def test_a_copy_holds_what_create_all_makes_and_no_rows(tmp_path: Path) -> None:
    """Run in a fresh interpreter: in a long test process, what earlier tests left (an app still holding
    its file, a changed environment) may rightly send this one to ``create_all``, which is no failure of
    the templates but would fail the ``copied`` check."""
    script = (
        "import sys, pathlib, tests.support.test_sqlite_templates as t; "
        "t.copy_check(pathlib.Path(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def copy_check(folder: Path) -> None:
    """A second app's new file is a copy of the first's template: the same schema, no rows, and it works."""
    templates = SchemaTemplates(folder / "templates")
    (folder / "templates").mkdir()
    first, second = folder / "first", folder / "second"
    first_app = product(first)
    templates.create_schema(first_app, first / "test.db")
    with first_app.app_context():
        db.session.add(User(username="ana", email="ana@example.org", password_hash="h"))
        db.session.commit()
        db.engine.dispose()
    calls: list[Flask] = []
    sqlite_templates.create_schema = lambda app, _settings: calls.append(app)  # type: ignore[assignment]

    app = product(second)
    templates.create_schema(app, second / "test.db")

    assert calls == []  # copied, not created
    assert schema(second / "test.db") == schema(first / "test.db") != []
    assert rows(second / "test.db") == 0 < rows(first / "test.db")  # the template was kept empty
    with app.app_context():  # the app works on the copy
        assert db.session.query(User).count() == 0


def test_a_second_app_on_the_same_file_keeps_the_first_app_s_rows(make_app: AppFactory) -> None:
    first = make_app()
    with first.app_context():
        db.session.add(User(username="ana", email="ana@example.org", password_hash="h"))
        db.session.commit()
    second = make_app()
    with second.app_context():
        assert [user.username for user in db.session.query(User)] == ["ana"]


def test_an_app_whose_database_is_elsewhere_gets_its_tables_there(
    make_app: AppFactory, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    app = make_app(overrides={"DATABASE": {"main": {"url": f"sqlite:///{elsewhere}"}}})
    with app.app_context():
        assert db.session.query(User).count() == 0
    assert schema(elsewhere) != []


def test_an_open_connection_to_the_file_means_create_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = SchemaTemplates(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    templates.create_schema(product(first), first / "test.db")
    app = product(second)
    second.mkdir(exist_ok=True)
    reader = sqlite3.connect(second / "test.db")  # e.g. a thread of the app holding a connection
    created: list[Flask] = []
    monkeypatch.setattr(sqlite_templates, "create_schema", lambda built, _settings: created.append(built))
    try:
        templates.create_schema(app, second / "test.db")
    finally:
        reader.close()
    assert created == [app]
