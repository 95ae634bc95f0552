"""Property-based: no request a visitor or a user can make returns a 5xx, whatever its text holds.

Hypothesis drives every JSON endpoint (from the OpenAPI registry), every GET route of the URL map, the
public page and click redirects with tracking parameters, and the log-in, sign-up and settings forms with
NUL bytes, lone surrogates (raw ``%ED%A0%80`` and JSON ``"\\ud800"``), CR/LF, huge and negative
numbers, out-of-range date-times and long strings. Each request must get an answer below 500; a 4xx from
the JSON API must say why in the ``{"error": {...}}`` shape.

The stats query parameters (``/api/stats``, ``/api/stats.csv``, ``/dashboard/stats``) belong to another
test file and are left out here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter, PathConverter
from werkzeug.test import TestResponse

from conexoos.app.dto.fields import Schema
from conexoos.app.dto.openapi import Operation, api
from conexoos.app.server.blueprint_routes import BLUEPRINTS

from .conftest import Account, form_token

pytestmark = pytest.mark.database_matrix  # NUL bytes pass SQLite but not PostgreSQL: run on every server
EXCLUDED_PATHS = {"/api/stats", "/api/stats.csv", "/dashboard/stats", "/stripe/webhook"}
"""Stats parameters are tested by their owner's file; the webhook is signed by Stripe, not a browser."""
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_TEXT = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\udbff\udfff\ud800",
    "\r\n",
    "line\r\nSet-Cookie: a=b",
    "\t",
    "\x1b[31m",
    "\x7f",
    "\u202e",
    "\ufeff",
    "\u200b",
    "%00",
    "%ED%A0%80",
    "%0d%0a",
    "",
    " ",
    "a" * 5000,
    "../../etc/passwd",
    "//evil.example",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\N{PILE OF POO}",
    "ſtraße",
    "robots.txt",
]
HOSTILE_TIMES = [
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:00+25:00",
    "2026-01-01T00:00:00+23:59",
    "1970-01-01T00:00:00-23:59",
    "1e9",
    "2026-01-01\x00",
]
HOSTILE_NUMBERS = [0, -1, 2**31 - 1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**40, 1.5, 1e308]
HOSTILE_SEGMENTS = [
    "%0d%0a",
    "x%0d%0aSet-Cookie:%20a=b",
    "%00",
    "%ED%A0%80",
    "%FF%FE",
    "%C0%AF",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e",
    "a" * 3000,
    "0",
    "-1",
    str(2**31),
    str(2**64),
    "00001",
]


REPRESENTATIVES: list[Any] = [
    "\x00",
    "\ud800",
    "a\udfffb",
    "\r\nX: y",
    "\x1b",
    "a" * 5000,
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    2**64,
    -1,
    1e308,
    None,
    [],
    {"\ud800": "\x00"},
]
"""One value of each class of bad input, tried in every field of every endpoint (the table tests), while
Hypothesis explores combinations around them."""


def _characters() -> st.SearchStrategy[str]:
    """Any code point, lone surrogates and controls included (Hypothesis leaves surrogates out by default)."""
    return st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", "\r", "\n", "\x1b"]))


def hostile_text() -> st.SearchStrategy[str]:
    """Known-bad strings, arbitrary text, and the two mixed."""
    known = st.sampled_from(HOSTILE_TEXT)
    return st.one_of(
        known,
        st.text(_characters(), max_size=40),
        st.builds(lambda a, b, c: a + b + c, st.text(max_size=5), known, st.text(_characters(), max_size=5)),
    )


def json_leaves() -> st.SearchStrategy[Any]:
    """One JSON scalar, most often a known-hostile one."""
    return st.one_of(
        st.sampled_from([*HOSTILE_TEXT, *HOSTILE_TIMES, *HOSTILE_NUMBERS, None, True, False]),
        hostile_text(),
        st.integers(),
        st.floats(),  # NaN and infinities too: Python's JSON writes and reads them
    )


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, with hostile strings, numbers and date-times among the leaves."""
    return st.recursive(
        json_leaves(),
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(hostile_text(), children, max_size=3)
        ),
        max_leaves=6,
    )


def encode(value: str) -> str:
    """``value`` percent-encoded as raw UTF-8 bytes; a lone surrogate becomes ``%ED%A0%80`` as on the wire."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{encode(key)}={encode(value)}" for key, value in pairs)


