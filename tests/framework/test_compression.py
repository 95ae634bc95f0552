"""Brotli and gzip: for text bodies above the threshold, as Accept-Encoding ranks them, never for the rest."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conexoos.framework import compression
from tests.conftest import AppFactory

from .delivery_project import STYLESHEET, delivery_project

BOTH = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return delivery_project(tmp_path / "delivery")


@pytest.fixture
def app(make_app: AppFactory, project: Path) -> Flask:
    return make_app(project)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def decoded(response: TestResponse) -> bytes:
    """The body as the client reads it, after undoing its Content-Encoding."""
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return bytes(brotli.decompress(response.data))
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None, encoding
    return response.data


def plain(client: FlaskClient, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    return response.data


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0, *", "gzip"),  # an explicit refusal beats the wildcard
        ("*", "br"),
        ("gzip;q=0, br;q=0", None),
        ("identity", None),
        ("*;q=0", None),
        ("", None),
    ],
)
def test_the_encoding_follows_accept_encoding(client: FlaskClient, accept: str, expected: str | None) -> None:
    response = client.get("/page", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == expected
    assert decoded(response) == plain(client, "/page")
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert "Accept-Encoding" in response.vary  # whichever was chosen, caches must key on the header


@pytest.mark.parametrize("path", ["/page", "/data"])
def test_html_and_json_above_the_threshold_are_compressed_smaller(client: FlaskClient, path: str) -> None:
    for accept in ("br", "gzip"):
        response = client.get(path, headers={"Accept-Encoding": accept})
        assert response.headers["Content-Encoding"] == accept
        assert len(response.data) < len(plain(client, path)) / 4
        assert decoded(response) == plain(client, path)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/tiny", "below the threshold"),
        ("/image", "already compressed (PNG)"),
        ("/stream", "streamed"),
        ("/encoded", "already has a Content-Encoding"),
        ("/no-transform", "Cache-Control: no-transform"),
        ("/missing", "not a 200"),
    ],
)
def test_left_alone(client: FlaskClient, path: str, why: str) -> None:
    response = client.get(path, headers=BOTH)
    assert response.headers.get("Content-Encoding") in (None, "deflate"), why
    assert "Accept-Encoding" not in response.vary, why


def test_the_etag_of_a_compressed_body_is_weak_and_still_answers_304(client: FlaskClient) -> None:
    assert client.get("/page").headers["ETag"] == '"page-v1"'
    compressed = client.get("/page", headers=BOTH)
    assert compressed.headers["ETag"] == 'W/"page-v1"'
    again = client.get("/page", headers={**BOTH, "If-None-Match": compressed.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_generated_304_carries_the_etag_and_vary_of_its_200(client: FlaskClient, encoding: str) -> None:
    full = client.get("/page", headers={"Accept-Encoding": encoding})
    revalidated = client.get("/page", headers={"Accept-Encoding": encoding, "If-None-Match": '"page-v1"'})
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert revalidated.headers["ETag"] == full.headers["ETag"]
    assert revalidated.headers["Vary"] == full.headers["Vary"]
    assert "Accept-Encoding" in revalidated.vary


def test_head_answers_the_headers_of_get_without_a_body(client: FlaskClient) -> None:
    for path in ("/page", "/static/css/site.css"):
        get = client.get(path, headers={"Accept-Encoding": "br"})
        head = client.head(path, headers={"Accept-Encoding": "br"})
        assert head.status_code == 200 and head.data == b""
        for name in ("Content-Encoding", "Content-Length", "ETag", "Vary", "Content-Type"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)


def test_the_threshold_and_the_switch_are_configuration(make_app: AppFactory, project: Path) -> None:
    low = make_app(project, overrides={"SERVER_ENV": {"COMPRESSION": {"MIN_SIZE": 5}}}).test_client()
    assert low.get("/tiny", headers=BOTH).headers["Content-Encoding"] == "br"
    off = make_app(project, overrides={"SERVER_ENV": {"COMPRESSION": {"ENABLED": False}}}).test_client()
    for path in ("/page", "/data", "/static/css/site.css"):
        response = off.get(path, headers=BOTH)
        assert "Content-Encoding" not in response.headers and "Accept-Encoding" not in response.vary, path


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the Brotli compressions from here on (of any size)."""
    calls: list[int] = []
    original: Callable[..., Any] = brotli.compress

    def compress(data: bytes, **options: Any) -> bytes:
        calls.append(len(data))
        return bytes(original(data, **options))

    monkeypatch.setattr(compression.brotli, "compress", compress)
    compression._compressed_file.cache_clear()
    compression._remembered_compression.cache_clear()
    return calls


