"""The access logs write control characters escaped, so a request path cannot forge log lines, and leave
one-time links' tokens and configured secrets out."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from werkzeug.test import EnvironBuilder

from conexoos.framework import logs
from conexoos.framework.logs import LOGGED_PATH, escape_control
from conexoos.framework.serve import AccessLogger, _log_options
from tests.conftest import AppFactory

from .delivery_project import delivery_project


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("/a\r\nINFO fake 200", "/a\\x0d\\x0aINFO fake 200"),
        ("/\x1b[31mred", "/\\x1b[31mred"),
        ("/nul\x00", "/nul\\x00"),
        ("/back\\slash", "/back\\\\slash"),
        ("/line\u2028sep\x85", "/line\\u2028sep\\x85"),
        ("/maya.draws/ümlaut", "/maya.draws/ümlaut"),
    ],
)
def test_escape_control(raw: str, logged: str) -> None:
    assert escape_control(raw) == logged


def test_an_encoded_crlf_in_a_path_stays_on_one_log_line(
    make_app: AppFactory, bare_project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(bare_project)
    with caplog.at_level(logging.INFO, logger="conexoos.access"):
        app.test_client().get("/x%0d%0a2026-01-01 INFO conexoos.access: GET /admin 200%1b")
    [line] = [record.getMessage() for record in caplog.records if record.name == "conexoos.access"]
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line.startswith("GET /x\\x0d\\x0a2026-01-01 INFO conexoos.access: GET /admin 200\\x1b 404 ")


def test_a_one_time_links_token_is_left_out_of_both_access_logs(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()  # the product: /password/reset/<token>
    secret = "eyJ1IjoyfQ.aBcDeF.secret-token-value"
    with caplog.at_level(logging.INFO, logger="conexoos.access"):
        answer = app.test_client().get(f"/password/reset/{secret}?from=mail")
    [line] = [record.getMessage() for record in caplog.records if record.name == "conexoos.access"]
    assert secret not in line and line.startswith(f"GET /password/reset/<token> {answer.status_code} ")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/password/reset/{secret}?from=mail",
        "PATH_INFO": f"/password/reset/{secret}",
        "QUERY_STRING": "from=mail",
        "SERVER_PROTOCOL": "HTTP/1.1",
        LOGGED_PATH: "/password/reset/<token>",  # as the app leaves it for gunicorn
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = AccessLogger(Config()).atoms(response, SimpleNamespace(headers=[]), environ, timedelta(0))
    assert atoms["r"] == "GET /password/reset/<token>?from=mail HTTP/1.1"
    assert atoms["U"] == "/password/reset/<token>"
    # Noted in the server's own environ: Flask-SocketIO's layer copies it, and gunicorn's line had the token
    # (also when a Range beside If-None-Match is answered inside without its Range first).
    for headers in ({}, {"Range": "bytes=0-9", "If-None-Match": '"another-version"'}):
        server = EnvironBuilder(path=f"/password/reset/{secret}", headers=headers).get_environ()
        b"".join(app(server, lambda status, headers, exc_info=None: None))
        assert server[LOGGED_PATH] == "/password/reset/<token>", headers
    del environ[LOGGED_PATH]  # a path without secrets is gunicorn's own
    assert AccessLogger(Config()).atoms(response, SimpleNamespace(headers=[]), environ, timedelta(0))[
        "r"
    ] == (f"GET /password/reset/{secret}?from=mail HTTP/1.1")


def test_secrets_in_a_request_line_or_referer_are_hidden_in_both_access_logs(
    tmp_path: Path, make_app: AppFactory
) -> None:
    """Gunicorn's access line wrote a query string's ``password=`` and a configured secret in clear."""
    log_dir = tmp_path / "logs"
    make_app(
        overrides={
            "SERVER_ENV": {"LOG": {"DIR": str(log_dir)}},
            "SERVICES": {"smtp": {"HOST": "smtp.example.org", "PASSWORD": "smtp-pass-77"}},
        }
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/smtp-pass-77?password=zz998877&q=ok",
        "PATH_INFO": "/smtp-pass-77",
        "QUERY_STRING": "password=zz998877&q=ok",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://elsewhere.example/?token=tok123456",
        "HTTP_USER_AGENT": "agent smtp-pass-77",
    }
    response = SimpleNamespace(status="404 NOT FOUND", sent=10, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = AccessLogger(Config()).atoms(response, request, environ, timedelta(0))
    assert atoms["r"] == "GET /***?password=***&q=ok HTTP/1.1"
    assert atoms["q"] == "password=***&q=ok" and atoms["U"] == "/***"
    assert atoms["f"] == "https://elsewhere.example/?token=***" and atoms["a"] == "agent ***"
    encoded = {**environ, "QUERY_STRING": "q=password%3Dxyzzy1234", "RAW_URI": "/smtp-pass-%37%37"}
    atoms = AccessLogger(Config()).atoms(response, request, encoded, timedelta(0))
    assert atoms["q"] == "q=password=***"  # decoded where that shows what the encoding hid
    assert "xyzzy1234" not in atoms["r"] and "smtp-pass-" not in atoms["r"]
    logging.getLogger("conexoos.access").info("GET %s %s", "/smtp-pass-77", 404)
    logs.flush_logs()
    assert "GET /*** 404" in (log_dir / "access.log").read_text(encoding="utf-8")


def test_gunicorns_error_log_hides_secrets_too(tmp_path: Path, make_app: AppFactory) -> None:
    """Under DEV an unhandled error reaches gunicorn's error log, its traceback and request line in clear
    (on stderr without LOG.DIR: gunicorn's own logger was used there)."""
    assert _log_options("", "size")["logger_class"] is AccessLogger
    config = Config()
    config.set("errorlog", str(tmp_path / "gunicorn.error.log"))
    logger = AccessLogger(config)  # set up before the app configured its logs, as serve does
    make_app(overrides={"FLASK": {"CONFIG": {"MY_API_TOKEN": "Zebra7Secret"}}})
    try:
        raise RuntimeError("failing with Zebra7Secret and https://u:Hunter2pw@h/ and password=open123")
    except RuntimeError:
        logger.exception(
            "Error handling request GET /boom?x=Zebra7Secret&p=password%3Dplain99&s=Zebra%37Secret"
        )
    for handler in logger.error_log.handlers:
        handler.flush()
    written = (tmp_path / "gunicorn.error.log").read_text(encoding="utf-8")
    assert "GET /boom?x=***&p=password=***&s=***" in written
    assert "RuntimeError: failing with *** and https://u:***@h/ and password=***" in written
    assert not [
        secret for secret in ("Zebra7Secret", "Hunter2pw", "open123", "plain99", "%37") if secret in written
    ]


def test_the_access_line_has_the_status_a_conditional_request_got(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The conditions are read around the app (conditional_requests.py), after its line was written: a
    file made a 412 was logged 200 (or 206), and one asked for again whole logged two lines."""
    client = make_app(delivery_project(tmp_path / "delivery")).test_client()
    first = client.get("/static/css/site.css")
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    asked = [
        {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT", "Range": "bytes=0-9"},
        {"If-Match": '"zz"', "Range": "bytes=0-9"},
        {"If-None-Match": tag, "Range": "bytes=0-9"},
        {"If-Modified-Since": modified, "Range": "bytes=0-9"},
        {"If-None-Match": '"other"', "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT", "Range": "bytes=0-9"},
        {"If-Match": tag, "Range": "bytes=0-9"},
        {"Range": "bytes=-99999"},
    ]
    for headers in asked:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="conexoos.access"):
            status = client.get("/static/css/site.css", headers=headers).status_code
        lines = [record.getMessage() for record in caplog.records if record.name == "conexoos.access"]
        assert len(lines) == 1 and lines[0].startswith(f"GET /static/css/site.css {status} "), (
            headers,
            lines,
        )
