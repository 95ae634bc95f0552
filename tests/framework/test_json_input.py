"""A project's view reading ``request.get_json()`` answers a 400 for a body nested too deeply, as for any
malformed JSON: it was a 500 with a RecursionError traceback in the log (outside tester)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import AppFactory
from tests.framework.helpers import write_project

ROUTES = """
from flask import jsonify, request


class Route:
    def __init__(self, server):
        server.add_url_rule("/api/notes", "notes", lambda: jsonify(request.get_json()), methods=["POST"])
"""


@pytest.fixture
def app(tmp_path: Path, make_app: AppFactory) -> Flask:
    project = write_project(tmp_path / "notes", {"server/web.py": ROUTES})
    return make_app(project, {"FLASK": {"CONFIG": {"TESTING": False}}})  # a 500 is answered, not raised


@pytest.mark.parametrize("depth", [1_500, 100_000])
def test_json_nested_too_deeply_is_a_400(app: Flask, depth: int, caplog: pytest.LogCaptureFixture) -> None:
    body = "[" * depth + "]" * depth
    response = app.test_client().post("/api/notes", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "bad_request"
    assert "Traceback" not in caplog.text


def test_json_that_nests_a_little_is_read_as_before(app: Flask) -> None:
    body = {"a": [[[1, {"b": "é"}]]]}
    response = app.test_client().post("/api/notes", json=body)
    assert (response.status_code, response.get_json()) == (200, body)