def form_body(fields: dict[str, str]) -> dict[str, Any]:
    """Keyword arguments for a urlencoded POST holding any characters, surrogates included."""
    return {
        "data": query_string(list(fields.items())),
        "content_type": "application/x-www-form-urlencoded",
    }


def wire_header(value: str) -> str:
    """``value`` as a header arrives from a socket: its UTF-8 bytes read as Latin-1 (what WSGI gives);
    CR and LF end a header line, so no server passes them on."""
    raw = value.encode("utf-8", "surrogatepass").decode("latin-1")
    return raw.replace("\r", "").replace("\n", "")


def valid_value(schema: dict[str, Any]) -> Any:
    """A value the JSON Schema property accepts, so that one hostile field gets past the others."""
    kind = schema.get("type")
    if "null" in (kind if isinstance(kind, list) else [kind]):
        return None
    if kind == "boolean":
        return True
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "array":
        return []
    if schema.get("format") == "uri":
        return "https://example.com/"
    if "[A-Za-z]{3}" in schema.get("pattern", ""):
        return "EUR"
    return "Example"


def valid_body(schema: Schema) -> dict[str, Any]:
    return {name: valid_value(prop) for name, prop in schema.json_schema()["properties"].items()}


def hostile_body(schema: Schema | None) -> st.SearchStrategy[Any]:
    """A valid body with one field (or a new key) made hostile, a body of hostile fields, or any JSON."""
    if schema is None:
        return json_values()
    names = [field.name for field in schema.fields]
    base = valid_body(schema)
    one_bad = st.builds(
        lambda name, value: {**base, name: value},
        st.sampled_from(names) | hostile_text(),
        json_leaves() | json_values(),
    )
    every_field = st.fixed_dictionaries({name: json_values() for name in names})
    return st.one_of(one_bad, one_bad, every_field, json_values())


