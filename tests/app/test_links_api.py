"""The links API contract: every endpoint, every status it answers, and the exact shape of each body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import User
from conexoos.framework import db

from .conftest import Account, SignUp, each, form_token

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

LINK_KEYS = {"id", "title", "url", "order_index", "enabled", "hidden_by_staff", "starts_at", "ends_at"}
ERROR_KEYS = {"code", "message", "field"}


def assert_link(body: Any) -> dict[str, Any]:
    """``body`` is one link with exactly the documented keys and types."""
    assert isinstance(body, dict)
    assert set(body) == LINK_KEYS
    assert isinstance(body["id"], int) and not isinstance(body["id"], bool)
    assert isinstance(body["title"], str) and isinstance(body["url"], str)
    assert isinstance(body["order_index"], int)
    assert isinstance(body["enabled"], bool)
    assert body["starts_at"] is None or isinstance(body["starts_at"], str)
    assert body["ends_at"] is None or isinstance(body["ends_at"], str)
    return body


def assert_error(
    response: TestResponse, status: int, field: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """``response`` is the JSON error ``{"error": {"code", "message", "field"}}`` with ``status``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == ERROR_KEYS
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert error["field"] == field
    if code is not None:
        assert error["code"] == code
    return error  # type: ignore[no-any-return]


# ---------------------------------------------------------------- GET /api/links


def test_list_is_empty_for_a_new_user(alice: Account) -> None:
    response = alice.api("GET", "/api/links")
    assert response.status_code == 200
    assert response.get_json() == []


def test_list_returns_the_users_links_in_order(alice: Account) -> None:
    created = [alice.add_link(f"Link {n}", f"https://example.com/{n}") for n in range(3)]
    listed = alice.links()
    for link in listed:
        assert_link(link)
    assert [link["id"] for link in listed] == [link["id"] for link in created]
    assert [link["order_index"] for link in listed] == [0, 1, 2]
    assert listed == created


# ---------------------------------------------------------------- POST /api/add/link


def test_add_answers_201_with_the_link(alice: Account) -> None:
    response = alice.api("POST", "/api/add/link", {"title": "  My site  ", "url": "example.com"})
    assert response.status_code == 201
    link = assert_link(response.get_json())
    assert link["title"] == "My site"
    assert link["url"] == "https://example.com/"
    assert link["enabled"] is True
    assert link["starts_at"] is None and link["ends_at"] is None
    assert alice.links() == [link]


def test_add_appends_at_the_end(alice: Account) -> None:
    first = alice.add_link("One")
    second = alice.add_link("Two")
    assert second["order_index"] > first["order_index"]


def test_add_accepts_every_field(alice: Account) -> None:
    link = alice.add_link(
        "Sale",
        "https://shop.example/",
        enabled=False,
        starts_at="2030-01-01T10:00:00+02:00",
        ends_at="2030-01-02T00:00:00Z",
    )
    assert link["enabled"] is False
    assert link["starts_at"] == "2030-01-01T08:00:00Z"  # stored and shown in UTC
    assert link["ends_at"] == "2030-01-02T00:00:00Z"


def test_add_accepts_the_maximum_lengths(alice: Account) -> None:
    url = "https://example.com/" + "a" * (500 - len("https://example.com/"))
    link = alice.add_link("t" * 100, url)
    assert link["title"] == "t" * 100
    assert link["url"] == url
    padded = alice.add_link("   " + "p" * 100 + "   ", url)  # the limit applies after trimming
    assert padded["title"] == "p" * 100


# ---------------------------------------------------------------- PUT/PATCH /api/edit/link/<id>


def test_edit_changes_only_the_given_fields(alice: Account) -> None:
    link = alice.add_link("Old", "https://old.example/")
    response = alice.api("PUT", f"/api/edit/link/{link['id']}", {"title": "New"})
    assert response.status_code == 200
    edited = assert_link(response.get_json())
    assert edited == {**link, "title": "New"}
    assert alice.links() == [edited]


def test_edit_every_field(alice: Account) -> None:
    link = alice.add_link()
    body = {
        "title": "T",
        "url": "http://other.example/x",
        "enabled": False,
        "starts_at": "2031-05-01T00:00:00Z",
        "ends_at": "2031-06-01T00:00:00Z",
    }
    edited = alice.api("PUT", f"/api/edit/link/{link['id']}", body).get_json()
    assert edited == {**body, "id": link["id"], "order_index": link["order_index"], "hidden_by_staff": False}


