"""Errors keep their real status code: JSON for /api/ and JSON clients, an HTML page otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.conftest import AppFactory

from .helpers import write_project

ROUTES = """
    from flask import abort, request
    from werkzeug.exceptions import BadRequest, TooManyRequests, Unauthorized
    from werkzeug.datastructures import WWWAuthenticate

    from conexoos.framework import error_response


    def bad_request():
        error = BadRequest("name is required")
        error.field = "name"
        raise error


    def unauthorized():
        raise Unauthorized("sign in first", www_authenticate=WWWAuthenticate("basic", {"realm": "shop"}))


    def forbidden():
        abort(403, "not yours")


    def only_get():
        return "got it"


    def upload():
        return f"received {len(request.get_data())} bytes"


    def slow_down():
        raise TooManyRequests("too many attempts", retry_after=30)


    def crash():
        raise RuntimeError("database password hunter2 leaked in a traceback")


    def custom():
        return error_response(422, "price must be positive", field="price")


    def upstream_down():
        abort(503, "the payment provider cannot be reached; try again in a minute")


    def item(item_id):
        return f"item {item_id}"


    class Route:
        def __init__(self, app):
            for prefix in ("", "/api"):
                app.add_url_rule(f"{prefix}/bad", f"bad{prefix}", bad_request)
                app.add_url_rule(f"{prefix}/login", f"login{prefix}", unauthorized)
                app.add_url_rule(f"{prefix}/forbidden", f"forbidden{prefix}", forbidden)
                app.add_url_rule(f"{prefix}/only-get", f"only_get{prefix}", only_get, methods=["GET"])
                app.add_url_rule(f"{prefix}/upload", f"upload{prefix}", upload, methods=["POST"])
                app.add_url_rule(f"{prefix}/slow", f"slow{prefix}", slow_down)
                app.add_url_rule(f"{prefix}/crash", f"crash{prefix}", crash)
                app.add_url_rule(f"{prefix}/upstream", f"upstream{prefix}", upstream_down)
            app.add_url_rule("/api/items/<id:item_id>", "item", item)
            app.add_url_rule("/api/big-items/<bigid:item_id>", "big_item", item)
            app.add_url_rule("/api/custom", "custom", custom)
"""

# status, method, path, expected message, expected field
CASES = [
    (400, "GET", "/bad", "name is required", "name"),
    (401, "GET", "/login", "sign in first", None),
    (403, "GET", "/forbidden", "not yours", None),
    (
        404,
        "GET",
        "/missing",
        "There is no page at this address.",
        None,
    ),
    (405, "POST", "/only-get", "The method is not allowed for the requested URL.", None),
    (
        413,
        "POST",
        "/upload",
        "The request is larger than 1 KB, the most this site accepts in one request. Send a smaller file.",
        None,
    ),
    (429, "GET", "/slow", "too many attempts", None),
    (500, "GET", "/crash", "The server met an unexpected error. It has been logged.", None),
    (503, "GET", "/upstream", "the payment provider cannot be reached; try again in a minute", None),
]
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@pytest.fixture
def app(tmp_path: Path, make_app: AppFactory) -> Flask:
    project = write_project(tmp_path / "errors", {"server/web.py": ROUTES})
    # TESTING off so that an unhandled exception becomes a 500 response instead of reaching the test.
    return make_app(project, {"FLASK": {"CONFIG": {"TESTING": False, "MAX_CONTENT_LENGTH": 1024}}})


def request(app: Flask, method: str, path: str, accept: str | None = None) -> TestResponse:
    headers = {"Accept": accept} if accept else {}
    data = b"x" * 4096 if path.endswith("/upload") else None
    return app.test_client().open(path, method=method, headers=headers, data=data)


@pytest.mark.parametrize(
    ("status", "method", "path", "message", "field"), CASES, ids=[str(c[0]) for c in CASES]
)
@pytest.mark.parametrize("how", ["api-path", "accept-json"])
def test_json_errors_for_api_paths_and_json_clients(
    app: Flask, status: int, method: str, path: str, message: str, field: str | None, how: str
) -> None:
    if how == "api-path":
        response = request(app, method, "/api" + path)
    else:
        response = request(app, method, path, accept="application/json")

    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": {"code": CODES[status], "message": message, "field": field}}


@pytest.mark.parametrize(
    ("status", "method", "path", "message", "field"), CASES, ids=[str(c[0]) for c in CASES]
)
def test_html_errors_for_pages(
    app: Flask, status: int, method: str, path: str, message: str, field: str | None
) -> None:
    response = request(app, method, path, accept="text/html,application/xhtml+xml,*/*;q=0.8")

    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<title>{status} {TITLES[status]}</title>" in page
    assert f"<p>{message}</p>" in page


SCRIPTS = {
    "axios": {"Accept": "application/json, text/plain, */*"},
    "JSON named before HTML": {"Accept": "application/json, text/html"},
    "JSON with parameters": {"Accept": "application/json; charset=utf-8, */*"},
    "JSON alone with parameters": {"Accept": "application/json; charset=utf-8"},
    "JSON with parameters, no space": {"Accept": "application/json;charset=UTF-8"},
    "jQuery": {"X-Requested-With": "XMLHttpRequest", "Accept": "*/*"},
}
"""Scripts' headers: each rates JSON as high as HTML (by ``*/*``) but names JSON, or says it is a script."""
BROWSERS = {
    "Chromium": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "Firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Safari": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "curl": "*/*",
    "HTML named before JSON": "text/html, application/json",
    "HTML with parameters rated above JSON": "text/html;level=1, application/json;q=0.99",
}