def assert_handled(response: TestResponse, what: str) -> None:
    assert response.status_code < 500, (
        f"{what}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    )


def assert_json_error(response: TestResponse, what: str) -> None:
    """A 4xx from the JSON API is ``{"error": {"code", "message", "field"}}`` with a message."""
    assert_handled(response, what)
    if response.status_code >= 400 and response.status_code != 404:
        body = response.get_json(silent=True)
        assert isinstance(body, dict) and body.get("error", {}).get("message"), f"{what}: {body!r}"


def documented_operations() -> list[Operation]:
    """Every operation of the OpenAPI registry, which the API's modules fill when they are imported (at
    their blueprint's first request: framework/lazy_blueprints.py)."""
    for blueprint in BLUEPRINTS.values():
        blueprint.load()
    return api.operations


def json_operations() -> list[Operation]:
    found = [op for op in documented_operations() if op.path not in EXCLUDED_PATHS]
    assert len(found) >= 12, "the OpenAPI registry lost its operations"
    return found


def test_every_json_endpoint_answers_hostile_bodies_below_500(alice: Account) -> None:
    link_id = alice.add_link()["id"]
    product = alice.api("POST", "/api/add/product", valid_body(_schema("ProductCreate")))
    assert product.status_code == 201, product.get_data(as_text=True)
    product_id = product.get_json()["id"]
    ids = st.one_of(st.sampled_from([link_id, product_id]), st.sampled_from(HOSTILE_NUMBERS), st.integers())

    @EXAMPLES
    @given(st.sampled_from(json_operations()), st.data())
    def check(operation: Operation, data: st.DataObject) -> None:
        path = operation.path.replace("{id}", str(data.draw(ids)))
        what = f"{operation.method} {path}"
        if operation.request is None:
            response = alice.api(operation.method, path)
        elif operation.request_media_type == "multipart/form-data":
            response = _upload(alice, operation.method, path, data.draw(hostile_text()), data)
        else:
            body = data.draw(hostile_body(operation.request))
            what += f" {json.dumps(body)[:200]}"
            response = alice.api(
                operation.method, path, data=json.dumps(body), content_type="application/json"
            )
        assert_json_error(response, what)

    check()


def test_every_field_of_every_json_endpoint_answers_each_class_of_bad_value(alice: Account) -> None:
    """The table behind the property test: each representative bad value in each field, one at a time."""
    ids = {"link": alice.add_link()["id"], "product": _add_product(alice)}
    failures = []
    for operation in json_operations():
        if operation.request is None or operation.request_media_type != "application/json":
            continue
        path = operation.path.replace("{id}", str(ids["product" if "product" in operation.path else "link"]))
        for field in operation.request.fields:
            for value in REPRESENTATIVES:
                body = {**valid_body(operation.request), field.name: value}
                response = alice.api(
                    operation.method, path, data=json.dumps(body), content_type="application/json"
                )
                try:
                    assert_json_error(response, f"{operation.method} {path} {field.name}={value!r:.40}")
                except AssertionError as error:
                    failures.append(str(error).splitlines()[0])
    assert not failures, "\n".join(failures)


def test_malformed_json_bodies_are_4xx(alice: Account) -> None:
    """Bytes that are not JSON, or JSON in another encoding, are refused, not crashed on."""

    @EXAMPLES
    @given(
        st.sampled_from([op for op in json_operations() if op.request_media_type == "application/json"]),
        st.one_of(
            st.binary(max_size=60),
            st.sampled_from([b"[" * 100_000, b'{"title": "\xed\xa0\x80"}', b'"\\ud800"', b"\xff\xfe{}"]),
        ),
    )
    def check(operation: Operation, body: bytes) -> None:
        path = operation.path.replace("{id}", "1")
        response = alice.api(operation.method, path, data=body, content_type="application/json")
        assert_json_error(response, f"{operation.method} {path} {body[:60]!r}")

    check()


def test_every_get_route_answers_hostile_urls_below_500(app: Flask, alice: Account) -> None:
    """Every GET route, logged in and not, with hostile path segments and query parameters."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.rule not in EXCLUDED_PATHS
    ]
    anonymous = app.test_client()

    @EXAMPLES
    @given(
        st.sampled_from(rules),
        st.data(),
        st.lists(st.tuples(hostile_text(), hostile_text()), max_size=3),
        st.booleans(),
    )
    def check(rule: Rule, data: st.DataObject, params: list[tuple[str, str]], logged_in: bool) -> None:
        url = _url(rule, data) + "?" + query_string(params)
        client = alice.client if logged_in else anonymous
        assert_handled(client.get(url), f"GET {url[:200]}")

    check()


def test_every_get_route_answers_each_hostile_segment_below_500(app: Flask, alice: Account) -> None:
    """The table behind the property test: every hostile segment in every variable part of every route."""
    anonymous = app.test_client()
    failures = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.rule in EXCLUDED_PATHS or not rule.arguments:
            continue
        for segment in HOSTILE_SEGMENTS:
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<{_converter_spec(rule, name)}>", segment)
            for client in (anonymous, alice.client):
                response = client.get(url)
                if response.status_code >= 500:
                    failures.append(f"GET {url[:120]}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_public_page_and_clicks_ignore_hostile_tracking_data(app: Flask, alice: Account) -> None:
    link_id = alice.add_link()["id"]
    product = alice.api("POST", "/api/add/product", valid_body(_schema("ProductCreate")))
    product_id = product.get_json()["id"]
    visitor = app.test_client()
    tracking = st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "utm_term", "ref"])

    @EXAMPLES
    @given(
        st.sampled_from([f"/{alice.username}", f"/go/{link_id}", f"/go/product/{product_id}"]),
        st.lists(st.tuples(tracking | hostile_text(), hostile_text()), min_size=1, max_size=4),
        hostile_text(),
        hostile_text(),
    )
    def check(path: str, params: list[tuple[str, str]], referrer: str, agent: str) -> None:
        url = f"{path}?{query_string(params)}"
        headers = {"Referer": wire_header(referrer), "User-Agent": wire_header(agent)}
        response = visitor.get(url, headers=headers)
        assert response.status_code in (200, 302), f"GET {url[:200]}: {response.status_code}"

    check()


def test_forms_answer_hostile_fields_below_500(app: Flask, alice: Account) -> None:
    """Log-in (with any ``next``), sign-up and settings, each with its real CSRF token."""
    visitor = app.test_client()
    forms: dict[str, tuple[Any, Callable[[], str], list[str]]] = {
        "/login": (visitor, lambda: form_token(visitor.get("/login")), ["login", "password"]),
        "/signup": (visitor, lambda: form_token(visitor.get("/signup")), ["email", "username", "password"]),
        "/dashboard/settings": (alice.client, lambda: alice.csrf, ["display_name", "bio"]),
        "/settings/account/delete": (alice.client, lambda: alice.csrf, ["password", "second_factor_code"]),
    }

    @EXAMPLES
    @given(st.sampled_from(sorted(forms)), st.data(), hostile_text())
    def check(path: str, data: st.DataObject, next_value: str) -> None:
        client, token, names = forms[path]
        fields = {name: data.draw(hostile_text()) for name in names}
        url = f"{path}?next={encode(next_value)}"
        response = client.post(url, **form_body({"csrf_token": token(), **fields}))
        assert_handled(response, f"POST {url[:200]} {fields!r:.200}")

    check()


def _add_product(account: Account) -> int:
    response = account.api("POST", "/api/add/product", valid_body(_schema("ProductCreate")))
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def _schema(name: str) -> Schema:
    for operation in documented_operations():
        if operation.request is not None and operation.request.name == name:
            return operation.request
    raise AssertionError(f"no request schema {name}")


def _upload(account: Account, method: str, path: str, filename: str, data: st.DataObject) -> TestResponse:
    content = data.draw(st.binary(max_size=64) | st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32))
    body = (
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="'
        + filename.encode("utf-8", "surrogatepass")
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + content
        + b"\r\n--b--\r\n"
    )
    return account.api(method, path, data=body, content_type="multipart/form-data; boundary=b")


def _url(rule: Rule, data: st.DataObject) -> str:
    """A URL for ``rule`` with a hostile (already percent-encoded) value in each variable part."""
    url = rule.rule
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            value = data.draw(st.sampled_from(sorted(converter.items)))
        elif isinstance(converter, IntegerConverter):
            value = str(data.draw(st.sampled_from(HOSTILE_NUMBERS) | st.integers(min_value=-(2**70))))
        else:
            value = data.draw(st.sampled_from(HOSTILE_SEGMENTS) | st.builds(encode, hostile_text()))
            if not isinstance(converter, PathConverter):
                value = value.replace("/", "%2F")
        url = url.replace(f"<{_converter_spec(rule, name)}>", value)
    return url or "/"


def _converter_spec(rule: Rule, name: str) -> str:
    """The ``converter(args):name`` text of ``name`` in the rule's pattern."""
    start = rule.rule.index(f":{name}>") if f":{name}>" in rule.rule else rule.rule.index(f"<{name}>")
    opening = rule.rule.rindex("<", 0, start + 1)
    return rule.rule[opening + 1 : rule.rule.index(">", opening)]


def test_any_session_cookie_is_an_anonymous_visit_or_a_login(app: Flask, alice: Account) -> None:
    """A forged, truncated or binary session cookie never reaches the session store as a query that fails."""
    real = alice.client.get_cookie("session")
    assert real is not None

    @EXAMPLES
    @given(
        st.one_of(
            st.text(st.characters(max_codepoint=255), max_size=300),
            st.sampled_from(["\x00", "a" * 43 + "\x00", "x" * 4000, "a.b.c", "..", real.value + "\x00"]),
            st.builds(lambda cut: real.value[:cut], st.integers(0, len(real.value))),
        ),
        st.sampled_from(["/login", "/dashboard", "/api/links", f"/{alice.username}"]),
    )
    def check(value: str, path: str) -> None:
        client = app.test_client()
        client.set_cookie("session", value.replace(";", ""))
        assert_handled(client.get(path), f"GET {path} with cookie {value[:60]!r}")

    check()


def test_control_characters_in_a_path_are_a_404_that_says_why(app: Flask, alice: Account) -> None:
    for path in ("/%0d%0a", "/alice%00", "/alice%0d%0aSet-Cookie:%20a=b", "/dashboard%0a", "/api/links%00"):
        for client in (app.test_client(), alice.client):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "control characters" in response.get_data(as_text=True), path
            assert "Set-Cookie: a" not in str(response.headers)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8), min_size=1, max_size=6)
)
def test_multiline_text_keeps_each_line_break_as_one_newline(lines: list[str]) -> None:
    """However a client ends its lines (CRLF, a lone CR, LF), the text keeps them as ``\\n`` and nothing
    else: a lone CR, which would show as no break at all, is never stored."""
    from conexoos.app.dto.fields import text

    field = text("description", 10_000, allow_empty=True, multiline=True)
    expected = field.parse("\n".join(lines), field)
    for ending in ("\r\n", "\r"):
        stored = field.parse(ending.join(lines), field)
        assert stored == expected and "\r" not in stored
