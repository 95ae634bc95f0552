"""A blueprint registered by its rules is imported at its first request and then works as if registered
with the app (framework/lazy_blueprints.py); one that does more than add rules is refused."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, url_for

from conexoos.framework.lazy_blueprints import (
    LazyBlueprint,
    NotLazyError,
    StaleRouteTableError,
    load_blueprint,
    record_blueprint,
    register_blueprints,
)

NOTES = """
from flask import Blueprint, abort, g, request

notes = Blueprint("notes", __name__, url_prefix="/notes")


@notes.before_request
def refuse_the_locked():
    if request.args.get("locked"):
        abort(403)


@notes.after_request
def mark(response):
    response.headers["X-Notes"] = "yes"
    return response


@notes.errorhandler(418)
def teapot(error):
    return "short and stout", 418


@notes.route("/", methods=["GET", "POST"])
def index():
    return "all notes"


@notes.route("/<int:note_id>")
@notes.route("/<int:note_id>/view")
def show(note_id):
    if note_id == 418:
        abort(418)
    return f"note {note_id}"
"""
GLOBAL = """
from flask import Blueprint

everywhere = Blueprint("everywhere", __name__)


@everywhere.app_template_global("shout")
def shout(text):
    return text.upper()


@everywhere.route("/everywhere")
def index():
    return shout("here")
"""


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``lazy_probe_notes`` and ``lazy_probe_global`` importable, and forgotten after the test."""
    (tmp_path / "lazy_probe_notes.py").write_text(NOTES)
    (tmp_path / "lazy_probe_global.py").write_text(GLOBAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("lazy_probe_notes", "lazy_probe_global"):
        sys.modules.pop(name, None)


def _app(lazy: LazyBlueprint) -> Flask:
    app = Flask("lazy_probe_app")
    register_blueprints(app, [lazy])
    return app


def test_the_module_is_imported_at_the_first_request_and_its_hooks_run(modules: Path) -> None:
    lazy = record_blueprint("lazy_probe_notes:notes")
    sys.modules.pop("lazy_probe_notes")
    app = _app(lazy)
    with app.test_request_context():
        assert url_for("notes.show", note_id=3) == "/notes/3/view"  # the first rule added, as Flask builds
    assert sorted(rule.rule for rule in app.url_map.iter_rules()) == [
        "/notes/",
        "/notes/<int:note_id>",
        "/notes/<int:note_id>/view",
        "/static/<path:filename>",
    ]
    assert "lazy_probe_notes" not in sys.modules
    client = app.test_client()
    locked = client.get("/notes/3?locked=1")  # the first request: its before_request hook refuses it
    assert (locked.status_code, locked.headers.get("X-Notes")) == (403, "yes")
    assert "lazy_probe_notes" in sys.modules
    assert client.get("/notes/3/view").get_data(as_text=True) == "note 3"
    assert client.get("/notes/418").get_data(as_text=True) == "short and stout"
    assert client.post("/notes/").get_data(as_text=True) == "all notes"
    assert client.put("/notes/").status_code == 405
    assert app.blueprints["notes"] is sys.modules["lazy_probe_notes"].notes


def test_a_direct_call_of_a_stand_in_view_installs_the_blueprint(modules: Path) -> None:
    app = _app(record_blueprint("lazy_probe_notes:notes"))
    with app.test_request_context():
        assert app.view_functions["notes.show"](note_id=5) == "note 5"
        assert app.view_functions["notes.show"] is sys.modules["lazy_probe_notes"].show


def test_a_view_wrapped_before_the_install_stays_wrapped(modules: Path) -> None:
    """A ban list or a limit wrapped around ``app.view_functions[...]`` at start-up keeps working."""
    app = _app(record_blueprint("lazy_probe_notes:notes"))
    stand_in = app.view_functions["notes.show"]

    def banned(**values: object) -> object:
        return "banned" if values["note_id"] == 13 else stand_in(**values)

    app.view_functions["notes.show"] = banned
    client = app.test_client()
    assert client.get("/notes/13").get_data(as_text=True) == "banned"
    assert client.get("/notes/12").get_data(as_text=True) == "note 12"
    assert app.view_functions["notes.show"] is banned


def test_load_blueprint_installs_it_without_a_request(modules: Path) -> None:
    app = _app(record_blueprint("lazy_probe_notes:notes"))
    assert app.blueprints["notes"] is not sys.modules["lazy_probe_notes"].notes  # the stand-in
    assert load_blueprint(app, "notes") is sys.modules["lazy_probe_notes"].notes
    assert app.before_request_funcs["notes"] == [sys.modules["lazy_probe_notes"].refuse_the_locked]
    assert load_blueprint(app, "absent") is None


def test_changed_rules_are_an_error_naming_the_command(modules: Path) -> None:
    lazy = record_blueprint("lazy_probe_notes:notes", "probe_table")
    stale = LazyBlueprint(lazy.reference, lazy.name, lazy.rules[:-1], lazy.table)
    app = _app(stale)
    with pytest.raises(
        StaleRouteTableError, match="python -m conexoos.framework.lazy_blueprints probe_table"
    ):
        load_blueprint(app, "notes")


def test_a_blueprint_with_app_wide_functions_is_refused(modules: Path) -> None:
    with pytest.raises(NotLazyError, match="lazy_probe_global:everywhere registers app-wide functions"):
        record_blueprint("lazy_probe_global:everywhere")
