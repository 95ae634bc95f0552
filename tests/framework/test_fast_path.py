"""``framework/fast_path.py`` on a small app: which requests a fast path is given a context for."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, abort, request

from conexoos.framework.fast_path import FastPath, add_fast_path, install_fast_paths


@pytest.fixture
def contexts() -> list[str]:
    return []


def _by_flask(name: str) -> str:
    return "by flask"


@pytest.fixture
def app(contexts: list[str]) -> Flask:
    """``/<name>`` with a fast path, ``/about`` (GET) and ``/submit`` (POST only) beside it; every request
    context made is noted in ``contexts``."""
    app = Flask(__name__)
    app.add_url_rule("/<name>", "page", _by_flask)
    app.add_url_rule("/about", "about", lambda: "about")
    app.add_url_rule("/submit", "submit", lambda: "submitted", methods=["POST"])
    install_fast_paths(app)
    add_fast_path(app, FastPath("page", view=_by_flask, answer=lambda: Response("fast")))
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


def test_a_view_wrapped_after_registration_is_answered_by_flask_with_its_wrapper(app: Flask) -> None:
    """A project or plugin that wraps the endpoint's view (a ban list) gets Flask's path: the fast path
    stands in only for the view it was registered for."""
    original = app.view_functions["page"]

    def banned(name: str) -> tuple[str, int]:
        return "banned", 403

    app.view_functions["page"] = banned
    client = app.test_client()
    assert client.get("/alice").status_code == 403
    app.view_functions["page"] = original
    assert client.get("/alice").get_data() == b"fast"


def test_a_failing_fast_path_is_logged_and_left_to_flask(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """An error in the fast path (say, a library changed under it) is not a 500 and not silent: Flask
    answers, and the failure is logged with its traceback, once per minute per endpoint."""
    paths = app.extensions["conexoos.fast_paths"].paths

    def broken() -> Response:
        raise RuntimeError("changed under us")

    paths[0] = FastPath("page", view=_by_flask, answer=broken)
    client = app.test_client()
    with caplog.at_level("WARNING", logger="conexoos.framework.fast_path"):
        assert [client.get("/alice").get_data() for _ in range(3)] == [b"by flask"] * 3
    failures = [record for record in caplog.records if "fast path of page failed" in record.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None and "changed under us" in str(failures[0].exc_info[1])


def test_a_failing_accepts_is_logged_and_left_to_flask(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    paths = app.extensions["conexoos.fast_paths"].paths

    def broken(environ: Any) -> bool:
        raise ValueError("bad look at the environ")

    paths[0] = FastPath("page", view=_by_flask, answer=lambda: Response("fast"), accepts=broken)
    with caplog.at_level("WARNING", logger="conexoos.framework.fast_path"):
        assert app.test_client().get("/bob").get_data() == b"by flask"
    assert any("fast path of page failed" in record.getMessage() for record in caplog.records)


def test_a_hook_answering_with_an_http_error_is_not_logged_as_a_failure(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A before-request function's 404 (say, for a NUL in the path) is an answer, which Flask gives: not a
    failure of the fast path (a visitor could otherwise fill the once-a-minute warning with 404s and hide a
    real failure)."""

    @app.before_request
    def refuse_tildes() -> None:
        if "~" in request.path:
            abort(404)

    with caplog.at_level("WARNING", logger="conexoos.framework.fast_path"):
        assert app.test_client().get("/~alice").status_code == 404
        assert app.test_client().get("/alice").get_data() == b"fast"
    assert not [record for record in caplog.records if "failed" in record.getMessage()]


def test_a_miss_is_answered_by_the_view_with_the_before_request_functions_run_once(app: Flask) -> None:
    """``answer`` returning None (a cache miss): the view answers in the same context, after one run of
    the before-request functions (not once for the fast path and once more for Flask)."""
    calls: list[str] = []
    paths = app.extensions["conexoos.fast_paths"].paths
    paths[0] = FastPath("page", view=_by_flask, answer=lambda: None)

    @app.before_request
    def count() -> None:
        calls.append(request.path)

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-After"] = "ran"
        return response

    answered = app.test_client().get("/alice")
    assert (answered.get_data(), answered.headers["X-After"]) == (b"by flask", "ran")
    assert calls == ["/alice"]


def test_a_views_errors_on_a_miss_get_flasks_handlers(app: Flask) -> None:
    """After a miss, what the view raises is handled as Flask handles it: an HTTP error by its handler, any
    other error as a 500 with the error passed to the teardown functions."""
    paths = app.extensions["conexoos.fast_paths"].paths
    torn_down: list[str] = []

    def failing(name: str) -> str:
        if name == "gone":
            abort(410)
        raise RuntimeError("the view broke")

    app.view_functions["page"] = failing
    paths[0] = FastPath("page", view=failing, answer=lambda: None)
    app.register_error_handler(410, lambda error: ("gone for good", 410))
    app.teardown_request(lambda error: torn_down.append(type(error).__name__))

    client = app.test_client()
    gone = client.get("/gone")
    assert (gone.status_code, gone.get_data()) == (410, b"gone for good")
    assert client.get("/alice").status_code == 500
    assert torn_down == ["NoneType", "RuntimeError"]
