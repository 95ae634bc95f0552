"""App-wide CSRF protection of a native project (``SERVER_ENV.CSRF.ENABLED``): forged writes are refused
with a 400 a person can read, real ones pass with the token in the form or a header, exempt views and
blueprints are not checked, and the product keeps its own single protection."""

from __future__ import annotations

import logging
import re
import textwrap
import time
from pathlib import Path
from typing import Any

import flask_wtf.csrf
import itsdangerous.timed
import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.framework import ConfigError, load_settings
from tests.conftest import AppFactory

from .helpers import write_project

WRITES = ("POST", "PUT", "PATCH", "DELETE")
PROJECT = {
    "server/web.py": """
        import functools

        from flask import Blueprint, render_template_string, request
        from flask.views import MethodView

        from conexoos.framework import csrf_exempt, regenerate_session

        PAGE = '<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}"></form>'


        def form():
            return render_template_string(PAGE)


        def save():
            return "saved by " + request.method


        def login():
            regenerate_session()
            return "logged in"


        @csrf_exempt
        def webhook():
            return "webhook"


        def logged(view):
            @functools.wraps(view)
            def wrapper(*args, **kwargs):
                return view(*args, **kwargs)

            return wrapper


        @logged  # a decorator above csrf_exempt keeps its mark (functools.wraps copies it)
        @csrf_exempt
        def wrapped_webhook():
            return "wrapped"


        @csrf_exempt
        class Callback(MethodView):
            def post(self):
                return "callback"


        hooks = csrf_exempt(Blueprint("hooks", __name__))
        hooks.add_url_rule("/incoming", "incoming", lambda: "incoming", methods=["POST"])
        outer = csrf_exempt(Blueprint("outer", __name__))
        inner = Blueprint("inner", __name__)
        inner.add_url_rule("/deep", "deep", lambda: "deep", methods=["POST"])
        outer.register_blueprint(inner, url_prefix="/inner")
        checked = Blueprint("checked", __name__)
        checked.add_url_rule("/write", "write", lambda: "written", methods=["POST"])


        class Route:
            def __init__(self, server):
                server.add_url_rule("/", "form", form)
                server.add_url_rule("/save", "save", save, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
                server.add_url_rule("/api/save", "api_save", save, methods=["POST"])
                server.add_url_rule("/login", "login", login, methods=["POST"])
                server.add_url_rule("/webhook", "webhook", webhook, methods=["POST"])
                server.add_url_rule("/wrapped", "wrapped", wrapped_webhook, methods=["POST"])
                server.add_url_rule("/callback", view_func=Callback.as_view("callback"))
                server.register_blueprint(hooks, url_prefix="/hooks")
                server.register_blueprint(outer, url_prefix="/outer")
                server.register_blueprint(checked, url_prefix="/checked")
    """,
}
MISSING = "This request was refused because it carries no CSRF token"
REFERRER_REFUSAL = (
    "This request was refused because it did not come from a page of this site: the page that sent it (its "
    "Referer header) is of another site, or its address could not be read. Open the page on this site, "
    "reload it, and try again from there."
)


def native_app(make_app: AppFactory, tmp_path: Path, enabled: Any = True, named: bool = True) -> Flask:
    project = write_project(tmp_path / "native", PROJECT)
    server: dict[str, Any] = {"CSRF": {"ENABLED": enabled}} if named else {}
    return make_app(project, overrides={"SERVER_ENV": server, "DATABASE": {}}, schema=False)


