"""Static files under content-hashed URLs (a year, immutable); the plain URLs work too, cached briefly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string, url_for
from flask.testing import FlaskClient

from conexoos.framework.conditional_requests import PRECONDITION_FAILED
from conexoos.framework.static_files import url_for as static_url_for
from tests.conftest import AppFactory

from .delivery_project import STYLESHEET, delivery_project

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return delivery_project(tmp_path / "delivery")


@pytest.fixture
def app(make_app: AppFactory, project: Path) -> Flask:
    return make_app(project)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def built(app: Flask, endpoint: str, filename: str) -> str:
    """The URL a template's ``url_for(endpoint, filename=...)`` makes."""
    with app.test_request_context():
        return render_template_string(
            "{{ url_for(endpoint, filename=filename) }}", endpoint=endpoint, filename=filename
        )


def test_url_for_names_the_file_by_its_content(app: Flask) -> None:
    assert built(app, "static", "css/site.css") == f"/static/css/site.{digest(STYLESHEET)}.css"
    assert built(app, "static", "robots") == f"/static/robots.{digest('User-agent: *' + chr(10))}"
    assert built(app, "static", "no/such.css") == "/static/no/such.css"  # nothing to hash: left as is
    with app.test_request_context():
        assert static_url_for("static", filename="css/site.css") == built(app, "static", "css/site.css")
        assert url_for("static", filename="css/site.css") == "/static/css/site.css"  # API URLs unchanged


def test_the_hashed_url_is_cached_for_a_year_the_plain_one_briefly(app: Flask, client: FlaskClient) -> None:
    hashed = client.get(built(app, "static", "css/site.css"))
    assert hashed.status_code == 200 and hashed.data == STYLESHEET.encode()
    assert hashed.headers["Cache-Control"] == IMMUTABLE
    assert hashed.mimetype == "text/css"
    plain = client.get("/static/css/site.css")
    assert plain.status_code == 200 and plain.data == STYLESHEET.encode()
    assert plain.headers["Cache-Control"] == SHORT


def test_a_blueprints_static_folder_is_hashed_too(app: Flask, client: FlaskClient) -> None:
    url = built(app, "extras.static", "extra.css")
    assert re.fullmatch(r"/extras/extra\.[0-9a-f]{12}\.css", url), url
    response = client.get(url)
    assert response.status_code == 200 and b"olive" in response.data
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert client.get("/extras/extra.css").headers["Cache-Control"] == SHORT


def test_a_wrong_hash_is_served_briefly_and_a_missing_file_is_404(client: FlaskClient) -> None:
    stale = client.get("/static/css/site.0123456789ab.css")  # another version's URL (a rolling deploy)
    assert stale.status_code == 200 and stale.data == STYLESHEET.encode()
    assert stale.headers["Cache-Control"] == SHORT
    assert client.get(f"/static/css/none.{digest(STYLESHEET)}.css").status_code == 404
    assert client.get("/static/css/none.css").status_code == 404
    assert client.get("/static/../server/web.py").status_code == 404


def test_the_short_cache_is_configuration(make_app: AppFactory, project: Path) -> None:
    app = make_app(project, overrides={"SERVER_ENV": {"STATIC_MAX_AGE": 0}})
    plain = app.test_client().get("/static/css/site.css")
    assert plain.status_code == 200 and "max-age=0" in plain.headers["Cache-Control"]
    assert "immutable" not in plain.headers["Cache-Control"]


def test_a_changed_file_gets_a_new_hash_after_a_restart(make_app: AppFactory, project: Path) -> None:
    before = make_app(project)
    old_url = built(before, "static", "css/site.css")
    changed = STYLESHEET + "h1 { font-size: 2rem; }\n"
    (project / "static/css/site.css").write_text(changed, encoding="utf-8")
    assert built(before, "static", "css/site.css") == old_url  # hashed once per process, not per request

    after = make_app(project)  # a restart
    new_url = built(after, "static", "css/site.css")
    assert new_url == f"/static/css/site.{digest(changed)}.css" != old_url
    client = after.test_client()
    fresh = client.get(new_url)
    assert fresh.data == changed.encode() and fresh.headers["Cache-Control"] == IMMUTABLE
    assert client.get(old_url).headers["Cache-Control"] == SHORT  # never pins the new content for a year