def test_edit_clears_the_window_with_null(alice: Account) -> None:
    link = alice.add_link(starts_at="2020-01-01T00:00:00Z", ends_at="2040-01-01T00:00:00Z")
    edited = alice.api("PUT", f"/api/edit/link/{link['id']}", {"starts_at": None, "ends_at": None}).get_json()
    assert edited["starts_at"] is None and edited["ends_at"] is None


def test_edit_with_an_empty_object_changes_nothing(alice: Account) -> None:
    link = alice.add_link()
    response = alice.api("PUT", f"/api/edit/link/{link['id']}", {})
    assert response.status_code == 200
    assert response.get_json() == link


def test_patch_behaves_like_put(alice: Account) -> None:
    link = alice.add_link()
    response = alice.api("PATCH", f"/api/edit/link/{link['id']}", {"enabled": False})
    assert response.status_code == 200
    assert response.get_json() == {**link, "enabled": False}


def test_edit_unknown_link_is_404(alice: Account) -> None:
    assert_error(alice.api("PUT", "/api/edit/link/999999", {"title": "x"}), 404, code="not_found")


# ---------------------------------------------------------------- DELETE /api/delete/link/<id>


def test_delete_answers_204_and_removes_the_link(alice: Account) -> None:
    keep = alice.add_link("Keep")
    gone = alice.add_link("Gone")
    response = alice.api("DELETE", f"/api/delete/link/{gone['id']}")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers  # no body, so no type (Flask's default is text/html)
    assert alice.links() == [keep]
    assert_error(alice.api("DELETE", f"/api/delete/link/{gone['id']}"), 404)


def test_delete_unknown_link_is_404(alice: Account) -> None:
    assert_error(alice.api("DELETE", "/api/delete/link/424242"), 404, code="not_found")


# ---------------------------------------------------------------- POST /api/links/reorder


def test_reorder_rewrites_order_index(alice: Account) -> None:
    ids = [alice.add_link(f"L{n}")["id"] for n in range(4)]
    wanted = [ids[2], ids[0], ids[3], ids[1]]
    response = alice.api("POST", "/api/links/reorder", {"ids": wanted})
    assert response.status_code == 200
    answered = response.get_json()
    for link in answered:
        assert_link(link)
    assert [link["id"] for link in answered] == wanted
    assert [link["order_index"] for link in answered] == [0, 1, 2, 3]
    assert [link["id"] for link in alice.links()] == wanted


@pytest.mark.parametrize(
    "pick",
    [
        pytest.param(lambda ids: ids[:-1], id="one-missing"),
        pytest.param(lambda ids: [], id="empty"),
        pytest.param(lambda ids: [*ids, ids[0]], id="one-twice"),
    ],
)
def test_reorder_must_list_every_link_once(alice: Account, pick: Any) -> None:
    ids = [alice.add_link(f"L{n}")["id"] for n in range(3)]
    before = alice.links()
    assert_error(alice.api("POST", "/api/links/reorder", {"ids": pick(ids)}), 422, field="ids")
    assert alice.links() == before


def test_reorder_with_an_unknown_id_is_404(alice: Account) -> None:
    ids = [alice.add_link(f"L{n}")["id"] for n in range(2)]
    before = alice.links()
    assert_error(alice.api("POST", "/api/links/reorder", {"ids": [*ids, 987654]}), 404)
    assert alice.links() == before


def test_reorder_with_bad_ids_is_422(alice: Account) -> None:
    alice.add_link()
    cases = {
        "not-a-list": {"ids": "1,2"},
        "strings": {"ids": ["1"]},
        "booleans": {"ids": [True]},
        "missing": {},
        "zero": {"ids": [0]},
        "past-the-integer-column": {"ids": [2**31]},  # PostgreSQL would refuse the query itself
        "past-64-bits": {"ids": [2**64]},
        "longer-than-any-page": {"ids": list(range(1, 1_000_001))},  # refused before a look at each
    }
    each(cases, lambda body: assert_error(alice.api("POST", "/api/links/reorder", body), 422, field="ids"))
    too_long = alice.api("POST", "/api/links/reorder", {"ids": list(range(1, 10_002))}).get_json()
    assert too_long["error"]["message"] == "ids holds at most 10000 ids"