def page_token(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@pytest.fixture
def client(make_app: AppFactory, tmp_path: Path) -> FlaskClient:
    return native_app(make_app, tmp_path).test_client()


@pytest.mark.parametrize("method", WRITES)
def test_a_forged_write_is_refused_with_a_page_that_says_why(client: FlaskClient, method: str) -> None:
    response = client.open("/save", method=method, data={"text": "forged"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert MISSING in response.get_data(as_text=True)


def test_a_forged_json_write_is_refused_with_a_json_error(client: FlaskClient) -> None:
    for response in (client.post("/save", json={"text": "forged"}), client.post("/api/save")):
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "csrf_failed" and error["message"].startswith(MISSING)


@pytest.mark.parametrize(
    "headers",
    [{"Accept": "application/json, text/plain, */*"}, {"X-Requested-With": "XMLHttpRequest"}],
    ids=["axios", "jQuery"],
)
def test_a_script_posting_a_form_outside_the_api_is_refused_with_a_json_error(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    """axios (its Accept rates HTML as high as JSON, by */*) and jQuery got the HTML page: unreadable."""
    response = client.post("/save", data={"text": "forged"}, headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "csrf_failed" and error["message"].startswith(MISSING)


@pytest.mark.parametrize("method", WRITES)
def test_a_form_with_the_token_of_its_page_is_accepted(client: FlaskClient, method: str) -> None:
    token = page_token(client)
    response = client.open("/save", method=method, data={"csrf_token": token, "text": "real"})
    assert (response.status_code, response.get_data(as_text=True)) == (200, f"saved by {method}")


@pytest.mark.parametrize("header", ["X-CSRFToken", "X-CSRF-Token"])
def test_a_script_sends_the_token_in_a_header(client: FlaskClient, header: str) -> None:
    token = page_token(client)
    response = client.put("/save", json={"text": "real"}, headers={header: token})
    assert (response.status_code, response.get_data(as_text=True)) == (200, "saved by PUT")


def test_a_token_of_another_session_or_altered_is_refused(client: FlaskClient, make_app: AppFactory) -> None:
    token = page_token(client)
    assert client.post("/save", data={"csrf_token": token + "x"}).status_code == 400
    stranger = client.application.test_client()
    stranger.get("/")  # a session of its own
    response = stranger.post("/save", data={"csrf_token": token})
    assert response.status_code == 400
    assert "belongs to another session" in response.get_data(as_text=True)


def test_an_expired_token_is_refused_and_says_so(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = page_token(client)
    later = int(time.time()) + 3700  # past Flask-WTF's hour, within the anonymous cookie's two hours
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post("/save", data={"csrf_token": token})
    assert response.status_code == 400 and "has expired" in response.get_data(as_text=True)


def test_each_refusal_is_logged_once_with_its_reason_and_never_the_token(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = page_token(client)
    caplog.set_level(logging.INFO)
    caplog.clear()
    client.post("/save")
    client.post("/save", data={"csrf_token": token[:-3] + "abc"})
    lines = [record.getMessage() for record in caplog.records if record.name != "conexoos.access"]
    assert lines == [
        "CSRF check refused POST /save: no token was sent (neither the csrf_token form field nor the "
        "X-CSRFToken header)",
        "CSRF check refused POST /save: the token is malformed or was not signed by this site",
    ]
    assert token[:20] not in caplog.text


def test_a_renamed_field_and_header_are_the_ones_the_refusal_names(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With WTF_CSRF_FIELD_NAME renamed, the message still told the form to send csrf_token."""
    project = write_project(tmp_path / "native", PROJECT)
    renamed = {"WTF_CSRF_FIELD_NAME": "authenticity_token", "WTF_CSRF_HEADERS": ["X-Authenticity-Token"]}
    overrides = {"SERVER_ENV": {"CSRF": {"ENABLED": True}}, "FLASK": {"CONFIG": renamed}, "DATABASE": {}}
    client = make_app(project, overrides=overrides, schema=False).test_client()
    caplog.set_level(logging.WARNING, logger="conexoos.csrf")
    message = client.post("/save", json={"text": "forged"}).get_json()["error"]["message"]
    assert "its authenticity_token field, a script in the X-Authenticity-Token header" in message
    assert "csrf_token" not in message and "X-CSRFToken" not in message
    (line,) = [record.getMessage() for record in caplog.records if record.name == "conexoos.csrf"]
    assert line.endswith("neither the authenticity_token form field nor the X-Authenticity-Token header)")


@pytest.mark.parametrize(
    "path", ["/webhook", "/wrapped", "/callback", "/hooks/incoming", "/outer/inner/deep"]
)
def test_an_exempt_view_view_class_or_blueprint_is_not_checked(client: FlaskClient, path: str) -> None:
    response = client.post(path, data={"signed": "by the sender"})
    assert response.status_code == 200


def test_a_blueprint_not_exempted_is_checked(client: FlaskClient) -> None:
    assert client.post("/checked/write").status_code == 400
    assert client.post("/checked/write", headers={"X-CSRFToken": page_token(client)}).status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_reads_need_no_token(client: FlaskClient, method: str) -> None:
    assert client.open("/save", method=method).status_code == 200


def test_no_route_is_a_404_not_a_csrf_refusal(client: FlaskClient) -> None:
    assert client.post("/nowhere").status_code == 404


def test_false_turns_the_check_off_and_templates_keep_csrf_token(
    make_app: AppFactory, tmp_path: Path
) -> None:
    client = native_app(make_app, tmp_path, enabled=False).test_client()
    assert "csrf" not in client.application.extensions
    assert page_token(client)  # a template written for the check still renders
    assert client.post("/save").get_data(as_text=True) == "saved by POST"


def test_not_set_leaves_a_native_project_unchecked_and_its_first_write_warns(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="conexoos.csrf")
    client = native_app(make_app, tmp_path, named=False).test_client()
    assert client.get("/").status_code == 200
    assert not caplog.records  # not at start-up nor at a read: commands build the app too
    assert client.post("/save").status_code == 200
    assert client.delete("/save").status_code == 200
    warnings = [record.getMessage() for record in caplog.records if record.name == "conexoos.csrf"]
    assert len(warnings) == 1 and warnings[0].startswith(
        "SERVER_ENV.CSRF.ENABLED is not set, so native's POST, PUT, PATCH and DELETE requests are not checked"
    )


@pytest.mark.parametrize("value", ["maybe", 2, ["true"]])
def test_config_check_refuses_a_value_that_is_not_a_boolean(value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, overrides={"SERVER_ENV": {"CSRF": {"ENABLED": value}}}, environ={})
    assert [problem for problem in caught.value.problems if "CSRF" in problem] == [
        f"SERVER_ENV.CSRF.ENABLED: {value!r} is not valid; expected true or false, or null"
    ]


def test_the_product_keeps_its_one_csrf_protection(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    from conexoos.app.extensions import csrf

    caplog.set_level(logging.WARNING, logger="conexoos.csrf")
    product = make_app(overrides={"SERVER_ENV": {"CSRF": {"ENABLED": True}}})
    assert product.extensions["csrf"] is csrf
    checks = [hook for hook in product.before_request_funcs[None] if hook.__name__ == "csrf_protect"]
    assert len(checks) == 1
    assert not [record for record in caplog.records if record.name == "conexoos.csrf"]


OWN_PROTECTION = """
    import flask_wtf.csrf
    from flask import Blueprint

    from conexoos.framework import csrf_exempt
    from conexoos.framework.lazy_blueprints import record_blueprint, register_blueprints


    def made(text):
        def view():
            return text

        return view


    lazy_hooks = Blueprint("lazy_hooks", __name__, url_prefix="/lazy")


    @lazy_hooks.route("/hook", methods=["POST"])
    @csrf_exempt
    def lazy_hook():
        return "lazy hook"


    @lazy_hooks.route("/write", methods=["POST"])
    def lazy_write():
        return "lazy write"


    class OwnRoute(Route):
        def __init__(self, server):
            flask_wtf.csrf.CSRFProtect(server)
            super().__init__(server)
            exempt_lambda = csrf_exempt(lambda: "lambda")
            server.add_url_rule("/marked-lambda", "marked_lambda", exempt_lambda, methods=["POST"])
            server.add_url_rule("/made-exempt", "made_exempt", csrf_exempt(made("x")), methods=["POST"])
            server.add_url_rule("/made-checked", "made_checked", made("y"), methods=["POST"])
            register_blueprints(server, [record_blueprint(__name__ + ":lazy_hooks")])


    Route = OwnRoute
"""
"""A project with its own Flask-WTF CSRFProtect, the views of :data:`PROJECT`, a lazily registered
blueprint, and marked views whose Flask-WTF key (module and name) an unmarked view shares."""


def test_a_projects_own_csrf_protect_honours_csrf_exempt_view_by_view(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A project's own CSRFProtect ignored every csrf_exempt mark, silently: each webhook got a 400. Then
    it was handed them by Flask-WTF's keys, and a marked view whose module and name an unmarked one shares
    (a lambda, a factory's view) stayed checked."""
    caplog.set_level(logging.WARNING, logger="conexoos.csrf")
    web = textwrap.dedent(PROJECT["server/web.py"]) + textwrap.dedent(OWN_PROTECTION)
    project = write_project(tmp_path / "own", {"server/web.py": web})
    overrides = {"SERVER_ENV": {"CSRF": {"ENABLED": True}}, "DATABASE": {}}
    client = make_app(project, overrides=overrides, schema=False).test_client()
    assert type(client.application.extensions["csrf"]) is flask_wtf.csrf.CSRFProtect
    exempt = ["/webhook", "/wrapped", "/callback", "/hooks/incoming", "/outer/inner/deep", "/lazy/hook"]
    exempt += ["/made-exempt", "/marked-lambda"]
    assert {path: client.post(path).status_code for path in exempt} == dict.fromkeys(exempt, 200)
    checked = ["/save", "/checked/write", "/lazy/write", "/made-checked"]
    assert {path: client.post(path).status_code for path in checked} == dict.fromkeys(checked, 400)
    assert not [record for record in caplog.records if "sets up its own" in record.getMessage()]


def test_a_projects_own_protection_that_is_not_flask_wtfs_is_named_with_the_marks_it_cannot_read(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="conexoos.csrf")
    web = textwrap.dedent(PROJECT["server/web.py"]) + textwrap.dedent(
        """
        class Guard:
            pass


        class GuardedRoute(Route):
            def __init__(self, server):
                server.extensions["csrf"] = Guard()
                super().__init__(server)


        Route = GuardedRoute
        """
    )
    project = write_project(tmp_path / "guarded", {"server/web.py": web})
    make_app(project, overrides={"SERVER_ENV": {"CSRF": {"ENABLED": True}}, "DATABASE": {}}, schema=False)
    (warning,) = [record.getMessage() for record in caplog.records if record.name == "conexoos.csrf"]
    assert warning.startswith(
        "guarded sets up its own CSRF protection (Guard), which is no Flask-WTF CSRFProtect and does not "
        "read csrf_exempt's marks, so these views marked by it are checked as that protection decides: "
        "callback, hooks.incoming, outer.inner.deep, webhook, wrapped."
    )


SAME_NAMES = {
    "server/hooks.py": """
        from flask import Blueprint

        from conexoos.framework import csrf_exempt
        from server.protection import exempt

        first = Blueprint("first", __name__, url_prefix="/first")
        second = Blueprint("second", __name__, url_prefix="/second")


        @first.route("/hook", methods=["POST"])
        @exempt
        def hook():
            return "first hook"


        @first.route("/write", methods=["POST"])
        def write():
            return "first write"


        @second.route("/hook", methods=["POST"])
        def hook():  # noqa: F811 (the same name as first's: Flask-WTF's key for both)
            return "second hook"
    """,
    "server/web.py": """
        from conexoos.framework.lazy_blueprints import record_blueprint, register_blueprints
        from server import protection


        class Route:
            def __init__(self, server):
                if protection.own is not None:
                    protection.own.init_app(server)
                blueprints = [record_blueprint("server.hooks:" + name) for name in ("first", "second")]
                if not protection.LAZY:
                    blueprints = [blueprint.load() for blueprint in blueprints]
                register_blueprints(server, blueprints)
    """,
}
"""Two blueprints in one module, each with a view named ``hook``: first's is exempt, second's is not."""
PROTECTIONS = {
    "the framework's": "own = None\nfrom conexoos.framework import csrf_exempt as exempt\n",
    "a Flask-WTF CSRFProtect": (
        "import flask_wtf.csrf\nown = flask_wtf.csrf.CSRFProtect()\n"
        "from conexoos.framework import csrf_exempt as exempt\n"
    ),
    "the product's kind, by its exempt": (
        "from conexoos.framework.csrf import CSRFProtect\nown = CSRFProtect()\nexempt = own.exempt\n"
    ),
}


@pytest.mark.parametrize("lazy", [True, False], ids=["lazy", "eager"])
@pytest.mark.parametrize("protection", list(PROTECTIONS))
def test_an_exemption_is_of_its_view_not_of_another_with_the_same_name(
    make_app: AppFactory, tmp_path: Path, protection: str, lazy: bool
) -> None:
    """Flask-WTF knows a view by its module and function name: once the first lazy blueprint's exempt
    ``hook`` was installed, the second's unmarked ``hook`` (installed later, its key unseen until then)
    was exempt too, a write no token protected; in an eager app the exempt one was checked."""
    files = {**SAME_NAMES, "server/protection.py": PROTECTIONS[protection] + f"LAZY = {lazy}\n"}
    project = write_project(tmp_path / "same", files)
    overrides = {"SERVER_ENV": {"CSRF": {"ENABLED": True}}, "DATABASE": {}}
    client = make_app(project, overrides=overrides, schema=False).test_client()
    assert client.post("/first/hook").get_data(as_text=True) == "first hook"
    second = client.post("/second/hook")
    assert second.status_code == 400 and MISSING in second.get_data(as_text=True)
    assert client.post("/first/write").status_code == 400


COMPAT_PROJECT = {
    "Server/Web.py": """
        from flask_framework.Server import Process


        def note():
            return "noted"


        def hook():
            return "hooked"


        class Route(object):
            def __init__(self, server):
                server.add_url_rule("/note", "note", note, methods=["POST"])
                server.add_url_rule("/hook", "hook", hook, methods=["POST"])
                Process.csrf().exempt("{}.hook".format(__name__))
    """,
}


def test_a_flask_framework_project_gets_the_same_protection_without_the_key(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """flask-framework's ``Process.init`` always protected its forms: the framework's one protection does,
    and ``Process.csrf()`` is it, its ``exempt`` by dotted name included."""
    app = make_app(
        write_project(tmp_path / "Legacy", COMPAT_PROJECT), overrides={"DATABASE": {}}, schema=False
    )
    client = app.test_client()
    with app.app_context():
        from flask_framework.Server import Process

        assert Process.csrf() is app.extensions["csrf"] is Process._csrf
    response = client.post("/note")
    assert response.status_code == 400 and MISSING in response.get_data(as_text=True)
    assert client.post("/hook").get_data(as_text=True) == "hooked"


def test_the_log_line_keeps_a_line_break_of_the_path_escaped(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.application.add_url_rule("/notes/<name>", "note", lambda name: name, methods=["POST"])
    caplog.set_level(logging.WARNING, logger="conexoos.csrf")
    client.post("/notes/a%0aFORGED line")
    (line,) = [record.getMessage() for record in caplog.records if record.name == "conexoos.csrf"]
    assert line.startswith("CSRF check refused POST /notes/a\\x0aFORGED line: no token was sent")


@pytest.mark.parametrize(
    "referrer",
    [
        "https://[::1",
        "http://[",
        "https://localhost:99999/",
        "https://localhost:abc/",
        "https://evil.example/",
    ],
)
def test_an_unreadable_referrer_over_https_is_refused_like_a_foreign_one(
    client: FlaskClient, referrer: str
) -> None:
    """Flask-WTF compares an HTTPS request's Referer with its host: one Python cannot parse was a 500,
    then a 400 saying it came from another site, and neither said what to do."""
    token = page_token(client)
    response = client.post(
        "/save",
        data={"csrf_token": token, "text": "x"},
        base_url="https://localhost",
        headers={"Referer": referrer},
    )
    assert response.status_code == 400
    assert REFERRER_REFUSAL in response.get_data(as_text=True)
    good = client.post(
        "/save",
        data={"csrf_token": token, "text": "x"},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/"},
    )
    assert good.status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WTF_CSRF_ENABLED", False),
        ("WTF_CSRF_ENABLED", 0),
        ("WTF_CSRF_ENABLED", ""),
        ("WTF_CSRF_CHECK_DEFAULT", False),
        ("WTF_CSRF_CHECK_DEFAULT", 0),
        ("WTF_CSRF_METHODS", ["PUT"]),
        ("WTF_CSRF_METHODS", ["post", "put", "patch", "delete"]),  # Flask-WTF compares them exactly
    ],
)
def test_a_flask_wtf_setting_that_unchecks_writes_is_refused_while_the_key_is_true(
    make_app: AppFactory, tmp_path: Path, name: str, value: Any
) -> None:
    """A leftover test setting in FLASK.CONFIG turned the protection off while the key said it was on."""
    project = write_project(tmp_path / "native", PROJECT)
    overrides = {
        "SERVER_ENV": {"CSRF": {"ENABLED": True}},
        "FLASK": {"CONFIG": {name: value}},
        "DATABASE": {},
    }
    with pytest.raises(ConfigError, match=rf"FLASK\.CONFIG\.{name}: .* unchecked while SERVER_ENV\.CSRF"):
        make_app(project, overrides=overrides, schema=False)


@pytest.mark.parametrize("value", ["abc", -5, True, 1.5, "60"])
def test_a_token_time_limit_that_is_no_number_of_seconds_is_refused(
    make_app: AppFactory, tmp_path: Path, value: Any
) -> None:
    """ "abc" made every checked write a 500 (comparing a number with a string); -5 refused every token."""
    project = write_project(tmp_path / "native", PROJECT)
    overrides = {
        "SERVER_ENV": {"CSRF": {"ENABLED": True}},
        "FLASK": {"CONFIG": {"WTF_CSRF_TIME_LIMIT": value}},
        "DATABASE": {},
    }
    with pytest.raises(ConfigError, match="WTF_CSRF_TIME_LIMIT: .* expected a whole number of seconds"):
        make_app(project, overrides=overrides, schema=False)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WTF_CSRF_FIELD_NAME", "", "a non-empty string"),
        ("WTF_CSRF_FIELD_NAME", "  ", "a non-empty string"),
        ("WTF_CSRF_FIELD_NAME", None, "a non-empty string"),
        ("WTF_CSRF_HEADERS", ["X My Token"], "a list of header names"),
        ("WTF_CSRF_HEADERS", [""], "a list of header names"),
    ],
)
def test_config_check_refuses_a_token_field_or_headers_flask_wtf_would_misread(
    name: str, value: Any, expected: str
) -> None:
    """An empty field name read any form field as the token; a string of headers accepted a header named
    after its first letter. config check said "configuration OK" to both."""
    tree = {"FLASK": {"CONFIG": {name: value}}}
    with pytest.raises(ConfigError, match=rf"FLASK\.CONFIG\.{name}: .* is not valid; expected {expected}"):
        load_settings(overrides=tree)


def test_a_header_written_as_a_string_is_handed_to_flask_wtf_as_a_list() -> None:
    """Flask-WTF read the string X-My-Token letter by letter: a header named X carried the token."""
    tree = {"FLASK": {"CONFIG": {"WTF_CSRF_HEADERS": "X-My-Token"}}}
    assert load_settings(overrides=tree).tree["FLASK"]["CONFIG"]["WTF_CSRF_HEADERS"] == ["X-My-Token"]


def test_a_renamed_field_and_no_headers_are_settings_config_check_accepts() -> None:
    tree = {"FLASK": {"CONFIG": {"WTF_CSRF_FIELD_NAME": "authenticity_token", "WTF_CSRF_HEADERS": []}}}
    assert load_settings(overrides=tree).tree["FLASK"]["CONFIG"]["WTF_CSRF_HEADERS"] == []


def test_a_login_makes_a_new_csrf_secret_so_a_planted_token_stops_working(client: FlaskClient) -> None:
    """regenerate_session() gave the session a new id but kept its CSRF secret: whoever planted the
    anonymous cookie (a sibling subdomain) still held a valid token after the victim logged in."""
    before = page_token(client)
    assert client.post("/login", data={"csrf_token": before}).status_code == 200
    refused = client.post("/save", data={"csrf_token": before, "text": "planted"})
    assert refused.status_code == 400
    after = page_token(client)
    assert after.split(".")[0] != before.split(".")[0]  # the signed secret itself, not only its time
    assert client.post("/save", data={"csrf_token": after, "text": "real"}).status_code == 200


def test_config_check_sees_flask_wtf_settings_that_uncheck_writes_without_building_the_app() -> None:
    """config check said "configuration OK" for what the start then refused."""
    tree = {"SERVER_ENV": {"CSRF": {"ENABLED": True}}, "FLASK": {"CONFIG": {"WTF_CSRF_ENABLED": 0}}}
    with pytest.raises(ConfigError, match=r"FLASK\.CONFIG\.WTF_CSRF_ENABLED: 0 leaves"):
        load_settings(overrides=tree)
    allowed = {"SERVER_ENV": {"CSRF": {"ENABLED": None}}, "FLASK": {"CONFIG": {"WTF_CSRF_ENABLED": False}}}
    assert load_settings(overrides=allowed).tree["FLASK"]["CONFIG"]["WTF_CSRF_ENABLED"] is False
