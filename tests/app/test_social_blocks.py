"""The social kind: entries checked and stored as canonical URLs, bad ones refused naming the entry, a
row of named brand icons on the page (escaped, no JavaScript), within the page's query and byte budget."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from conexoos.app.controllers.blocks.social import ITEMS_MAX, SOCIAL
from conexoos.app.utils.icon_networks import NETWORKS
from conexoos.app.utils.social_urls import HANDLES

from .billing_support import visit
from .conftest import Account
from .test_public_page import BUDGET_BYTES, selects, statements_of

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

ROW = [
    {"network": "instagram", "handle": "@ana.makes"},
    {"network": "github", "handle": "https://github.com/ana"},
    {"network": "mastodon", "handle": "@ana@Mastodon.Social"},
]
LONG_HANDLES = {"instagram", "threads", "onlyfans", "gitlab", "linkedin", "pinterest", "youtube", "vsco"}
"""Networks whose handles may run to 30 characters (of the first 20 in the table)."""
ICON_LINK = re.compile(
    r'<a class="social-link" href="([^"]+)" rel="me noopener">'
    r'<svg width="24" height="24" focusable="false" aria-hidden="true">'
    r'<use href="(/static/img/icons\.[0-9a-f]+\.svg|/static/img/icons\.svg)#([a-z-]+)"/></svg>'
    r'<span class="sr">([^<]*)</span></a>'
)


def add_row(account: Account, items: list[dict[str, Any]], **fields: Any) -> TestResponse:
    return account.api("POST", "/api/blocks", {"kind": "social", "items": items, **fields})


def error_of(response: TestResponse, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]  # type: ignore[no-any-return]


def page_of(client: FlaskClient, account: Account) -> str:
    response = visit(client, f"/{account.username}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the API


def test_a_row_is_stored_as_canonical_urls_and_edited(alice: Account) -> None:
    response = add_row(alice, ROW)
    assert response.status_code == 201, response.get_data(as_text=True)
    block = response.get_json()
    assert block["kind"] == "social" and block["enabled"] is True
    assert block["items"] == [
        {"network": "instagram", "handle": "@ana.makes", "url": "https://www.instagram.com/ana.makes/"},
        {"network": "github", "handle": None, "url": "https://github.com/ana"},
        {"network": "mastodon", "handle": "@ana@Mastodon.Social", "url": "https://mastodon.social/@ana"},
    ]
    edited = alice.api("PATCH", f"/api/blocks/{block['id']}", {"items": [{"network": "x", "handle": "ana"}]})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["items"] == [{"network": "x", "handle": "ana", "url": "https://x.com/ana"}]
    assert [b["items"] for b in alice.api("GET", "/api/blocks").get_json()] == [edited.get_json()["items"]]
    assert alice.api("DELETE", f"/api/blocks/{block['id']}").status_code == 204
    assert alice.api("GET", "/api/blocks").get_json() == []


@pytest.mark.parametrize("verb", ["patch", "delete", "reorder"])
def test_another_users_row_is_a_404_and_stays(alice: Account, bob: Account, verb: str) -> None:
    block = add_row(alice, ROW).get_json()
    before = alice.api("GET", "/api/blocks").get_json()
    response = {
        "patch": lambda: bob.api("PATCH", f"/api/blocks/{block['id']}", {"items": ROW[:1]}),
        "delete": lambda: bob.api("DELETE", f"/api/blocks/{block['id']}"),
        "reorder": lambda: bob.api("POST", "/api/blocks/reorder", {"ids": [block["id"]]}),
    }[verb]()
    assert error_of(response, 404)["code"] == "not_found"
    assert alice.api("GET", "/api/blocks").get_json() == before


BAD = {
    "not a list": ({"network": "x", "handle": "ana"}, "items", "list"),
    "empty": ([], "items", "1 to 20"),
    "too many": ([{"network": "x", "handle": "ana"}] * (ITEMS_MAX + 1), "items", "has 21"),
    "entry not an object": ([ROW[0], "ana"], "items[1]", "Entry 2"),
    "unknown network": (
        [ROW[0], ROW[1], {"network": "myspace", "handle": "ana"}],
        "items[2].network",
        "network",
    ),
    "network missing": ([{"handle": "ana"}], "items[0].network", "network"),
    "handle missing": ([{"network": "github"}], "items[0].handle", "GitHub handle"),
    "handle not text": ([{"network": "github", "handle": 7}], "items[0].handle", "GitHub"),
    "bad handle": ([ROW[0], {"network": "x", "handle": "far_too_long_for_x"}], "items[1].handle", "X handle"),
    "blank handle": ([{"network": "x", "handle": "   "}], "items[0].handle", "X handle"),
    "url elsewhere": (
        [{"network": "github", "handle": "https://evil.example/ana"}],
        "items[0].handle",
        "not on GitHub",
    ),
    "lookalike host": (
        [{"network": "github", "handle": "https://github.com.evil.example/a"}],
        "items[0].handle",
        "GitHub",
    ),
    "javascript": ([{"network": "x", "handle": "javascript:alert(1)"}], "items[0].handle", "X"),
    "url only network": ([{"network": "spotify", "handle": "ana"}], "items[0].handle", "address"),
    "extra key": ([{"network": "x", "handle": "ana", "url": "https://x.com/b"}], "items[0].url", "unknown"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_entry_is_a_422_naming_it(alice: Account, case: str) -> None:
    items, field, words = BAD[case]
    error = error_of(add_row(alice, items))  # type: ignore[arg-type]
    assert error["field"] == field and words in error["message"], error
    assert alice.api("GET", "/api/blocks").get_json() == []


def test_a_bad_edit_changes_nothing(alice: Account) -> None:
    block = add_row(alice, ROW).get_json()
    bad = [ROW[0], {"network": "x", "handle": "no spaces allowed"}]
    assert (
        error_of(alice.api("PATCH", f"/api/blocks/{block['id']}", {"items": bad}))["field"]
        == "items[1].handle"
    )
    assert alice.api("GET", "/api/blocks").get_json()[0]["items"] == block["items"]


def test_rows_are_capped_per_page(alice: Account) -> None:
    for _ in range(SOCIAL.limit):
        assert add_row(alice, ROW[:1]).status_code == 201
    error = error_of(add_row(alice, ROW[:1]), 403)
    assert error["code"] == "page_limit" and f"at most {SOCIAL.limit} social icons rows" in error["message"]
    assert "plan" not in error["message"].lower()


ENTRY = st.one_of(
    st.fixed_dictionaries(
        {
            "network": st.one_of(st.sampled_from(sorted(NETWORKS)), st.text(max_size=12)),
            "handle": st.one_of(
                st.text(max_size=60),
                st.from_regex(r"https?://[a-z.]{0,20}/[@a-z]{0,10}", fullmatch=True),
                st.integers(),
                st.none(),
            ),
        }
    ),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    st.text(max_size=5),
    st.none(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.one_of(st.lists(ENTRY, max_size=ITEMS_MAX + 2), st.text(max_size=5), st.integers()))
def test_no_payload_is_a_500(alice: Account, items: Any) -> None:
    response = add_row(alice, items)
    assert response.status_code in (201, 400, 403, 422), response.get_data(as_text=True)
    if response.status_code == 201:
        stored = response.get_json()["items"]
        assert all(entry["url"].startswith("https://") for entry in stored)
        alice.api("DELETE", f"/api/blocks/{response.get_json()['id']}")
    else:
        error = response.get_json()["error"]
        assert error["message"] and (error["field"] or "").startswith(("items", "kind", ""))


def test_the_kind_is_in_the_openapi_document(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    create = document["components"]["schemas"]["BlockCreate"]
    assert "social" in create["properties"]["kind"]["enum"]
    items = create["properties"]["items"]
    assert items["maxItems"] == ITEMS_MAX and items["items"]["required"] == ["network", "handle"]
    assert "instagram" in items["items"]["properties"]["network"]["enum"]


# ---------------------------------------------------------------- the public page


def test_the_page_draws_named_icons_linking_out(alice: Account, client: FlaskClient) -> None:
    add_row(alice, ROW)
    html = page_of(client, alice)
    icons = ICON_LINK.findall(html)
    assert [(url, symbol, name) for url, _, symbol, name in icons] == [
        ("https://www.instagram.com/ana.makes/", "si-instagram", "Instagram: @ana.makes"),
        ("https://github.com/ana", "si-github", "GitHub"),
        ("https://mastodon.social/@ana", "si-mastodon", "Mastodon: @ana@Mastodon.Social"),
    ]
    sprite = icons[0][1]
    assert client.get(sprite).status_code == 200  # the hashed sprite URL is served
    assert '<ul class="social">' in html
    scripts = re.findall(r"<script[^>]*>", html)  # the Web Share button's enhancement only: no icon needs JS
    assert all("/static/js/share." in script for script in scripts), scripts


def test_a_hidden_row_is_left_out(alice: Account, client: FlaskClient) -> None:
    block = add_row(alice, ROW, enabled=False).get_json()
    assert "social-link" not in page_of(client, alice)
    alice.api("PATCH", f"/api/blocks/{block['id']}", {"enabled": True})
    assert page_of(client, alice).count("social-link") == len(ROW)


XSS_HANDLES = [
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    'https://github.com/ana"onmouseover="alert(1)',
    "https://github.com/<script>",
    "javascript:alert(1)",
    "https://mastodon.social/@ana<svg/onload=alert(1)>",
]


@pytest.mark.parametrize("network", ["x", "github", "mastodon"])
def test_markup_in_a_handle_is_refused(alice: Account, network: str) -> None:
    items = [{"network": network, "handle": handle} for handle in XSS_HANDLES]
    for index in range(len(items)):
        error = error_of(add_row(alice, [ROW[0], *items[index : index + 1]]))
        assert error["field"] == "items[1].handle", (items[index], error)
    assert alice.api("GET", "/api/blocks").get_json() == []


def test_what_reaches_the_page_is_escaped(alice: Account, client: FlaskClient) -> None:
    items = [
        {"network": "github", "handle": "https://github.com/ana?tab=repositories&q=<x"},
        {"network": "cashapp", "handle": "$Ana"},
    ]
    assert error_of(add_row(alice, items))["field"] == "items[0].handle"  # < in a URL is refused
    items[0]["handle"] = "https://github.com/ana?tab=repositories&q=x"
    assert add_row(alice, items).status_code == 201
    html = page_of(client, alice)
    assert 'href="https://github.com/ana?tab=repositories&amp;q=x"' in html
    assert '<span class="sr">Cash App: $Ana</span>' in html


def test_a_page_with_rows_runs_two_selects(app: Flask, alice: Account, client: FlaskClient) -> None:
    alice.add_link("Portfolio", "https://example.com/work")
    for _ in range(SOCIAL.limit):
        add_row(alice, ROW)
    statements = statements_of(app, client, f"/{alice.username}")
    assert len(selects(statements)) <= 2, "\n".join(selects(statements))


def test_a_row_holds_each_profile_once_however_it_is_spelled(alice: Account) -> None:
    row = [
        {"network": "instagram", "handle": "@ana.makes"},
        {"network": "github", "handle": "ana"},
        {"network": "instagram", "handle": "https://instagram.com/Ana.Makes"},
    ]
    refused = add_row(alice, row)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["field"] == "items[2].handle"
    assert error["message"] == "Entry 3 is the same profile as entry 1: keep one of them."
    assert add_row(alice, row[:2]).status_code == 201


def test_full_rows_stay_within_the_byte_budget(alice: Account, client: FlaskClient) -> None:
    """Every row the page may hold, each of 20 profiles with long (30-character) handles."""
    row = [
        {
            "network": key,
            "handle": rule.example.lstrip("@").ljust(30, "a") if key in LONG_HANDLES else rule.example,
        }
        for key, rule in list(HANDLES.items())[:ITEMS_MAX]
    ]
    for _ in range(SOCIAL.limit):
        response = add_row(alice, row)
        assert response.status_code == 201, response.get_data(as_text=True)
    page = visit(client, f"/{alice.username}")
    html = page.get_data(as_text=True)
    assert html.count('class="social-link"') == ITEMS_MAX * SOCIAL.limit
    stylesheets = re.findall(r'<link rel="stylesheet" href="(?:http://localhost)?([^"]+)"', html)
    css = b"".join(client.get(path).get_data() for path in stylesheets)
    total = len(page.get_data()) + len(css)
    assert total < BUDGET_BYTES, f"{total} bytes of HTML + CSS"
