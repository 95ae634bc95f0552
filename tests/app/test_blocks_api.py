"""The generic blocks API: every kind through one API, one order across the page, ownership, limits."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conexoos.app.controllers.blocks.header import HEADER
from conexoos.app.models.persistent import User
from conexoos.framework import db
from tests.conftest import AppFactory

from .billing_support import PLAN_OVERRIDES, visit
from .conftest import Account

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

BOOK = {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/book"}
BLOCK_KEYS = {"id", "kind", "position", "item_id", "enabled"}


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product with the test plans (Gratis: three links, two products)."""
    return make_app(overrides=PLAN_OVERRIDES)


def add(account: Account, kind: str, **fields: Any) -> dict[str, Any]:
    """``POST /api/blocks`` (201) and the block's JSON."""
    response = account.api("POST", "/api/blocks", {"kind": kind, **fields})
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert set(body) >= BLOCK_KEYS and body["kind"] == kind
    return body


def blocks(account: Account) -> list[dict[str, Any]]:
    """``GET /api/blocks``."""
    response = account.api("GET", "/api/blocks")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def error_of(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- each kind


def test_header_text_and_divider_are_added_listed_and_edited(alice: Account) -> None:
    header = add(alice, "header", title="  My work  ")
    text = add(alice, "text", text="Line one\nLine two")
    divider = add(alice, "divider")
    assert header | {"id": 0} == {
        "id": 0, "kind": "header", "position": 0, "item_id": None, "enabled": True, "title": "My work",
    }  # fmt: skip
    assert (text["text"], text["position"]) == ("Line one\nLine two", 1)
    assert (divider["position"], set(divider)) == (2, BLOCK_KEYS)

    edited = alice.api("PATCH", f"/api/blocks/{header['id']}", {"title": "Talks"})
    assert edited.status_code == 200 and edited.get_json()["title"] == "Talks"
    hidden = alice.api("PATCH", f"/api/blocks/{text['id']}", {"enabled": False}).get_json()
    assert (hidden["enabled"], hidden["text"]) == (False, "Line one\nLine two")
    assert [(b["kind"], b.get("title")) for b in blocks(alice)] == [
        ("header", "Talks"),
        ("text", None),
        ("divider", None),
    ]


def test_a_link_block_is_a_link_of_the_seed_api_with_the_same_id(alice: Account, client: FlaskClient) -> None:
    block = add(alice, "link", title="Shop", url="https://shop.example/")
    assert alice.links()[0]["id"] == block["item_id"]
    assert (block["title"], block["url"], block["enabled"]) == ("Shop", "https://shop.example/", True)
    assert visit(client, f"/go/{block['item_id']}").headers["Location"] == "https://shop.example/"

    renamed = alice.api("PATCH", f"/api/blocks/{block['id']}", {"title": "The shop"})
    assert renamed.get_json()["title"] == "The shop" == alice.links()[0]["title"]

    assert alice.api("DELETE", f"/api/blocks/{block['id']}").status_code == 204
    assert alice.links() == [] and blocks(alice) == []
    assert visit(client, f"/go/{block['item_id']}").status_code == 404


def test_a_link_from_the_seed_api_is_a_block_and_its_deletion_removes_it(alice: Account) -> None:
    link = alice.add_link("Seed", "https://seed.example/")
    assert [(b["kind"], b["item_id"]) for b in blocks(alice)] == [("link", link["id"])]
    assert alice.api("DELETE", f"/api/delete/link/{link['id']}").status_code == 204
    assert blocks(alice) == []


def test_a_product_block_is_a_product_of_the_seed_api(alice: Account) -> None:
    block = add(alice, "product", **BOOK)
    products = alice.api("GET", "/api/products").get_json()
    assert [p["id"] for p in products] == [block["item_id"]]
    assert (block["price"], block["image_url"]) == (1250, "/static/img/default_product.jpg")
    changed = alice.api("PATCH", f"/api/blocks/{block['id']}", {"price": 990}).get_json()
    assert changed["price"] == 990 == alice.api("GET", "/api/products").get_json()[0]["price"]
    assert alice.api("DELETE", f"/api/blocks/{block['id']}").status_code == 204
    assert alice.api("GET", "/api/products").get_json() == []


# ---------------------------------------------------------------- bad input names the field

BAD_BODIES: dict[str, tuple[Any, int, str | None]] = {
    "no kind": ({"title": "x"}, 422, "kind"),
    "unknown kind": ({"kind": "marquee"}, 422, "kind"),
    "kind not a string": ({"kind": ["header"]}, 422, "kind"),
    "header without title": ({"kind": "header"}, 422, "title"),
    "blank header": ({"kind": "header", "title": " \u200b "}, 422, "title"),
    "long header": ({"kind": "header", "title": "x" * 101}, 422, "title"),
    "header with a newline": ({"kind": "header", "title": "a\nb"}, 422, "title"),
    "long text": ({"kind": "text", "text": "x" * 1001}, 422, "text"),
    "text not a string": ({"kind": "text", "text": 5}, 422, "text"),
    "field of another kind": ({"kind": "divider", "title": "x"}, 422, "title"),
    "link with javascript:": ({"kind": "link", "title": "x", "url": "javascript:alert(1)"}, 422, "url"),
    "not an object": ([1], 400, None),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_input_is_refused_naming_the_field(alice: Account, case: str) -> None:
    body, status, field = BAD_BODIES[case]
    assert error_of(alice.api("POST", "/api/blocks", body), status)["field"] == field
    assert blocks(alice) == []


def test_a_blocks_kind_cannot_change(alice: Account) -> None:
    header = add(alice, "header", title="Title")
    error = error_of(alice.api("PATCH", f"/api/blocks/{header['id']}", {"kind": "text", "text": "x"}), 422)
    assert error["field"] == "kind"
    error = error_of(alice.api("PATCH", f"/api/blocks/{header['id']}", {"title": ""}), 422)
    assert error["field"] == "title"
    assert blocks(alice)[0]["title"] == "Title"


def test_without_login_401_and_without_csrf_400(app: Flask, alice: Account) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/api/blocks").status_code == 401
    response = alice.client.post("/api/blocks", json={"kind": "divider"})
    assert error_of(response, 400)["code"] == "csrf_failed"
    assert blocks(alice) == []


def test_a_suspended_account_adds_no_block(app: Flask, alice: Account) -> None:
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.suspended_at = user.created_at
        db.session.commit()
    assert error_of(alice.api("POST", "/api/blocks", {"kind": "header", "title": "x"}), 403)
    assert blocks(alice) == []


# ---------------------------------------------------------------- ownership

ATTEMPTS = {
    "patch": lambda bob, block: bob.api("PATCH", f"/api/blocks/{block['id']}", {"title": "Taken"}),
    "patch-empty": lambda bob, block: bob.api("PATCH", f"/api/blocks/{block['id']}", {}),
    "delete": lambda bob, block: bob.api("DELETE", f"/api/blocks/{block['id']}"),
    "reorder": lambda bob, block: bob.api("POST", "/api/blocks/reorder", {"ids": [block["id"]]}),
}


@pytest.mark.parametrize("kind", ["header", "text", "divider", "link", "product"])
@pytest.mark.parametrize("verb", list(ATTEMPTS))
def test_another_users_block_is_a_404_and_stays(alice: Account, bob: Account, kind: str, verb: str) -> None:
    fields = {
        "header": {"title": "Mine"},
        "text": {"text": "Mine"},
        "divider": {},
        "link": {"title": "Mine", "url": "https://alice.example/"},
        "product": BOOK,
    }[kind]
    target = add(alice, kind, **fields)
    before = blocks(alice)
    assert error_of(ATTEMPTS[verb](bob, target), 404)["code"] == "not_found"
    assert blocks(alice) == before and blocks(bob) == []


# ---------------------------------------------------------------- one order across the page


def test_reordering_blocks_moves_the_seed_orders_along(alice: Account) -> None:
    first = alice.add_link("First", "https://example.com/1")
    header = add(alice, "header", title="Section")
    second = alice.add_link("Second", "https://example.com/2")
    ids = [b["id"] for b in blocks(alice)]
    reordered = alice.api("POST", "/api/blocks/reorder", {"ids": [ids[2], ids[1], ids[0]]})
    assert reordered.status_code == 200
    assert [(b["kind"], b["position"]) for b in reordered.get_json()] == [
        ("link", 0),
        ("header", 1),
        ("link", 2),
    ]
    assert [link["id"] for link in alice.links()] == [second["id"], first["id"]]
    # The seed's reorder moves the links in the places they hold: the header stays between them.
    assert alice.api("POST", "/api/links/reorder", {"ids": [first["id"], second["id"]]}).status_code == 200
    assert [(b["kind"], b["item_id"] or b["id"]) for b in blocks(alice)] == [
        ("link", first["id"]),
        ("header", header["id"]),
        ("link", second["id"]),
    ]


def test_a_deletion_leaves_no_gap_in_either_order(alice: Account) -> None:
    """Positions stay 0, 1, 2... and each link's order_index its rank among the links, whichever API
    deleted what (a link, a header, a product)."""
    first = alice.add_link("First", "https://example.com/1")
    header = add(alice, "header", title="Section")
    second = alice.add_link("Second", "https://example.com/2")
    product = alice.api(
        "POST",
        "/api/add/product",
        {"title": "Poster", "price": 100, "currency": "EUR", "buy_url": "https://s.example/"},
    ).get_json()
    third = alice.add_link("Third", "https://example.com/3")
    assert alice.api("DELETE", f"/api/delete/link/{second['id']}").status_code == 204
    assert alice.api("DELETE", f"/api/blocks/{header['id']}").status_code == 204
    assert alice.api("DELETE", f"/api/delete/product/{product['id']}").status_code == 204
    assert [(b["kind"], b["position"]) for b in blocks(alice)] == [("link", 0), ("link", 1)]
    assert [(link["id"], link["order_index"]) for link in alice.links()] == [
        (first["id"], 0),
        (third["id"], 1),
    ]


def test_a_reorder_must_list_every_block_once(alice: Account) -> None:
    one, two = add(alice, "divider"), add(alice, "divider")
    error = error_of(alice.api("POST", "/api/blocks/reorder", {"ids": [two["id"]]}), 422)
    assert error["field"] == "ids"
    assert [b["id"] for b in blocks(alice)] == [one["id"], two["id"]]


# ---------------------------------------------------------------- plan limits per kind


def test_the_plans_link_limit_holds_through_the_blocks_api(alice: Account) -> None:
    for number in range(3):  # Gratis: three links
        add(alice, "link", title=f"Link {number}", url=f"https://example.com/{number}")
    error = error_of(
        alice.api("POST", "/api/blocks", {"kind": "link", "title": "4", "url": "https://x.example"}), 403
    )
    assert error["code"] == "plan_limit" and "3 links" in error["message"]
    assert error_of(alice.api("POST", "/api/add/link", {"title": "4", "url": "https://x.example"}), 403)
    add(alice, "header", title="Other kinds are counted apart")


def test_a_simple_kind_is_capped_on_every_plan(alice: Account) -> None:
    for number in range(HEADER.limit):
        add(alice, "header", title=f"Header {number}")
    error = error_of(alice.api("POST", "/api/blocks", {"kind": "header", "title": "One more"}), 403)
    assert error["code"] == "page_limit"
    assert error["message"] == f"A page holds at most {HEADER.limit} headers. Delete a header to add another."
    add(alice, "text", text="A text still fits")


def test_the_blocks_api_is_in_the_openapi_document(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert set(document["paths"]["/api/blocks"]) == {"get", "post"}
    assert set(document["paths"]["/api/blocks/{id}"]) == {"patch", "delete"}
    assert "post" in document["paths"]["/api/blocks/reorder"]
    create = document["components"]["schemas"]["BlockCreate"]
    assert create["properties"]["kind"]["enum"] == [
        "link",
        "product",
        "header",
        "text",
        "divider",
        "embed",
        "social",
        "capture",
    ]
    assert {"title", "text", "url", "price"} <= set(create["properties"])
