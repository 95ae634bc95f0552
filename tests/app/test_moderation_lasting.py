"""What a moderator hid stays hidden on its account: a link, a social icon or an embed its owner deletes
and adds again (however the address is spelled, whatever kind holds it now) is stored hidden by a
moderator. Other accounts are untouched."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from conexoos.app.models.persistent import HiddenAddress, PageBlock, Report, User
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp
from .test_moderation import file

pytestmark = pytest.mark.database_matrix

MASTODON = {"network": "mastodon", "handle": "@a@phish.example"}
VIDEO = "https://youtu.be/dQw4w9WgXcQ"


@pytest.fixture
def moddy(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("moddy"), "moderator")


def page(app: Flask, username: str) -> str:
    return app.test_client().get(f"/{username}").get_data(as_text=True).lower()


def hide_link(app: Flask, moddy: Account, owner: Account, link: dict[str, Any]) -> None:
    report_id = file(owner, app)
    form = {"csrf_token": moddy.csrf, "link_id": link["id"], "url": link["url"]}
    assert moddy.client.post(f"/admin/reports/{report_id}/hide-link", data=form).status_code == 302


def hide_item(app: Flask, moddy: Account, owner: Account, block_id: int, item: int | None = None) -> None:
    report_id = file(owner, app)
    form = {"csrf_token": moddy.csrf, "block_id": block_id, **({"item": item} if item is not None else {})}
    form["url"] = seen_address(app, block_id, item)
    assert moddy.client.post(f"/admin/reports/{report_id}/hide-item", data=form).status_code == 302


def seen_address(app: Flask, block_id: int, item: int | None) -> str:
    """The address the report's page shows staff for an icon (``item`` of the row) or an embed."""
    with app.app_context():
        block = db.session.get(PageBlock, block_id)
        assert block is not None
        fields = block.fields if item is None else block.fields["items"][item]
        return str(fields["url"])


