"""A suspended account changes nothing its page shows (links, blocks, icons, products, profile,
appearance), through the API and the forms alike, with one sentence saying why; it may still delete."""

from __future__ import annotations

import io

from flask import Flask

from conexoos.app.controllers.suspension import SUSPENDED
from conexoos.app.models.persistent import Product, User
from conexoos.framework import db

from .conftest import Account
from .leaving_support import png_bytes
from .test_appearance import VALID

BOOK = {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/book"}


def suspend(app: Flask, account: Account) -> None:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        user.suspended_at = user.created_at
        user.suspension_reason = "spam"
        db.session.commit()


def refused(response: object) -> None:
    """403 with the suspension sentence, as JSON for the API and in the page for a form."""
    assert getattr(response, "status_code", None) == 403
    assert "Your account is suspended" in response.get_data(as_text=True)  # type: ignore[attr-defined]


def product_rows(app: Flask, account: Account) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(db.select(Product).filter_by(owner_id=account.id)).all()
        return [(row.title, row.buy_url, row.image) for row in rows]


def test_products_are_neither_added_nor_changed(app: Flask, alice: Account) -> None:
    created = alice.api("POST", "/api/add/product", BOOK)
    assert created.status_code == 201, created.get_data(as_text=True)
    product = created.get_json()
    before = product_rows(app, alice)
    suspend(app, alice)

    added = alice.api("POST", "/api/add/product", {**BOOK, "title": "Spam"})
    refused(added)
    assert added.get_json()["error"]["message"] == SUSPENDED  # the API says the one sentence, whole
    refused(alice.api("PUT", f"/api/edit/product/{product['id']}", {"buy_url": "https://changed.example/"}))
    refused(alice.api("POST", "/api/blocks", {"kind": "product", **BOOK}))
    image = alice.client.post(
        f"/api/product/{product['id']}/image",
        data={"image": (io.BytesIO(png_bytes()), "new.png")},
        headers={"X-CSRFToken": alice.csrf},
        content_type="multipart/form-data",
    )
    refused(image)
    assert product_rows(app, alice) == before


def test_the_profile_and_the_appearance_forms_save_nothing(app: Flask, alice: Account) -> None:
    suspend(app, alice)
    profile = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Spam King", "bio": "buy"}
    )
    refused(profile)
    appearance = alice.client.post(
        "/settings/appearance", data={"csrf_token": alice.csrf, **VALID}, content_type="multipart/form-data"
    )
    refused(appearance)
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.display_name != "Spam King" and user.bio != "buy"
    assert "#6c2bd9" not in alice.client.get("/settings/appearance").get_data(as_text=True)


def test_a_suspended_account_still_deletes(app: Flask, alice: Account) -> None:
    link = alice.add_link()
    product = alice.api("POST", "/api/add/product", BOOK).get_json()
    suspend(app, alice)
    assert alice.api("DELETE", f"/api/delete/link/{link['id']}").status_code in (200, 204)
    assert alice.api("DELETE", f"/api/delete/product/{product['id']}").status_code in (200, 204)
    assert product_rows(app, alice) == [] and alice.links() == []