def test_reorder_with_an_unknown_field_is_422(alice: Account) -> None:
    link = alice.add_link()
    assert_error(alice.api("POST", "/api/links/reorder", {"ids": [link["id"]], "x": 1}), 422, field="x")


# ---------------------------------------------------------------- 400: malformed bodies


def writes(link_id: int) -> dict[str, tuple[str, str]]:
    """The endpoints that read a JSON body, by name."""
    return {
        "add": ("POST", "/api/add/link"),
        "edit": ("PUT", f"/api/edit/link/{link_id}"),
        "patch": ("PATCH", f"/api/edit/link/{link_id}"),
        "reorder": ("POST", "/api/links/reorder"),
    }


def test_no_json_body_is_400(alice: Account) -> None:
    link = alice.add_link()
    form = {"data": "title=x&url=y", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}

    def check(endpoint: tuple[str, str]) -> None:
        assert_error(alice.api(*endpoint), 400, code="bad_request")
        assert_error(alice.api(*endpoint, **form), 400, code="bad_request")  # type: ignore[arg-type]

    each(writes(link["id"]), check)
    assert alice.links() == [link]


def test_invalid_json_is_400(alice: Account) -> None:
    link = alice.add_link()
    bodies: list[str | bytes] = [
        '{"title": ',
        "not json",
        "{'title': 'x'}",
        "",
        '{"title": "x",}',
        b"\xff\xfe{}",
        "[" * 100_000 + "]" * 100_000,  # deeper than the JSON decoder's recursion limit
    ]
    cases = {
        f"{name} {raw!r}": (endpoint, raw) for name, endpoint in writes(link["id"]).items() for raw in bodies
    }
    each(
        cases,
        lambda case: assert_error(
            alice.api(*case[0], data=case[1], headers={"Content-Type": "application/json"}),
            400,
            code="bad_request",
        ),
    )
    assert alice.links() == [link]


def test_a_body_that_is_not_an_object_is_400(alice: Account) -> None:
    link = alice.add_link()
    # Dumped by hand: json=None would send no body at all, and "null" must really be sent.
    payloads = [[], ["title"], [{"title": "x", "url": "https://x.example/"}], "title", 3, 1.5, True, None]
    cases = {
        f"{name} {payload!r}": (endpoint, json.dumps(payload))
        for name, endpoint in writes(link["id"]).items()
        for payload in payloads
    }
    each(
        cases,
        lambda case: assert_error(
            alice.api(*case[0], data=case[1], headers={"Content-Type": "application/json"}),
            400,
            code="bad_request",
        ),
    )
    assert alice.links() == [link]


@pytest.mark.parametrize("token", [None, "", "not-a-token"], ids=["absent", "empty", "forged"])
def test_missing_or_bad_csrf_token_is_400(alice: Account, token: str | None) -> None:
    link = alice.add_link("Untouched")
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-CSRFToken"] = token
    endpoints = {**writes(link["id"]), "delete": ("DELETE", f"/api/delete/link/{link['id']}")}
    body = {"title": "Changed", "url": "https://changed.example/", "ids": [link["id"]]}
    each(
        endpoints,
        lambda endpoint: assert_error(
            alice.client.open(endpoint[1], method=endpoint[0], json=body, headers=headers),
            400,
            code="csrf_failed",
        ),
    )
    assert alice.links() == [link]


def test_another_users_csrf_token_is_refused(alice: Account, bob: Account) -> None:
    response = alice.client.post(
        "/api/add/link", json={"title": "x", "url": "https://x.example/"}, headers={"X-CSRFToken": bob.csrf}
    )
    assert_error(response, 400, code="csrf_failed")
    assert alice.links() == []


# ---------------------------------------------------------------- 401: not logged in


@pytest.mark.parametrize("with_token", [True, False], ids=["valid-csrf-token", "no-csrf-token"])
def test_no_login_is_a_401_json_error_not_a_redirect(
    alice: Account, client: FlaskClient, with_token: bool
) -> None:
    """With or without a CSRF token: the login is checked first, so the client learns what is wrong."""
    link = alice.add_link()
    token = form_token(client.get("/login")) if with_token else ""
    endpoints = {
        **writes(link["id"]),
        "list": ("GET", "/api/links"),
        "delete": ("DELETE", f"/api/delete/link/{link['id']}"),
    }
    body = {"title": "Hijack", "url": "https://x.example/", "ids": [link["id"]]}

    def check(endpoint: tuple[str, str]) -> None:
        method, path = endpoint
        response = client.open(
            path,
            method=method,
            json=None if method in ("GET", "DELETE") else body,
            headers={"X-CSRFToken": token} if token else {},
        )
        assert "Location" not in response.headers
        assert_error(response, 401, code="unauthorized")

    each(endpoints, check)
    assert alice.links() == [link]


