"""The products API (shaped like the links API), product images, and products on the public page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from conexoos.app.dto.products import MAX_PRICE
from conexoos.app.models.persistent import Product
from tests.conftest import AppFactory

from .billing_support import PLAN_OVERRIDES, buy_events, count_rows, visit
from .conftest import Account, form_token

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

PRODUCT_KEYS = {
    "id",
    "title",
    "description",
    "price",
    "currency",
    "image_url",
    "buy_url",
    "enabled",
    "hidden_by_staff",
    "order_index",
}
DEFAULT_IMAGE_URL = "/static/img/default_product.jpg"
DEFAULT_IMAGE_ON_PAGE = r"/static/img/default_product\.[0-9a-f]{12}\.jpg"
"""Templates name static files by their content hash; the API keeps the plain URL."""
BOOK = {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/book"}


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product with the test plans (Gratis: two products)."""
    return make_app(overrides=PLAN_OVERRIDES)


def add_product(account: Account, **fields: Any) -> dict[str, Any]:
    """Create a product through the API (201) and return its JSON."""
    response = account.api("POST", "/api/add/product", {**BOOK, **fields})
    assert response.status_code == 201, response.get_data(as_text=True)
    return assert_product(response.get_json())


def products(account: Account) -> list[dict[str, Any]]:
    """``GET /api/products``."""
    response = account.api("GET", "/api/products")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def assert_product(body: Any) -> dict[str, Any]:
    """``body`` is one product with exactly the documented keys."""
    assert isinstance(body, dict) and set(body) == PRODUCT_KEYS
    assert isinstance(body["id"], int) and isinstance(body["price"], int)
    assert isinstance(body["enabled"], bool) and isinstance(body["order_index"], int)
    return body


def assert_error(
    response: TestResponse, status: int, field: str | None = None, code: str | None = None
) -> None:
    """The JSON error shape ``{"error": {"code", "message", "field"}}`` with ``status``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "field"} and error["message"]
    assert error["field"] == field
    if code is not None:
        assert error["code"] == code


def png_bytes(size: tuple[int, int] = (64, 48), colour: str = "red") -> bytes:
    """A real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(
    account: Account, product_id: int, data: bytes, filename: str, headers: dict[str, str] | None = None
) -> TestResponse:
    """POST a multipart image to ``/api/product/<id>/image``."""
    return account.client.post(
        f"/api/product/{product_id}/image",
        data={"image": (io.BytesIO(data), filename)},
        headers=headers if headers is not None else {"X-CSRFToken": account.csrf},
        content_type="multipart/form-data",
    )


def stored_files(app: Flask) -> list[Path]:
    """Every file under the uploads' products folder."""
    folder = Path(app.extensions["conexoos"].settings.instance_path) / "uploads" / "img" / "products"
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


# ---------------------------------------------------------------- the CRUD contract


def test_list_add_edit_delete(alice: Account) -> None:
    assert products(alice) == []
    created = add_product(alice, title="  E-book  ", description="A guide")
    assert created == {
        **created,
        "title": "E-book",
        "description": "A guide",
        "price": 1250,
        "currency": "EUR",
        "buy_url": "https://shop.example/book",
        "enabled": True,
        "order_index": 0,
        "image_url": DEFAULT_IMAGE_URL,
    }
    second = add_product(alice, title="Course", currency="usd")
    assert second["currency"] == "USD" and second["order_index"] == 1
    assert products(alice) == [created, second]

    response = alice.api("PUT", f"/api/edit/product/{created['id']}", {"price": 990, "enabled": False})
    assert response.status_code == 200
    edited = assert_product(response.get_json())
    assert edited == {**created, "price": 990, "enabled": False}
    patched = alice.api("PATCH", f"/api/edit/product/{created['id']}", {"title": "Guide"}).get_json()
    assert patched == {**edited, "title": "Guide"}

    response = alice.api("DELETE", f"/api/delete/product/{created['id']}")
    assert response.status_code == 204 and response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert products(alice) == [{**second, "order_index": 0}]  # its rank now: no gap is left


def test_the_largest_price_is_stored_and_read_back_exactly(alice: Account) -> None:
    created = add_product(alice, price=MAX_PRICE, currency="JPY")
    assert created["price"] == MAX_PRICE == 2_147_483_647
    assert [product["price"] for product in products(alice)] == [MAX_PRICE]


