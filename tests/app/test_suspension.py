"""A suspended account changes nothing its page shows (links, blocks, icons, products, profile,
appearance), through the API and the forms alike, with one sentence saying why; it may still delete. Its
uploads answer 404 as its page does, but to itself and staff."""

from __future__ import annotations

import io

from flask import Flask

from conexoos.app.controllers.suspension import SUSPENDED
from conexoos.app.models.persistent import Product, User
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp
from .leaving_support import png_bytes, seed_account
from .media_support import noisy_png
from .test_appearance import VALID, row
from .test_appearance import post as post_appearance

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


def test_a_cache_keeps_an_upload_an_hour_at_most_so_a_suspension_reaches_it(
    app: Flask, alice: Account
) -> None:
    """Uploads were ``public, max-age=31536000, immutable``: a browser or shared cache that had one kept
    showing it for a year after its account was suspended, never asking again. An hour now, not immutable;
    asked again, an unchanged file is a 304 with the same policy, and a suspended one a 404."""
    names = seed_account(app, alice).images
    visitor = app.test_client()
    etags = {}
    for name in names:
        shown = visitor.get(f"/media/{name}")
        assert shown.status_code == 200 and shown.headers["Cache-Control"] == "public, max-age=3600", name
        etags[name] = shown.headers["ETag"]
        again = visitor.get(f"/media/{name}", headers={"If-None-Match": etags[name]})
        assert again.status_code == 304 and again.headers["Cache-Control"] == "public, max-age=3600", name
    suspend(app, alice)
    for name in names:  # what a cache asking again after the hour is told
        assert visitor.get(f"/media/{name}", headers={"If-None-Match": etags[name]}).status_code == 404


def test_a_suspended_accounts_uploads_are_a_404_but_to_itself_and_staff(
    app: Flask, alice: Account, bob: Account, signed_up: SignUp
) -> None:
    """Avatar, link thumbnail, product image and background (outside tester: still served when suspended)."""
    background = (io.BytesIO(noisy_png((300, 200))), "sky.png")
    saved = post_appearance(alice, background="image", backdrop_color="#ffffff", background_image=background)
    assert saved.status_code == 302
    stored = row(app, alice)
    assert stored is not None and stored.background_image
    images = [*seed_account(app, alice).images, stored.background_image]
    others = seed_account(app, bob).images
    moddy = make_staff(app, signed_up("moddy"), "moderator")
    visitor = app.test_client()
    etags = {name: visitor.get(f"/media/{name}").headers["ETag"] for name in images}
    assert len(etags) == 4

    suspend(app, alice)
    assert visitor.get("/alice").status_code == 404
    for name in images:
        assert visitor.get(f"/media/{name}").status_code == 404, name
        assert visitor.get(f"/media/{name}", headers={"If-None-Match": etags[name]}).status_code == 404
        assert bob.client.get(f"/media/{name}").status_code == 404
        for allowed in (alice, moddy):  # the owner's dashboard, staff looking into a report
            shown = allowed.client.get(f"/media/{name}")
            assert shown.status_code == 200 and shown.headers["Cache-Control"] == "private, no-cache"
    assert [visitor.get(f"/media/{name}").status_code for name in others] == [200] * len(others)

    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.suspended_at = None
        db.session.commit()
    assert [visitor.get(f"/media/{name}").status_code for name in images] == [200] * 4
