"""``framework/fast_path.py`` on a small app: which requests a fast path is given a context for."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response

from conexoos.framework.fast_path import FastPath, add_fast_path, install_fast_paths


@pytest.fixture
def contexts() -> list[str]:
    return []


@pytest.fixture
def app(contexts: list[str]) -> Flask:
    """``/<name>`` with a fast path, ``/about`` (GET) and ``/submit`` (POST only) beside it; every request
    context made is noted in ``contexts``."""
    app = Flask(__name__)
    app.add_url_rule("/<name>", "page", lambda name: "by flask")
    app.add_url_rule("/about", "about", lambda: "about")
    app.add_url_rule("/submit", "submit", lambda: "submitted", methods=["POST"])
    install_fast_paths(app)
    add_fast_path(app, FastPath("page", answer=lambda: Response("fast")))
    made = app.request_context

    def noted(environ: Any) -> Any:
        contexts.append(environ["PATH_INFO"])
        return made(environ)

    app.request_context = noted  # type: ignore[method-assign]
    return app


def test_a_path_a_rule_without_variables_takes_pushes_no_context_for_the_fast_path(
    app: Flask, contexts: list[str]
) -> None:
    """``/about`` is the static rule's (the URL map prefers it to ``/<name>``): only Flask's context."""
    assert app.test_client().get("/about").get_data() == b"about"
    assert contexts == ["/about"]


def test_a_static_rule_for_other_methods_leaves_the_path_to_the_fast_path(
    app: Flask, contexts: list[str]
) -> None:
    """``GET /submit``: the URL map sends it to ``/<name>`` (``/submit`` takes only POST), so the fast path
    answers; ``POST /submit`` is Flask's, without a context pushed for the fast path."""
    client = app.test_client()
    assert client.get("/submit").get_data() == b"fast"
    assert client.post("/submit").get_data() == b"submitted"
    assert client.get("/alice").get_data() == b"fast"
    assert contexts == ["/submit", "/submit", "/alice"]