def test_a_deleted_products_id_is_never_given_again(
    alice: Account, bob: Account, client: FlaskClient
) -> None:
    """Otherwise an old buy link, or statistics kept by id, would point at someone else's product."""
    first = add_product(alice)
    assert alice.api("DELETE", f"/api/delete/product/{first['id']}").status_code == 204
    second = add_product(bob, buy_url="https://bob.example/")
    assert second["id"] > first["id"]
    assert visit(client, f"/go/product/{first['id']}").status_code == 404


def test_reorder(alice: Account) -> None:
    ids = [add_product(alice, title=f"P{n}")["id"] for n in range(2)]
    response = alice.api("POST", "/api/products/reorder", {"ids": ids[::-1]})
    assert response.status_code == 200
    assert [(p["id"], p["order_index"]) for p in response.get_json()] == [(ids[1], 0), (ids[0], 1)]
    assert [p["id"] for p in products(alice)] == ids[::-1]
    assert_error(alice.api("POST", "/api/products/reorder", {"ids": ids[:1]}), 422, field="ids")
    assert_error(alice.api("POST", "/api/products/reorder", {"ids": [*ids, 99999]}), 404)
    assert [p["id"] for p in products(alice)] == ids[::-1]


INVALID = [
    ({"price": -1}, "price"),
    ({"price": 12.5}, "price"),
    ({"price": "100"}, "price"),
    ({"price": 2**31}, "price"),  # more than the INTEGER column holds on PostgreSQL and MariaDB
    ({"currency": "EURO"}, "currency"),
    ({"currency": "XYZ"}, "currency"),
    ({"currency": "XXX"}, "currency"),  # ISO 4217's "no currency"
    ({"currency": "XAU"}, "currency"),  # gold
    ({"currency": "DEM"}, "currency"),  # withdrawn in 2002
    ({"currency": ""}, "currency"),
    ({"buy_url": "javascript:alert(1)"}, "buy_url"),
    ({"buy_url": "ftp://shop.example/"}, "buy_url"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 101}, "title"),
    ({"enabled": "yes"}, "enabled"),
    ({"image": "../../etc/passwd"}, "image"),
    ({"owner_id": 2}, "owner_id"),
]


def test_invalid_fields_are_422_and_change_nothing(alice: Account) -> None:
    product = add_product(alice)
    for change, field in INVALID:
        assert_error(alice.api("POST", "/api/add/product", {**BOOK, **change}), 422, field=field)
        assert_error(alice.api("PUT", f"/api/edit/product/{product['id']}", change), 422, field=field)
    for missing in ("title", "price", "currency", "buy_url"):
        body = {key: value for key, value in BOOK.items() if key != missing}
        assert_error(alice.api("POST", "/api/add/product", body), 422, field=missing)
    assert products(alice) == [product]


def test_malformed_bodies_are_400(alice: Account) -> None:
    product = add_product(alice)
    for method, path in (
        ("POST", "/api/add/product"),
        ("PUT", f"/api/edit/product/{product['id']}"),
        ("POST", "/api/products/reorder"),
    ):
        assert_error(
            alice.api(method, path, data="{", headers={"Content-Type": "application/json"}),
            400,
            code="bad_request",
        )
        assert_error(alice.api(method, path, data="title=x"), 400, code="bad_request")
    assert products(alice) == [product]


def test_writes_without_a_valid_csrf_token_are_400(app: Flask, alice: Account) -> None:
    product = add_product(alice)
    writes = [
        ("POST", "/api/add/product", BOOK),
        ("PUT", f"/api/edit/product/{product['id']}", {"price": 1}),
        ("PATCH", f"/api/edit/product/{product['id']}", {"price": 1}),
        ("DELETE", f"/api/delete/product/{product['id']}", None),
        ("POST", "/api/products/reorder", {"ids": [product["id"]]}),
    ]
    for token in (None, "forged"):
        headers = {} if token is None else {"X-CSRFToken": token}
        for method, path, body in writes:
            response = alice.client.open(path, method=method, json=body, headers=headers)
            assert_error(response, 400, code="csrf_failed")
        image = upload(alice, product["id"], png_bytes(), "a.png", headers=headers)
        assert_error(image, 400, code="csrf_failed")
    assert products(alice) == [product]
    assert stored_files(app) == []