def test_no_login_without_json_accept_is_still_json(client: FlaskClient) -> None:
    response = client.get("/api/links", headers={"Accept": "text/html"})
    assert "Location" not in response.headers
    assert_error(response, 401)


def test_after_logout_the_api_answers_401(alice: Account) -> None:
    alice.client.post("/logout", data={"csrf_token": alice.csrf})
    assert_error(alice.client.get("/api/links"), 401)


# ---------------------------------------------------------------- 422: invalid fields


TITLE_URL = {"title": "Title", "url": "https://example.com/"}
INVALID_FIELDS: dict[str, tuple[dict[str, Any], str]] = {
    "title-empty": ({"title": ""}, "title"),
    "title-blank-after-trim": ({"title": "   \t\n "}, "title"),
    "title-101": ({"title": "x" * 101}, "title"),
    "title-101-after-trim": ({"title": " " + "x" * 101 + " "}, "title"),
    "title-not-a-string": ({"title": 5}, "title"),
    "title-null": ({"title": None}, "title"),
    "url-501": ({"url": "https://example.com/" + "a" * 481}, "url"),
    "url-javascript": ({"url": "javascript:alert(1)"}, "url"),
    "url-ftp": ({"url": "ftp://example.com/"}, "url"),
    "url-empty": ({"url": ""}, "url"),
    "url-not-a-string": ({"url": ["https://example.com/"]}, "url"),
    "unknown-field": ({"colour": "red"}, "colour"),
    "id-is-not-writable": ({"id": 7}, "id"),
    "order-index-is-not-writable": ({"order_index": 3}, "order_index"),
    "owner-is-not-writable": ({"owner_id": 1}, "owner_id"),
    "enabled-string": ({"enabled": "true"}, "enabled"),
    "enabled-int": ({"enabled": 1}, "enabled"),
    "enabled-null": ({"enabled": None}, "enabled"),
    "starts-not-a-date": ({"starts_at": "tomorrow"}, "starts_at"),
    "starts-without-zone": ({"starts_at": "2030-01-01T00:00:00"}, "starts_at"),
    "ends-a-number": ({"ends_at": 1893456000}, "ends_at"),
    "ends-before-starts": (
        {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
        "ends_at",
    ),
    "ends-equal-starts": (
        {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
        "ends_at",
    ),
    "ends-equal-starts-across-zones": (
        {"starts_at": "2030-01-01T02:00:00+02:00", "ends_at": "2030-01-01T00:00:00Z"},
        "ends_at",
    ),
}


def test_add_with_a_bad_field_is_422(alice: Account) -> None:
    each(
        INVALID_FIELDS,
        lambda case: assert_error(
            alice.api("POST", "/api/add/link", {**TITLE_URL, **case[0]}), 422, field=case[1]
        ),
    )
    assert alice.links() == []


def test_edit_with_a_bad_field_is_422_and_changes_nothing(alice: Account) -> None:
    link = alice.add_link()
    each(
        INVALID_FIELDS,
        lambda case: assert_error(
            alice.api("PUT", f"/api/edit/link/{link['id']}", case[0]), 422, field=case[1]
        ),
    )
    assert alice.links() == [link]


@pytest.mark.parametrize("missing", ["title", "url"])
def test_add_without_a_required_field_is_422(alice: Account, missing: str) -> None:
    body = dict(TITLE_URL)
    del body[missing]
    assert_error(alice.api("POST", "/api/add/link", body), 422, field=missing)


def test_edit_checks_the_window_against_the_stored_start(alice: Account) -> None:
    link = alice.add_link(starts_at="2030-06-01T00:00:00Z")
    response = alice.api("PUT", f"/api/edit/link/{link['id']}", {"ends_at": "2030-05-01T00:00:00Z"})
    assert_error(response, 422, field="ends_at")
    assert alice.links() == [link]


def test_a_time_past_the_last_one_kept_is_refused_with_the_exact_bound(alice: Account) -> None:
    """The last minute of 9999-12-31 is refused: the message says the bound is that day's 00:00, not the
    day (which read as if the whole day were allowed)."""
    link = alice.add_link()
    assert (
        alice.api("PUT", f"/api/edit/link/{link['id']}", {"starts_at": "9999-12-31T00:00:00Z"}).status_code
        == 200
    )
    response = alice.api("PUT", f"/api/edit/link/{link['id']}", {"starts_at": "9999-12-31T23:59:00Z"})
    error = assert_error(response, 422, field="starts_at", code="out_of_range")
    assert error["message"] == "starts_at must fall between 1970-01-01 00:00 and 9999-12-31 00:00 (UTC)"


# ---------------------------------------------------------------- GET /api/openapi.json


def test_openapi_document_is_public_json(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["openapi"].startswith("3.1")


# ---------------------------------------------------------------- no leaks


def test_no_response_leaks_secrets_or_other_users_data(app: Flask, alice: Account, signed_up: SignUp) -> None:
    carol = signed_up("carol_secret", email="carol-private@example.org")
    carol.add_link("Carol's private title", "https://carol-only.example/")
    with app.app_context():
        hashes = [user.password_hash for user in db.session.query(User).all()]
    session_ids = [account.client.get_cookie("session").value for account in (alice, carol)]  # type: ignore[union-attr]

    link = alice.add_link()
    responses = [
        alice.api("GET", "/api/links"),
        alice.api("PUT", f"/api/edit/link/{link['id']}", {"title": "Renamed"}),
        alice.api("POST", "/api/links/reorder", {"ids": [link["id"]]}),
        alice.api("PUT", "/api/edit/link/999", {"title": "x"}),
        alice.api("POST", "/api/add/link", {"title": ""}),
        alice.api("POST", "/api/add/link", data="{", headers={"Content-Type": "application/json"}),
        alice.api("GET", "/api/openapi.json"),
        alice.api("DELETE", f"/api/delete/link/{link['id']}"),
        alice.client.post("/api/add/link", json={"title": "x"}),
        alice.api("POST", "/api/add/link", alice.add_link("Second")),  # echoing a link back is refused
    ]
    forbidden = [
        *hashes,
        *session_ids,
        carol.csrf,
        alice.csrf,
        alice.password,
        "password",
        "argon2",
        "carol",
        "Carol's private title",
        "carol-only.example",
        "owner_id",
        "_fresh",
        "_user_id",
    ]
    for response in responses:
        text = response.get_data(as_text=True)
        for secret in forbidden:
            assert secret not in text, f"{response.request.method} {response.request.path} leaks {secret!r}"


def test_a_suspended_account_adds_and_changes_no_links(app: Flask, alice: Account) -> None:
    link = alice.add_link()
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.suspended_at = user.created_at
        db.session.commit()
    added = alice.api("POST", "/api/add/link", {"title": "Spam", "url": "https://spam.example"})
    assert "suspended" in assert_error(added, 403)["message"]
    edited = alice.api("PATCH", f"/api/edit/link/{link['id']}", {"title": "Spam"})
    assert "suspended" in assert_error(edited, 403)["message"]
    assert [item["title"] for item in alice.links()] == [link["title"]]


def test_a_reorder_from_a_stale_page_is_refused_when_it_names_the_order_it_saw(alice: Account) -> None:
    """A tab left open sent its move over another tab's, and undid it: with ``previous`` it is a 409."""
    one, two, three = (alice.add_link(title)["id"] for title in ("One", "Two", "Three"))
    moved = alice.api("POST", "/api/links/reorder", {"ids": [two, one, three], "previous": [one, two, three]})
    assert moved.status_code == 200, moved.get_json()
    stale = alice.api("POST", "/api/links/reorder", {"ids": [one, three, two], "previous": [one, two, three]})
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert (error["code"], error["field"]) == ("reordered", "previous")
    assert (
        error["message"]
        == "Your links were reordered in another tab or window: reload to see them as they are now"
    )
    assert [link["id"] for link in alice.links()] == [two, one, three]  # the first move stands
    plain = alice.api("POST", "/api/links/reorder", {"ids": [three, two, one]})  # without it, as before
    assert plain.status_code == 200
    assert [link["id"] for link in alice.links()] == [three, two, one]