def test_a_hidden_link_deleted_and_added_again_stays_hidden_however_it_is_spelled(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory, bob = signed_up("mallory"), signed_up("bob")
    link = mallory.add_link("Phish", "https://phish.example/offer?id=7")
    hide_link(app, moddy, mallory, link)
    assert mallory.api("DELETE", f"/api/delete/link/{link['id']}").status_code == 204

    for spelled in ("https://phish.example/offer?id=7", "http://WWW.Phish.example/offer/?id=7#top"):
        again = mallory.add_link("Phish again", spelled)
        assert again["enabled"] is False and again["hidden_by_staff"] is True
        assert "phish" not in page(app, "mallory")
        shown = mallory.api("PUT", f"/api/edit/link/{again['id']}", {"enabled": True})
        assert shown.status_code == 409 and "moderator hid this link" in shown.get_data(as_text=True)
        # With its address repeated (as an editor sending the whole link does): the same 409, not a 200
        # that silently kept it off.
        repeated = mallory.api("PUT", f"/api/edit/link/{again['id']}", {"url": spelled, "enabled": True})
        assert repeated.status_code == 409 and "moderator hid this link" in repeated.get_data(as_text=True)
        assert mallory.api("DELETE", f"/api/delete/link/{again['id']}").status_code == 204

    other_offer = mallory.add_link("Another offer", "https://phish.example/offer?id=8")
    assert other_offer["hidden_by_staff"] is False and "another offer" in page(app, "mallory")
    bobs = bob.add_link("Same address", "https://phish.example/offer?id=7")
    assert bobs["hidden_by_staff"] is False and "same address" in page(app, "bob")


def test_a_shown_link_moved_to_a_hidden_address_is_hidden(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    hide_link(app, moddy, mallory, mallory.add_link("Phish", "https://phish.example/"))
    shop = mallory.add_link("Shop", "https://shop.example/")
    moved = mallory.api(
        "PUT", f"/api/edit/link/{shop['id']}", {"url": "https://phish.example", "enabled": True}
    )
    assert moved.status_code == 200
    assert moved.get_json()["hidden_by_staff"] is True and moved.get_json()["enabled"] is False
    assert "shop" not in page(app, "mallory")


def test_a_hidden_social_icon_stays_hidden_in_a_new_row_and_as_a_link(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    github = {"network": "github", "handle": "ana"}
    row = mallory.api("POST", "/api/blocks", {"kind": "social", "items": [MASTODON, github]}).get_json()
    hide_item(app, moddy, mallory, row["id"], 0)
    assert mallory.api("DELETE", f"/api/blocks/{row['id']}").status_code == 204

    respelled = {"network": "mastodon", "handle": "https://PHISH.example/@A/"}
    added = mallory.api("POST", "/api/blocks", {"kind": "social", "items": [respelled, github]})
    assert added.status_code == 201
    assert [entry.get("hidden_by_staff", False) for entry in added.get_json()["items"]] == [True, False]
    assert "phish.example" not in page(app, "mallory") and "https://github.com/ana" in page(app, "mallory")

    link = mallory.add_link("My mastodon", "https://phish.example/@a?ref=bio")
    assert link["hidden_by_staff"] is True and "my mastodon" not in page(app, "mallory")


def test_a_hidden_link_stays_hidden_as_a_social_icon(app: Flask, signed_up: SignUp, moddy: Account) -> None:
    mallory = signed_up("mallory")
    hide_link(app, moddy, mallory, mallory.add_link("Profile", "https://github.com/scam-bot"))
    row = mallory.api(
        "POST", "/api/blocks", {"kind": "social", "items": [{"network": "github", "handle": "ana"}]}
    )
    edited = mallory.api(
        "PATCH",
        f"/api/blocks/{row.get_json()['id']}",
        {"items": [{"network": "github", "handle": "ana"}, {"network": "github", "handle": "scam-bot"}]},
    )
    assert [entry.get("hidden_by_staff", False) for entry in edited.get_json()["items"]] == [False, True]
    assert "scam-bot" not in page(app, "mallory") and "github.com/ana" in page(app, "mallory")


def test_a_hidden_embed_stays_hidden_at_another_address_of_the_same_video(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory, bob = signed_up("mallory"), signed_up("bob")
    block = mallory.api("POST", "/api/blocks", {"kind": "embed", "url": VIDEO, "title": "Watch"}).get_json()
    hide_item(app, moddy, mallory, block["id"])
    assert mallory.api("DELETE", f"/api/blocks/{block['id']}").status_code == 204

    same = {"kind": "embed", "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42", "title": "Again"}
    added = mallory.api("POST", "/api/blocks", same)
    assert added.status_code == 201 and added.get_json()["hidden_by_staff"] is True
    other = {"kind": "embed", "url": "https://youtu.be/9bZkp7q19f0", "title": "Other video"}
    assert mallory.api("POST", "/api/blocks", other).get_json().get("hidden_by_staff", False) is False
    assert "again" not in page(app, "mallory") and "other video" in page(app, "mallory")
    assert mallory.add_link("As a link", "https://youtube.com/watch?v=dQw4w9WgXcQ")["hidden_by_staff"] is True
    assert bob.api("POST", "/api/blocks", same).get_json().get("hidden_by_staff", False) is False


def test_a_hidden_link_or_product_moved_to_an_address_not_hidden_is_a_new_one_off_until_shown(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    """As deleting it and adding the new address would give; the hidden address stays hidden."""
    mallory = signed_up("mallory")
    hide_link(app, moddy, mallory, mallory.add_link("Phish", "https://phish.example/"))
    shop = mallory.add_link("Shop", "https://shop.example/")
    path = f"/api/edit/link/{shop['id']}"
    assert mallory.api("PUT", path, {"url": "https://phish.example"}).get_json()["hidden_by_staff"] is True
    back = mallory.api("PUT", path, {"url": "https://shop.example/"}).get_json()
    assert (back["hidden_by_staff"], back["enabled"]) == (False, False) and "shop" not in page(app, "mallory")
    assert mallory.api("PUT", path, {"enabled": True}).status_code == 200 and "shop" in page(app, "mallory")
    again = mallory.api("PUT", path, {"url": "https://WWW.phish.example/", "enabled": True}).get_json()
    assert (again["hidden_by_staff"], again["enabled"]) == (True, False)
    same = mallory.api("PUT", path, {"url": "https://WWW.phish.example/", "title": "Other"})
    assert same.get_json()["hidden_by_staff"] is True  # the same address: still hidden
    shown = mallory.api("PUT", path, {"url": "https://shop.example/", "enabled": True}).get_json()
    assert (shown["hidden_by_staff"], shown["enabled"]) == (False, True) and "other" in page(app, "mallory")

    product = add_product(mallory, "https://shop.example/buy")
    moved = f"/api/edit/product/{product['id']}"
    assert mallory.api("PUT", moved, {"buy_url": "https://phish.example/"}).get_json()["hidden_by_staff"]
    product_back = mallory.api("PUT", moved, {"buy_url": "https://shop.example/buy"}).get_json()
    assert (product_back["hidden_by_staff"], product_back["enabled"]) == (False, False)


def test_a_hidden_embed_moved_to_another_video_is_a_new_one_and_back_is_hidden(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    block = mallory.api("POST", "/api/blocks", {"kind": "embed", "url": VIDEO, "title": "Watch"}).get_json()
    hide_item(app, moddy, mallory, block["id"])
    path = f"/api/blocks/{block['id']}"
    other = mallory.api("PATCH", path, {"url": "https://youtu.be/9bZkp7q19f0"}).get_json()
    assert other.get("hidden_by_staff", False) is False and other["enabled"] is False
    assert "watch" not in page(app, "mallory")
    assert mallory.api("PATCH", path, {"enabled": True}).status_code == 200 and "watch" in page(
        app, "mallory"
    )
    back = mallory.api("PATCH", path, {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}).get_json()
    assert back["hidden_by_staff"] is True and "watch" not in page(app, "mallory")
    refused = mallory.api("PATCH", path, {"url": "https://youtu.be/dQw4w9WgXcQ?t=3", "enabled": True})
    assert refused.status_code == 409


def test_more_spellings_of_a_hidden_address_stay_hidden(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    """A repeated parameter, a NAT64 address, a hidden mailbox among the copies and YouTube's old player
    paths (an outside tester's list)."""
    mallory = signed_up("mallory")
    for url in (
        "https://evil.example/login?a=1&b=2",
        "http://93.184.216.34/login",
        "mailto:phisher@example.com",
    ):
        hide_link(app, moddy, mallory, mallory.add_link("Hidden", url))
    block = mallory.api("POST", "/api/blocks", {"kind": "embed", "url": VIDEO, "title": "Watch"}).get_json()
    hide_item(app, moddy, mallory, block["id"])
    for spelled in (
        "https://evil.example/login?a=1&b=2&a=1",
        "http://[64:ff9b::93.184.216.34]/login",
        "http://[64:ff9b::5db8:d822]/login",
        "mailto:other@example.com?cc=Phisher@example.com",
        "mailto:other@example.com?bcc=x@example.org,phisher@example.com",
        "mailto:other@example.com?cc=x@example.org;phisher@example.com",
        "mailto:other@example.com?cc=Bad%20Guy%20%3Cphisher@example.com%3E",
        "https://www.youtube.com/v/dQw4w9WgXcQ",
        "https://youtube.com/e/dQw4w9WgXcQ",
        "https://www.youtube.com/v/dQw4w9WgXcQ&hl=en",
    ):
        again = mallory.add_link("Again", spelled)
        assert again["hidden_by_staff"] is True, spelled
        assert mallory.api("DELETE", f"/api/delete/link/{again['id']}").status_code == 204  # the plan's limit
    for other in ("https://evil.example/login?a=1&b=3", "mailto:other@example.com?cc=friend@example.com"):
        assert mallory.add_link("Fine", other)["hidden_by_staff"] is False, other


def test_showing_a_hidden_embed_is_refused_as_for_links_and_products(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    block = mallory.api("POST", "/api/blocks", {"kind": "embed", "url": VIDEO, "title": "Watch"}).get_json()
    hide_item(app, moddy, mallory, block["id"])
    shown = mallory.api("PATCH", f"/api/blocks/{block['id']}", {"enabled": True, "title": "Now"})
    assert shown.status_code == 409
    assert "A moderator hid this embed" in shown.get_json()["error"]["message"]
    assert "now" not in page(app, "mallory")
    retitled = mallory.api("PATCH", f"/api/blocks/{block['id']}", {"title": "Renamed"})
    assert retitled.status_code == 200 and retitled.get_json()["hidden_by_staff"] is True
    assert mallory.api("PATCH", f"/api/blocks/{block['id']}", {"enabled": False}).status_code == 200


def test_the_account_keeps_its_hidden_addresses_until_it_is_deleted(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    hide_link(app, moddy, mallory, mallory.add_link("Phish", "https://phish.example/"))
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "mallory"))
        assert owner is not None
        kept = db.session.execute(select(HiddenAddress.kind, HiddenAddress.address)).all()
        assert [tuple(row) for row in kept] == [("link", "https://phish.example/")]
        assert db.session.scalar(select(HiddenAddress.report_id)) is not None
        db.session.delete(owner)
        db.session.commit()
        assert db.session.scalars(select(HiddenAddress)).all() == []
        assert db.session.scalars(select(PageBlock).where(PageBlock.owner_id == owner.id)).all() == []


def test_a_hidden_video_stays_hidden_as_a_plain_http_link_and_a_hidden_link_video_as_an_embed(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    block = mallory.api("POST", "/api/blocks", {"kind": "embed", "url": VIDEO, "title": "Watch"}).get_json()
    hide_item(app, moddy, mallory, block["id"])
    for spelled in ("http://youtu.be/dQw4w9WgXcQ", "http://m.youtube.com/watch?v=dQw4w9WgXcQ"):
        assert mallory.add_link("Plain", spelled)["hidden_by_staff"] is True
    hide_link(app, moddy, mallory, mallory.add_link("Song", "https://www.youtube.com/watch?v=9bZkp7q19f0"))
    again = {"kind": "embed", "url": "https://youtube.com/shorts/9bZkp7q19f0", "title": "Song again"}
    assert mallory.api("POST", "/api/blocks", again).get_json()["hidden_by_staff"] is True
    assert "plain" not in page(app, "mallory") and "song" not in page(app, "mallory")


def test_hiding_one_profile_named_in_its_query_hides_no_other(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    facebook = {"network": "facebook", "handle": "https://www.facebook.com/profile.php?id=100001111"}
    row = mallory.api("POST", "/api/blocks", {"kind": "social", "items": [facebook]}).get_json()
    hide_item(app, moddy, mallory, row["id"], 0)
    assert mallory.add_link("Friend", "https://www.facebook.com/profile.php?id=4")["hidden_by_staff"] is False
    assert mallory.add_link("Same", "https://fb.com/profile.php?id=100001111")["hidden_by_staff"] is True
    assert "friend" in page(app, "mallory")


def test_a_profile_hidden_as_a_link_stays_hidden_as_an_icon_however_spelled(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    hide_link(app, moddy, mallory, mallory.add_link("Insta", "https://www.instagram.com/eve.other/"))
    for handle in ("@Eve.Other", "https://instagr.am/eve.other?igsh=q", "https://m.instagram.com/EVE.OTHER"):
        entry = {"network": "instagram", "handle": handle}
        added = mallory.api("POST", "/api/blocks", {"kind": "social", "items": [entry]})
        assert added.status_code == 201 and added.get_json()["items"][0]["hidden_by_staff"] is True
        assert mallory.api("DELETE", f"/api/blocks/{added.get_json()['id']}").status_code == 204
    assert mallory.add_link("Dots", "https://www.instagram.com/./eve.other")["hidden_by_staff"] is True
    assert "eve.other" not in page(app, "mallory")


def test_hiding_what_is_hidden_already_leaves_the_report_open(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    link = mallory.add_link("Phish", "https://phish.example/")
    hide_link(app, moddy, mallory, link)
    embed = mallory.api("POST", "/api/blocks", {"kind": "embed", "url": VIDEO, "title": "Watch"}).get_json()
    hide_item(app, moddy, mallory, embed["id"])
    report_id = file(mallory, app)
    again = moddy.client.post(
        f"/admin/reports/{report_id}/hide-link",
        data={"csrf_token": moddy.csrf, "link_id": link["id"], "url": link["url"]},
    )
    assert again.status_code == 409 and "hidden already" in again.get_data(as_text=True)
    form = {"csrf_token": moddy.csrf, "block_id": embed["id"], "url": seen_address(app, embed["id"], None)}
    embed_again = moddy.client.post(f"/admin/reports/{report_id}/hide-item", data=form)
    assert embed_again.status_code == 400 and "hidden already" in embed_again.get_data(as_text=True)
    with app.app_context():
        found = db.session.get(Report, report_id)
        assert found is not None and found.status == "open"


def add_product(owner: Account, buy_url: str, title: str = "Offer") -> dict[str, Any]:
    body = {"title": title, "price": 100, "currency": "EUR", "buy_url": buy_url}
    response = owner.api("POST", "/api/add/product", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_staff_hide_a_product_and_its_buy_link_stays_hidden_on_the_account(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory, bob = signed_up("mallory"), signed_up("bob")
    product = add_product(mallory, "https://evil.example/Login/Page?a=1&b=2")
    others = add_product(bob, "https://evil.example/Login/Page?a=1&b=2", "Bob's")
    report_id = file(mallory, app)
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert 'aria-label="Hide this product: Offer"' in html
    url = f"/admin/reports/{report_id}/hide-product"
    seen = {"url": product["buy_url"]}
    for refused, status in (({"product_id": others["id"]}, 404), ({"product_id": "x"}, 400), ({}, 400)):
        assert (
            moddy.client.post(url, data={"csrf_token": moddy.csrf, **seen, **refused}).status_code == status
        )
    assert moddy.client.post(url, data={"product_id": product["id"], **seen}).status_code in (400, 403)
    form = {"csrf_token": moddy.csrf, "product_id": product["id"], **seen}
    assert moddy.client.post(url, data=form).status_code == 302
    assert "offer" not in page(app, "mallory") and "bob&#39;s" in page(app, "bob")
    assert app.test_client().get(f"/go/product/{product['id']}").status_code in (404, 410)

    shown = mallory.api("PUT", f"/api/edit/product/{product['id']}", {"enabled": True})
    assert shown.status_code == 409 and "moderator hid this product" in shown.get_data(as_text=True)
    assert mallory.api("DELETE", f"/api/delete/product/{product['id']}").status_code == 204
    again = add_product(mallory, "http://www.evil.example/Login/./Page?b=2&a=1", "Offer again")
    assert again["hidden_by_staff"] is True and again["enabled"] is False
    assert mallory.add_link("As a link", "https://evil.example/Login/Page?a=1&b=2")["hidden_by_staff"] is True
    fine = add_product(mallory, "https://shop.example/", "Fine")
    moved = mallory.api(
        "PUT", f"/api/edit/product/{fine['id']}", {"buy_url": "https://evil.example/Login/Page?a=1&b=2"}
    )
    assert moved.status_code == 200 and moved.get_json()["hidden_by_staff"] is True
    assert "offer" not in page(app, "mallory") and "fine" not in page(app, "mallory")
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "hidden by a moderator" in html


def test_a_hidden_links_address_stays_hidden_as_a_products_buy_link(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    hide_link(app, moddy, mallory, mallory.add_link("Phish", "https://phish.example/pay"))
    assert add_product(mallory, "https://phish.example/pay/")["hidden_by_staff"] is True
    assert add_product(mallory, "https://phish.example/other", "Other")["hidden_by_staff"] is False


def test_a_hidden_profile_with_its_networks_share_parameters_stays_hidden(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    row = mallory.api(
        "POST", "/api/blocks", {"kind": "social", "items": [{"network": "x", "handle": "@badguy"}]}
    )
    hide_item(app, moddy, mallory, row.get_json()["id"], 0)
    for handle in ("https://x.com/badguy?s=20", "https://twitter.com/BadGuy?lang=en"):
        entry = {"network": "x", "handle": handle}
        added = mallory.api("POST", "/api/blocks", {"kind": "social", "items": [entry]}).get_json()
        assert added["items"][0]["hidden_by_staff"] is True
        assert mallory.add_link("Me", handle)["hidden_by_staff"] is True
    assert mallory.add_link("A post", "https://x.com/badguy/status/1")["hidden_by_staff"] is False


def test_a_report_staff_may_not_act_on_says_so_and_offers_no_action(
    app: Flask, signed_up: SignUp, moddy: Account
) -> None:
    mallory = signed_up("mallory")
    add_product(mallory, "https://shop.example/")
    report_id = file(moddy, app)  # a report about moddy's own page
    html = moddy.client.get(f"/admin/reports/{report_id}").get_data(as_text=True)
    assert "Not for you: You cannot act on a report about your own page: an administrator must." in html
    assert "Dismiss</button>" not in html and "Suspend @" not in html
    other = file(mallory, app)
    html = moddy.client.get(f"/admin/reports/{other}").get_data(as_text=True)
    assert "Not for you" not in html and "Hide this product" in html and "Dismiss</button>" in html