def test_another_users_product_is_404_for_every_verb(app: Flask, alice: Account, bob: Account) -> None:
    theirs = add_product(bob, title="Bob's")
    mine = add_product(alice)
    path_id = theirs["id"]
    for method, path, body in [
        ("PUT", f"/api/edit/product/{path_id}", {"title": "Stolen"}),
        ("PATCH", f"/api/edit/product/{path_id}", {"price": 0}),
        ("DELETE", f"/api/delete/product/{path_id}", None),
        ("POST", "/api/products/reorder", {"ids": [mine["id"], path_id]}),
    ]:
        assert_error(alice.api(method, path, body), 404)
    assert_error(upload(alice, path_id, png_bytes(), "a.png"), 404)
    assert_error(alice.api("PUT", "/api/edit/product/987654", {"title": "x"}), 404)
    assert_error(alice.api("DELETE", "/api/delete/product/987654"), 404)
    assert products(bob) == [theirs]
    assert products(alice) == [mine]
    assert stored_files(app) == []


def test_without_login_every_endpoint_is_401(client: FlaskClient, alice: Account) -> None:
    product = add_product(alice)
    token = form_token(client.get("/login"))
    for method, path, body in [
        ("GET", "/api/products", None),
        ("POST", "/api/add/product", BOOK),
        ("PUT", f"/api/edit/product/{product['id']}", {"title": "x"}),
        ("PATCH", f"/api/edit/product/{product['id']}", {"title": "x"}),
        ("DELETE", f"/api/delete/product/{product['id']}", None),
        ("POST", "/api/products/reorder", {"ids": [product["id"]]}),
    ]:
        response = client.open(path, method=method, json=body, headers={"X-CSRFToken": token})
        assert "Location" not in response.headers
        assert_error(response, 401, code="unauthorized")
    response = client.post(
        f"/api/product/{product['id']}/image",
        headers={"X-CSRFToken": token},
        data={"image": (io.BytesIO(png_bytes()), "a.png")},
        content_type="multipart/form-data",
    )
    assert_error(response, 401, code="unauthorized")
    assert products(alice) == [product]


