"""The access log writes control characters escaped, so a request path cannot forge log lines."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from conexoos.framework.logs import escape_control
from tests.conftest import AppFactory


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