def test_the_same_generated_body_is_compressed_once(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page answered again with the same bytes (from the page cache) reuses its compressed form."""
    calls = counting(monkeypatch)
    first = client.get("/page", headers={"Accept-Encoding": "br"})
    second = client.get("/page", headers={"Accept-Encoding": "br"})
    assert first.data == second.data and decoded(second) == plain(client, "/page")
    assert len(calls) == 1
    client.get("/data", headers={"Accept-Encoding": "br"})  # other bytes: compressed
    assert len(calls) == 2


def test_a_static_file_is_compressed_once_per_version(
    client: FlaskClient, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting(monkeypatch)
    first = client.get("/static/css/site.css", headers={"Accept-Encoding": "br"})
    second = client.get("/static/css/site.css", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == second.headers["Content-Encoding"] == "br"
    assert decoded(second) == STYLESHEET.encode()
    assert calls == [len(STYLESHEET)]
    assert "Accept-Ranges" not in first.headers  # ranges would be of the plain file
    assert first.headers["ETag"].startswith('W/"')

    (project / "static/css/site.css").write_text(STYLESHEET + "p { margin: 0; }\n", encoding="utf-8")
    changed = client.get("/static/css/site.css", headers={"Accept-Encoding": "br"})
    assert decoded(changed).endswith(b"p { margin: 0; }\n") and len(calls) == 2


def test_static_files_left_alone(client: FlaskClient) -> None:
    for path in ("/static/js/small.js", "/static/img/logo.png"):
        response = client.get(path, headers=BOTH)
        assert response.status_code == 200 and "Content-Encoding" not in response.headers, path
    ranged = client.get("/static/css/site.css", headers={**BOTH, "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.data == STYLESHEET.encode()[:10]
    assert "Content-Encoding" not in ranged.headers
    assert "Accept-Encoding" in ranged.vary  # as the 200 and the 304 of the same URL say


def test_a_static_304_carries_the_weak_etag_and_vary_of_its_compressed_200(client: FlaskClient) -> None:
    full = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert full.headers["Content-Encoding"] == "gzip"
    revalidated = client.get(
        "/static/css/site.css", headers={"Accept-Encoding": "gzip", "If-None-Match": full.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    assert revalidated.headers["ETag"] == full.headers["ETag"]
    assert "Accept-Encoding" in revalidated.vary


def test_a_range_that_gives_way_gets_the_answer_of_a_plain_get(client: FlaskClient) -> None:
    """A failed If-Range got the plain file without Vary, and a 304 beside a Range the 206's strong ETag:
    neither was the answer it stands for (RFC 9110 15.4.5)."""
    full = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    stale = {"Accept-Encoding": "gzip", "Range": "bytes=0-9", "If-Range": '"another-version"'}
    whole = client.get("/static/css/site.css", headers=stale)
    assert whole.status_code == 200 and whole.headers["Content-Encoding"] == "gzip"
    assert decoded(whole) == STYLESHEET.encode() and "Accept-Encoding" in whole.vary
    held = {"Accept-Encoding": "gzip", "Range": "bytes=0-9", "If-None-Match": full.headers["ETag"]}
    revalidated = client.get("/static/css/site.css", headers=held)
    assert revalidated.status_code == 304 and revalidated.headers["ETag"] == full.headers["ETag"]
    assert "Accept-Encoding" in revalidated.vary
    other = {**held, "If-None-Match": '"another-version"'}  # a copy of another version, gzip accepted:
    renewed = client.get("/static/css/site.css", headers=other)  # the whole of this one, compressed
    assert renewed.status_code == 200 and decoded(renewed) == STYLESHEET.encode()
    plain = {"Range": "bytes=0-9", "If-None-Match": '"another-version"'}  # a resumed download: its range
    ranged = client.get("/static/css/site.css", headers=plain)
    assert ranged.status_code == 206 and ranged.data == STYLESHEET.encode()[:10]