def test_the_openapi_document_describes_the_products_api(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    paths = document["paths"]
    expected = {
        "/api/products": {"get"},
        "/api/add/product": {"post"},
        "/api/edit/product/{id}": {"put", "patch"},
        "/api/delete/product/{id}": {"delete"},
        "/api/products/reorder": {"post"},
        "/api/product/{id}/image": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), f"{path}: {sorted(paths.get(path, {}))}"
    assert "403" in paths["/api/add/product"]["post"]["responses"]
    assert "multipart/form-data" in paths["/api/product/{id}/image"]["post"]["requestBody"]["content"]
    product_schema = document["components"]["schemas"]["Product"]
    assert set(product_schema["properties"]) >= PRODUCT_KEYS


# ---------------------------------------------------------------- images


def test_a_png_is_accepted_and_re_encoded(app: Flask, alice: Account, client: FlaskClient) -> None:
    product = add_product(alice)
    original = png_bytes()
    response = upload(alice, product["id"], original, "photo.png")
    assert response.status_code == 200, response.get_data(as_text=True)
    image_url = assert_product(response.get_json())["image_url"]
    assert image_url.startswith("/media/img/products/")
    assert products(alice)[0]["image_url"] == image_url
    [stored] = stored_files(app)
    assert image_url.endswith(stored.name)

    served = client.get(image_url)
    assert served.status_code == 200
    assert served.data != original
    with Image.open(io.BytesIO(served.data)) as decoded:
        assert decoded.format != "PNG"  # re-encoded, not the bytes the user sent
        assert decoded.size == (64, 48)

    replaced = upload(alice, product["id"], png_bytes(colour="blue"), "other.png").get_json()["image_url"]
    assert replaced != image_url
    assert [path.name for path in stored_files(app)] == [replaced.rsplit("/", 1)[1]]  # the old file is gone
    assert alice.api("DELETE", f"/api/delete/product/{product['id']}").status_code == 204
    assert stored_files(app) == []


def test_a_file_that_is_not_an_image_is_400_and_nothing_is_written(app: Flask, alice: Account) -> None:
    product = add_product(alice)
    for data, name in (
        (b"just some text\n", "notes.txt"),
        (b"plain text pretending", "fake.png"),
        (png_bytes()[:40], "truncated.png"),
        (b"", "empty.png"),
    ):
        assert_error(upload(alice, product["id"], data, name), 400, field="image")
    response = alice.client.post(
        f"/api/product/{product['id']}/image",
        data={},
        headers={"X-CSRFToken": alice.csrf},
        content_type="multipart/form-data",
    )
    assert_error(response, 422, field="image", code="required")  # no file at all
    assert stored_files(app) == []
    assert products(alice) == [product]
    assert products(alice)[0]["image_url"] == DEFAULT_IMAGE_URL


BAD_CHECKSUM_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes.fromhex(
    "0000753000007530080200000000000000"
)


@pytest.mark.parametrize(
    "data",
    [b"GIF89a<script>", b"GIF89a\xff\xff\xff\xff\x00\x00\x00", BAD_CHECKSUM_PNG],
    ids=["gif-script", "gif-screen-only", "png-30000x30000-bad-checksum"],
)
def test_a_few_bytes_after_an_image_signature_are_not_read_as_dimensions(
    app: Flask, alice: Account, data: bytes
) -> None:
    product = add_product(alice)
    response = upload(alice, product["id"], data, "x.gif")
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert message.startswith("This file is not an image we can read."), message
    assert "pixels" not in message
    assert stored_files(app) == []


def test_an_image_over_the_request_limit_is_a_413_naming_that_limit(app: Flask, alice: Account) -> None:
    product = add_product(alice)
    response = upload(alice, product["id"], b"\x00" * (17 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    message = response.get_json()["error"]["message"]
    assert message.startswith("The request is larger than 16 MB, the most this site accepts in one request")
    assert stored_files(app) == []


# ---------------------------------------------------------------- the public page and the buy link


def test_products_are_cards_with_prices_formatted_for_their_currency(
    alice: Account, client: FlaskClient
) -> None:
    add_product(alice, title="Book", price=1250, currency="EUR")
    add_product(alice, title="Print", price=1000, currency="JPY")
    page = visit(client, "/alice").get_data(as_text=True)
    assert page.index("Book") < page.index("Print")
    assert "€12.50" in page
    assert "¥1,000" in page
    assert "¥10.00" not in page and "1250" not in page
    assert len(re.findall(DEFAULT_IMAGE_ON_PAGE, page)) == 2


def test_an_uploaded_image_replaces_the_default_on_the_page(alice: Account, client: FlaskClient) -> None:
    product = add_product(alice)
    image_url = upload(alice, product["id"], png_bytes(), "p.png").get_json()["image_url"]
    page = visit(client, "/alice").get_data(as_text=True)
    assert image_url in page
    assert "default_product" not in page


def test_the_buy_link_is_counted_and_redirects(app: Flask, alice: Account, client: FlaskClient) -> None:
    product = add_product(alice)
    page = visit(client, "/alice").get_data(as_text=True)
    assert f'href="/go/product/{product["id"]}"' in page
    assert BOOK["buy_url"] not in page  # the page links through the counter, never straight to the shop
    response = visit(client, f"/go/product/{product['id']}")
    assert response.status_code == 302
    assert response.headers["Location"] == BOOK["buy_url"]
    assert buy_events(app, product["id"]) == [("buy", product["id"])]


def test_a_disabled_product_is_hidden_and_its_buy_link_is_404(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    shown = add_product(alice, title="Shown product")
    hidden = add_product(alice, title="Hidden product", enabled=False)
    page = visit(client, "/alice").get_data(as_text=True)
    assert "Shown product" in page and "Hidden product" not in page
    assert visit(client, f"/go/product/{hidden['id']}").status_code == 404
    assert visit(client, "/go/product/987654").status_code == 404
    assert buy_events(app, hidden["id"]) == []
    assert visit(client, f"/go/product/{shown['id']}").status_code == 302
    assert count_rows(app, Product) == 2


def test_a_description_keeps_its_tabs_and_line_breaks_as_newlines(alice: Account) -> None:
    product = add_product(alice, description="Chapter 1:\tstart\r\nChapter 2\rend")
    assert product["description"] == "Chapter 1:\tstart\nChapter 2\nend"


def test_the_published_currency_pattern_takes_what_the_api_takes(client: FlaskClient, alice: Account) -> None:
    """The OpenAPI document said ^[A-Z]{3}$ while "usd" was taken (and stored as USD)."""
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["ProductCreate"]
    pattern = re.compile(schema["properties"]["currency"]["pattern"])
    for taken in ("usd", " Eur "):
        assert pattern.search(taken), taken
        assert add_product(alice, currency=taken)["currency"] == taken.strip().upper()
    assert not pattern.search("EURO") and not pattern.search("E1R")
