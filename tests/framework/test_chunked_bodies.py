"""A chunked request body (no Content-Length) over MAX_CONTENT_LENGTH is a 413, as a measured one is;
within the limit it reaches the view whole (framework/chunked_bodies.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask, request
from werkzeug.serving import DechunkedInput

from tests.conftest import AppFactory

LIMIT = 1000


def chunked_post(app: Flask, path: str, body: bytes) -> tuple[int, str]:
    """POST ``body`` as a server hands a chunked request to the app: no CONTENT_LENGTH, the input ended."""
    environ = {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "CONTENT_LENGTH": ""}
    answer = app.test_client().post(
        path,
        environ_overrides=environ,
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"},
    )
    return answer.status_code, answer.get_data(as_text=True)


def test_a_chunked_body_over_the_limit_is_refused_not_cut(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(
        bare_project,
        overrides={"FLASK": {"CONFIG": {"MAX_CONTENT_LENGTH": LIMIT, "WTF_CSRF_ENABLED": False}}},
    )
    seen: list[int] = []

    @app.post("/notes")
    def notes() -> str:
        seen.append(len(request.form.get("text", "")))
        return "saved"

    status, page = chunked_post(app, "/notes", b"text=" + b"a" * 5000)
    assert status == 413 and "the most this site accepts in one request" in page
    assert seen == []  # the view never saw a cut body
    assert chunked_post(app, "/notes", b"text=" + b"a" * (LIMIT - 5)) == (200, "saved")
    assert seen == [LIMIT - 5]  # whole
    assert chunked_post(app, "/notes", b"text=" + b"a" * (LIMIT - 4))[0] == 413  # one byte over


@pytest.mark.parametrize(
    "sent",
    [b"zz\r\n", b"-5\r\nabc\r\n", b"3;name=val\r\nabc\r\n0\r\n\r\n", b"3\r\nabcXX0\r\n\r\n"],
    ids=["bad-size", "negative", "extension", "no-newline"],
)
def test_a_chunked_body_the_development_server_cannot_read_is_a_400(
    make_app: AppFactory, bare_project: Path, sent: bytes
) -> None:
    """Werkzeug's development server reads chunks with ``DechunkedInput``, which raises OSError on what it
    cannot parse (a bad size, a chunk extension): every route was a 500 with the debugger's page."""
    app = make_app(bare_project, overrides={"FLASK": {"CONFIG": {"WTF_CSRF_ENABLED": False}}})

    @app.post("/notes")
    def notes() -> str:
        return request.get_data(as_text=True)

    environ = {
        "wsgi.input": DechunkedInput(io.BytesIO(sent)),
        "wsgi.input_terminated": True,
        "CONTENT_LENGTH": "",
    }
    for path in ("/notes", "/healthz"):
        answer = app.test_client().post(
            path, environ_overrides=environ, headers={"Transfer-Encoding": "chunked"}
        )
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert "chunked" in answer.get_data(as_text=True)
        environ["wsgi.input"] = DechunkedInput(io.BytesIO(sent))