def test_the_products_pages_link_hashed_stylesheets(make_app: AppFactory) -> None:
    client = make_app().test_client()
    html = client.get("/login").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet is not None, "the login page links no content-hashed app.css"
    response = client.get(stylesheet[1])
    assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("unit", ["items", "Pages", "none"])
def test_a_range_in_a_unit_other_than_bytes_is_ignored(client: FlaskClient, unit: str) -> None:
    """RFC 9110 (14.2): a server ignores a Range whose unit it does not understand; it was a 416."""
    whole = client.get("/static/css/site.css", headers={"Range": f"{unit}=0-9"})
    assert whole.status_code == 200 and whole.data == STYLESHEET.encode()
    ranged = client.get("/static/css/site.css", headers={"Range": "Bytes=0-9"})
    assert ranged.status_code == 206 and ranged.data == STYLESHEET.encode()[:10]
    several = client.get("/static/css/site.css", headers={"Range": "bytes=0-1,4-5"})  # not served: ignored
    assert several.status_code == 200 and several.data == STYLESHEET.encode()


def test_if_match_and_if_unmodified_since_are_evaluated_for_ranges_and_dates(client: FlaskClient) -> None:
    """RFC 9110 13.2.2: Werkzeug skipped If-Match when a range was asked for (206: a resumed download
    could join two versions), ignored If-Unmodified-Since, and sent the whole file with its 412."""
    tag = client.get("/static/css/site.css").headers["ETag"]
    cases = {
        "a range of another version": ({"If-Match": '"zz"', "Range": "bytes=0-9"}, 412),
        "two ranges of another version": ({"If-Match": '"zz"', "Range": "bytes=0-1,4-5"}, 412),
        "another version": ({"If-Match": '"zz"'}, 412),
        "modified since": ({"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 412),
        "a range, modified since": (
            {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT", "Range": "bytes=0-9"},
            412,
        ),
        "a range of this version": ({"If-Match": tag, "Range": "bytes=0-9"}, 206),
        "not modified since": ({"If-Unmodified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, 200),
        "an unreadable date": ({"If-Unmodified-Since": "yesterday"}, 200),
    }
    for name, (headers, status) in cases.items():
        answer = client.get("/static/css/site.css", headers=headers)
        assert answer.status_code == status, name
        if status == 412:
            assert answer.get_data(as_text=True) == PRECONDITION_FAILED, name  # not the file
            assert answer.headers["ETag"] == tag and "immutable" not in answer.headers["Cache-Control"], name


def test_a_range_under_a_weak_if_range_gets_the_whole_file(client: FlaskClient) -> None:
    """A weak tag names a compressed body: resuming under it joined plain bytes to gzip ones (13.1.5)."""
    weak = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    strong = client.get("/static/css/site.css").headers["ETag"]
    assert weak.startswith('W/"') and not strong.startswith("W/")
    whole = client.get("/static/css/site.css", headers={"If-Range": weak, "Range": "bytes=5-"})
    assert whole.status_code == 200 and whole.data == STYLESHEET.encode()
    resumed = client.get("/static/css/site.css", headers={"If-Range": strong, "Range": "bytes=5-"})
    assert resumed.status_code == 206 and resumed.data == STYLESHEET.encode()[5:]


def test_a_version_the_client_holds_is_a_304_before_any_range(client: FlaskClient) -> None:
    """RFC 9110 13.2.2: If-None-Match (step 3), or If-Modified-Since without it (4), comes before Range
    (5) and after If-Match (1). Werkzeug served the range, and the whole file when If-Match matched too."""
    first = client.get("/static/css/site.css")
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    held = {
        "a range of the held version": {"If-None-Match": tag, "Range": "bytes=0-9"},
        "a range under If-Range": {"If-None-Match": tag, "If-Range": tag, "Range": "bytes=0-9"},
        "any version held": {"If-None-Match": "*", "Range": "bytes=0-9"},
        "held since": {"If-Modified-Since": modified, "Range": "bytes=0-9"},
        "If-Match of the held version": {"If-Match": tag, "If-None-Match": tag},
        "weakly named": {"If-None-Match": f"W/{tag}", "Range": "bytes=0-9"},
    }
    for name, headers in held.items():
        answer = client.get("/static/css/site.css", headers=headers)
        assert answer.status_code == 304 and answer.data == b"", name
        assert answer.headers["ETag"] == tag and answer.headers["Cache-Control"] == SHORT, name
    other = {"If-None-Match": '"other"', "If-Modified-Since": modified, "Range": "bytes=0-9"}
    ranged = client.get("/static/css/site.css", headers=other)  # If-Modified-Since is not read beside it
    assert ranged.status_code == 206 and ranged.data == STYLESHEET.encode()[:10]
    whole = client.get("/static/css/site.css", headers={"If-Match": tag, "If-None-Match": '"other"'})
    assert whole.status_code == 200 and whole.data == STYLESHEET.encode()


@pytest.mark.parametrize("asked", ["bytes=5-2", "bytes=", "bytes=abc", "bytes=-0", "bytes=--5"])
def test_a_range_that_does_not_parse_is_ignored(client: FlaskClient, asked: str) -> None:
    """RFC 9110 14.2: a Range that is not valid is ignored; Werkzeug answered 416."""
    whole = client.get("/static/css/site.css", headers={"Range": asked})
    assert whole.status_code == 200 and whole.data == STYLESHEET.encode()


def test_a_suffix_longer_than_the_file_is_the_whole_file(client: FlaskClient) -> None:
    """RFC 9110 14.1.2: ``bytes=-N`` past the start covers the whole file; Werkzeug answered 416."""
    length = len(STYLESHEET.encode())
    last = client.get("/static/css/site.css", headers={"Range": "bytes=-10"})
    assert last.status_code == 206 and last.data == STYLESHEET.encode()[-10:]
    for asked in (f"bytes=-{length + 1}", "bytes=-99999999"):
        whole = client.get("/static/css/site.css", headers={"Range": asked})
        assert whole.status_code in (200, 206) and whole.data == STYLESHEET.encode(), asked


def test_an_if_range_date_must_be_the_files_last_modified(client: FlaskClient) -> None:
    """RFC 9110 13.1.5: a date in If-Range matches only the Last-Modified itself; Werkzeug served the range
    under any later date (read as "not modified since")."""
    modified = client.get("/static/css/site.css").headers["Last-Modified"]
    same = client.get("/static/css/site.css", headers={"Range": "bytes=0-9", "If-Range": modified})
    assert same.status_code == 206 and same.data == STYLESHEET.encode()[:10]
    later = {"Range": "bytes=0-9", "If-Range": "Sun, 06 Dec 2099 00:00:00 GMT"}
    whole = client.get("/static/css/site.css", headers=later)
    assert whole.status_code == 200 and whole.data == STYLESHEET.encode()


def test_a_range_past_the_end_says_how_long_the_file_is(client: FlaskClient) -> None:
    """RFC 9110 15.5.17: a 416 carries ``Content-Range: bytes */length``; the error page dropped it."""
    beyond = client.get("/static/css/site.css", headers={"Range": "bytes=99999-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(STYLESHEET.encode())}"


def test_if_match_star_gets_the_file(client: FlaskClient) -> None:
    assert client.get("/static/css/site.css", headers={"If-Match": "*"}).status_code == 200
    assert client.get("/static/css/site.css", headers={"If-Match": '"other"'}).status_code == 412
    assert client.get("/static/css/none.css", headers={"If-Match": "*"}).status_code == 404


@pytest.mark.parametrize(
    "alias", ["css/site.css/", "css//site.css", "css/./site.css", "./css/site.css", "css/../css/site.css"]
)
def test_a_file_is_served_under_its_one_name_only(client: FlaskClient, alias: str) -> None:
    """Werkzeug served each of these spellings: a cache in front would keep every one apart."""
    assert client.get("/static/css/site.css").status_code == 200
    assert client.get(f"/static/{alias}").status_code == 404