@pytest.mark.parametrize("headers", SCRIPTS.values(), ids=SCRIPTS.keys())
@pytest.mark.parametrize("path", ["/forbidden", "/missing"])
def test_scripts_that_name_json_or_say_they_are_scripts_get_json(
    app: Flask, headers: dict[str, str], path: str
) -> None:
    """axios's Accept rates text/html 1 by its */*, as high as JSON: a script got the HTML page."""
    response = app.test_client().get(path, headers=headers)
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] in ("forbidden", "not_found")


@pytest.mark.parametrize("accept", BROWSERS.values(), ids=BROWSERS.keys())
def test_browsers_and_curl_still_get_the_page(app: Flask, accept: str) -> None:
    response = request(app, "GET", "/forbidden", accept=accept)
    assert (response.status_code, response.mimetype) == (403, "text/html")


def test_headers_of_the_original_error_are_kept(app: Flask) -> None:
    allowed = request(app, "POST", "/api/only-get").headers["Allow"]
    assert set(allowed.split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert request(app, "GET", "/api/slow").headers["Retry-After"] == "30"
    assert request(app, "GET", "/login").headers["WWW-Authenticate"] == "Basic realm=shop"


@pytest.mark.parametrize(
    ("kind", "item_id"),
    [("items", "1"), ("items", str(2**31 - 1)), ("big-items", "1"), ("big-items", str(2**63 - 1))],
)
def test_id_converters_match_ids_their_column_can_hold(app: Flask, kind: str, item_id: str) -> None:
    response = request(app, "GET", f"/api/{kind}/{item_id}")
    assert (response.status_code, response.get_data(as_text=True)) == (200, f"item {item_id}")


@pytest.mark.parametrize(
    ("kind", "item_id"),
    [
        *[("items", bad) for bad in ("0", "-1", "01", str(2**31), "9" * 40, "abc", "1.5")],
        *[("big-items", bad) for bad in ("0", "01", str(2**63), "9" * 40)],
    ],
)
def test_id_converters_turn_impossible_ids_into_a_404(app: Flask, kind: str, item_id: str) -> None:
    response = request(app, "GET", f"/api/{kind}/{item_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_error_response_helper(app: Flask) -> None:
    response = request(app, "GET", "/api/custom")
    assert response.status_code == 422
    assert response.get_json() == {
        "error": {"code": "unprocessable_entity", "message": "price must be positive", "field": "price"}
    }


def test_a_browser_accepting_anything_gets_html(app: Flask) -> None:
    assert request(app, "GET", "/missing", accept="*/*").mimetype == "text/html"
    assert request(app, "GET", "/missing").mimetype == "text/html"


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_500_outside_dev_is_a_generic_page_without_traceback(
    tmp_path: Path, make_app: AppFactory, env: str
) -> None:
    project = write_project(tmp_path / "errors", {"server/web.py": ROUTES})
    app = make_app(project, {"SERVER_ENV": {"ENV": env}, "FLASK": {"CONFIG": {"TESTING": False}}})
    assert app.debug is False

    for path, mimetype in (("/crash", "text/html"), ("/api/crash", "application/json")):
        response = app.test_client().get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert response.mimetype == mimetype
        assert "The server met an unexpected error. It has been logged." in body
        for leak in ("Traceback", "RuntimeError", "hunter2", "web.py"):
            assert leak not in body


def test_json_path_prefixes_are_configurable(make_app: AppFactory, bare_project: Path) -> None:
    app = make_app(bare_project, {"FLASK": {"CONFIG": {"JSON_PATH_PREFIXES": ["/v1/"]}}})
    client = app.test_client()
    assert client.get("/v1/missing").get_json()["error"]["code"] == "not_found"
    assert client.get("/api/missing").mimetype == "text/html"


def test_the_413_names_the_configured_request_limit(make_app: AppFactory, tmp_path: Path) -> None:
    project = write_project(tmp_path / "errors", {"server/web.py": ROUTES})
    limit = 3 * 1024 * 1024 // 2
    app = make_app(project, {"FLASK": {"CONFIG": {"MAX_CONTENT_LENGTH": limit}}})

    response = app.test_client().post("/api/upload", data=b"x" * (limit + 1))

    assert response.status_code == 413
    assert response.get_json()["error"]["message"].startswith("The request is larger than 1.5 MB,")


def test_a_form_field_over_the_form_limit_is_named_as_such(make_app: AppFactory, tmp_path: Path) -> None:
    project = write_project(tmp_path / "errors", {"server/web.py": FORM_ROUTES})
    app = make_app(project, {"FLASK": {"CONFIG": {"MAX_FORM_MEMORY_SIZE": 2048}}})

    client = app.test_client()
    response = client.post("/form", data={"text": "x" * 4096}, content_type="multipart/form-data")

    assert response.status_code == 413
    assert (
        "A field of this form is larger than 2 KB, or the form has more than 1,000 parts"
        in response.get_data(as_text=True)
    )


def test_a_413_raised_with_its_own_message_keeps_it(make_app: AppFactory, tmp_path: Path) -> None:
    project = write_project(tmp_path / "errors", {"server/web.py": FORM_ROUTES})
    response = make_app(project).test_client().get("/api/own-413")
    assert response.get_json()["error"]["message"] == "The import holds at most 1 MB."


FORM_ROUTES = """
    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge


    def form():
        return request.form["text"]


    def own_413():
        raise RequestEntityTooLarge("The import holds at most 1 MB.")


    class Route:
        def __init__(self, app):
            app.add_url_rule("/form", "form", form, methods=["POST"])
            app.add_url_rule("/api/own-413", "own_413", own_413)
"""


SCHEMA_ROUTES = """
    from sqlalchemy import text

    from conexoos.framework import db


    def stale():
        return str(db.session.execute(text("SELECT missing_column FROM no_such_table")).all())


    class Route:
        def __init__(self, app):
            app.add_url_rule("/stale", "stale", stale)
"""


def test_a_table_the_database_lacks_is_a_500_saying_to_migrate_not_an_outage(
    tmp_path: Path, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite says "no such table/column" with an OperationalError, which was answered as the database
    being down: a 503 "try again in a minute", and "database unreachable" in the log."""
    project = write_project(tmp_path / "stale", {"server/web.py": SCHEMA_ROUTES})
    app = make_app(project, {"FLASK": {"CONFIG": {"TESTING": False}}})
    with caplog.at_level("ERROR", logger="conexoos.http_errors"):
        response = app.test_client().get("/stale")
    assert response.status_code == 500 and "Retry-After" not in response.headers
    [logged] = [record.getMessage() for record in caplog.records if record.name == "conexoos.http_errors"]
    assert logged.startswith("the database's tables differ from the models (")
    assert "no such table: no_such_table" in logged and "run `conexoos db migrate`" in logged


UNTRUSTED_HOST_FILES = {
    "server/web.py": """
    class Route:
        def __init__(self, app):
            app.add_url_rule("/", "home", lambda: "home")
    """,
    "server/middleware.py": """
    from flask import g, url_for


    class Load:
        def __init__(self, app):
            app.before_request(lambda: setattr(g, "home_link", url_for("home")))
    """,
    "templates/errors/error.html": (
        '<h1>{{ status }}</h1><a href="{{ url_for("home") }}">{{ g.home_link }}</a>'
    ),
}


def test_an_untrusted_host_is_a_400_page_for_every_client(tmp_path: Path, make_app: AppFactory) -> None:
    """The project's error template and before-request hooks build URLs: Flask gives a request whose host
    TRUSTED_HOSTS refuses no URL adapter, and each was a 500 with a traceback (JSON got its 400)."""
    project = write_project(tmp_path / "hosts", UNTRUSTED_HOST_FILES)
    app = make_app(project, {"FLASK": {"CONFIG": {"TESTING": False, "TRUSTED_HOSTS": ["localhost"]}}})
    client = app.test_client()
    trusted = client.get("/missing")
    assert trusted.status_code == 404 and trusted.get_data(as_text=True) == '<h1>404</h1><a href="/">/</a>'
    for accept in (None, "text/html", "application/json"):
        headers = {"Host": "evil.example", **({"Accept": accept} if accept else {})}
        refused = client.get("/", headers=headers)
        assert refused.status_code == 400, (accept, refused.get_data(as_text=True)[:300])
        assert refused.mimetype == ("application/json" if accept == "application/json" else "text/html")
    assert "<h1>400 Bad Request</h1>" in client.get("/", headers={"Host": "evil.example"}).get_data(
        as_text=True
    )
