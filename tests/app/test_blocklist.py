"""The link policy's blocklist: refused in new and edited links, existing links hidden and gone from /go,
subdomains and IDN names included, removal unblocks, the import reports its bad lines."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from conexoos.app.controllers.blocklist import BlocklistError, normalise_domain
from conexoos.app.models.persistent import AuditEntry, BlockedDomain
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import BROWSER_UA, Account, SignUp
from .test_public_page import statements_of

pytestmark = pytest.mark.database_matrix


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def block(boss: Account, domain: str) -> int:
    return boss.client.post(
        "/admin/blocklist/add", data={"csrf_token": boss.csrf, "domain": domain}
    ).status_code


def refused_link_message(alice: Account, url: str) -> str:
    """The message of the 422 a new link to ``url`` gets (asserting the 422)."""
    response = alice.api("POST", "/api/add/link", {"title": "x", "url": url})
    assert response.status_code == 422, (url, response.get_data(as_text=True))
    return str(response.get_json()["error"]["message"])


def listed(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(BlockedDomain.domain).order_by(BlockedDomain.domain)))


def go(client: FlaskClient, link_id: int) -> int:
    return client.get(f"/go/{link_id}", headers={"User-Agent": BROWSER_UA}).status_code


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Example.COM.", "example.com"),
        ("*.evil.example", "evil.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_stored_idna_encoded(raw: str, stored: str) -> None:
    assert normalise_domain(raw) == stored


@pytest.mark.parametrize(
    "raw", ["", "localhost", "https://evil.example/x", "a b.example", "-x.example", "x" * 300]
)
def test_invalid_domains_are_refused_with_a_sentence(raw: str) -> None:
    with pytest.raises(BlocklistError, match=r"[Dd]omain"):
        normalise_domain(raw)


@pytest.mark.parametrize("length", [254, 300, 301, 5000])
def test_a_domain_too_long_is_refused_on_the_page(app: Flask, boss: Account, length: int) -> None:
    """254 to 300 characters fit the field and were a bare 400; past it too: the page says it, 422."""
    domain = ".".join(["a" * 60] * 6)[: length - 8] + ".example"
    answer = boss.client.post("/admin/blocklist/add", data={"csrf_token": boss.csrf, "domain": domain})
    assert answer.status_code == 422
    assert "Blocked domains" in answer.get_data(as_text=True)  # the page, with its forms
    assert listed(app) == []


def test_new_and_edited_links_to_a_blocked_domain_or_subdomain_get_a_422(
    app: Flask, alice: Account, boss: Account
) -> None:
    assert block(boss, "evil.example") == 302
    for url in ("https://evil.example/", "http://login.EVIL.example/x", "mailto:a@evil.example"):
        assert "Links to evil.example are not allowed" in refused_link_message(alice, url)
    assert (
        alice.api("POST", "/api/add/link", {"title": "x", "url": "https://notevil.example/"}).status_code
        == 201
    )
    link = alice.add_link("Fine", "https://fine.example/")
    edit = alice.api("PATCH", f"/api/edit/link/{link['id']}", {"url": "https://www.evil.example/"})
    assert edit.status_code == 422


@pytest.mark.parametrize("spelling", ["0xcb.0.113.7", "0313.0.0161.7", "3405803783", "203.0.28935"])
def test_an_address_is_blocked_in_every_spelling_a_browser_reads_as_it(
    app: Flask, alice: Account, boss: Account, spelling: str
) -> None:
    assert normalise_domain(spelling) == "203.0.113.7"
    assert block(boss, spelling) == 302
    for url in ("http://203.0.113.7/login", "http://0xCB.0x00.0x71.0x07/", "http://3405803783./"):
        assert "Links to 203.0.113.7 are not allowed" in refused_link_message(alice, url)


def test_existing_links_are_hidden_and_gone_until_the_domain_is_removed(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    bad = alice.add_link("Bad", "https://shop.evil.example/")
    good = alice.add_link("Good", "https://good.example/")
    assert block(boss, "EVIL.example") == 302
    page = client.get("/alice").get_data(as_text=True)
    assert "Bad" not in page and "Good" in page
    assert go(client, bad["id"]) == 410 and go(client, good["id"]) == 302
    assert block(boss, "evil.example") == 422  # already listed
    with app.app_context():
        entry_id = db.session.scalar(select(BlockedDomain.id))
    response = boss.client.post(f"/admin/blocklist/{entry_id}/remove", data={"csrf_token": boss.csrf})
    assert response.status_code == 302
    assert "Bad" in client.get("/alice").get_data(as_text=True)
    assert go(client, bad["id"]) == 302
    with app.app_context():
        logged = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert logged[-2:] == ["blocklist.add", "blocklist.remove"]


def test_an_idn_domain_blocks_its_unicode_and_punycode_links(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Books", "https://www.bücher.example/")
    assert block(boss, "bücher.example") == 302
    assert go(client, link["id"]) == 410
    refused = alice.api("POST", "/api/add/link", {"title": "x", "url": "https://xn--bcher-kva.example/"})
    assert refused.status_code == 422


def test_import_adds_valid_lines_and_reports_the_others(app: Flask, boss: Account) -> None:
    text = "# phishing list\nevil.example\n\nbücher.example  # shop\nnot a domain\nhttps://x.example/\nevil.example\n"
    data = {"csrf_token": boss.csrf, "file": (io.BytesIO(text.encode()), "list.txt")}
    response = boss.client.post("/admin/blocklist/import", data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 added, 1 already listed, 2 lines refused" in html
    assert "Line 5" in html and "Line 6" in html
    assert listed(app) == ["evil.example", "xn--bcher-kva.example"]
    binary = {"csrf_token": boss.csrf, "file": (io.BytesIO(b"\xff\xfe\x00bad"), "list.txt")}
    refused = boss.client.post("/admin/blocklist/import", data=binary, content_type="multipart/form-data")
    assert refused.status_code == 400 and "not UTF-8" in refused.get_data(as_text=True)
    empty = boss.client.post("/admin/blocklist/import", data={"csrf_token": boss.csrf})
    assert empty.status_code == 400


def test_the_blocklist_is_for_administrators_only(app: Flask, signed_up: SignUp) -> None:
    moddy = make_staff(app, signed_up("moddy"), "moderator")
    assert moddy.client.get("/admin/blocklist").status_code == 404
    assert block(moddy, "evil.example") == 404


def test_hiding_blocked_links_costs_the_public_page_no_query(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    alice.add_link("Bad", "https://evil.example/")
    alice.add_link("Good", "https://good.example/")
    before = statements_of(app, client, "/alice")
    assert block(boss, "evil.example") == 302
    after = statements_of(app, client, "/alice")
    assert len(after) == len(before)
    assert len([sql for sql in after if sql.startswith("SELECT")]) <= 2
    html = client.get("/alice").get_data(as_text=True)
    assert 'href="/alice/report"' in html and len(html.encode()) < 30 * 1024


def test_product_buy_links_to_a_blocked_domain_are_refused_hidden_and_gone(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    product = {"title": "Thing", "price": 100, "currency": "EUR", "buy_url": "https://shop.evil.example/b"}
    made = alice.api("POST", "/api/add/product", product)
    assert made.status_code == 201
    product_id = made.get_json()["id"]
    assert block(boss, "evil.example") == 302
    refused = alice.api("POST", "/api/add/product", {**product, "buy_url": "https://login.evil.example/p"})
    assert refused.status_code == 422
    assert "Links to evil.example are not allowed" in refused.get_json()["error"]["message"]
    edit = alice.api("PATCH", f"/api/edit/product/{product_id}", {"buy_url": "https://EVIL.example/"})
    assert edit.status_code == 422
    assert "Thing" not in client.get("/alice").get_data(as_text=True)
    assert client.get(f"/go/product/{product_id}", headers={"User-Agent": BROWSER_UA}).status_code == 410
    with app.app_context():
        entry_id = db.session.scalar(select(BlockedDomain.id))
    boss.client.post(f"/admin/blocklist/{entry_id}/remove", data={"csrf_token": boss.csrf})
    assert "Thing" in client.get("/alice").get_data(as_text=True)
    assert client.get(f"/go/product/{product_id}", headers={"User-Agent": BROWSER_UA}).status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "mailto:a@%65vil.example",
        "mailto:a@good.example?cc=b@evil.example",
        "mailto:a@good.example?to=b@good.example,c@EVIL.example",
        "mailto:a@good.example?bcc=b%40login.evil.example",
        "mailto:?to=b@evil.example",
        "mailto:a@good.example?cc=b@evil.example;c@good.example",  # was missed: only the last @ was read
        "mailto:a@good.example?cc=Bad%20Guy%20%3Cb@evil.example%3E",
        'mailto:a@good.example?cc="b,c"@evil.example',
    ],
)
def test_every_address_of_a_mailto_is_checked(app: Flask, alice: Account, boss: Account, url: str) -> None:
    assert block(boss, "evil.example") == 302
    response = alice.api("POST", "/api/add/link", {"title": "x", "url": url})
    assert response.status_code == 422, url


def test_blocking_marks_mailto_links_in_any_case_or_encoding(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    cc = alice.add_link("Cc", "mailto:a@good.example?cc=b@evil.example")
    upper = alice.add_link("Upper", "mailto:a@EVIL.Example")
    fine = alice.add_link("Fine", "mailto:a@good.example")
    assert block(boss, "evil.example") == 302
    assert go(client, cc["id"]) == 410 and go(client, upper["id"]) == 410
    assert go(client, fine["id"]) == 302


def import_text(boss: Account, text: str) -> str:
    data = {"csrf_token": boss.csrf, "file": (io.BytesIO(text.encode()), "list.txt")}
    response = boss.client.post("/admin/blocklist/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_import_line_numbers_count_line_feeds_only(app: Flask, boss: Account) -> None:
    html = import_text(boss, "good.example \u2028 # note\r\nbad domain\r\nfine.example\n")
    assert "2 added, 0 already listed, 1 line refused" in html
    assert "Line 2 (" in html and "Line 3" not in html
    assert listed(app) == ["fine.example", "good.example"]


def test_a_large_import_is_one_audit_entry_and_marks_links_in_one_pass(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Bad", "mailto:a@X.Evil7.example")
    product = alice.api(
        "POST",
        "/api/add/product",
        {"title": "Thing", "price": 1, "currency": "EUR", "buy_url": "https://shop.evil3.example/"},
    ).get_json()
    lines = [f"evil{number}.example" for number in range(250)] + ["bad line"] * 60
    html = import_text(boss, "\n".join(lines))
    assert "250 added, 0 already listed, 60 lines refused" in html
    assert html.count("Line ") == 50 and "Only the first 50 refused lines are shown" in html
    assert go(client, link["id"]) == 410
    assert client.get(f"/go/product/{product['id']}", headers={"User-Agent": BROWSER_UA}).status_code == 410
    with app.app_context():
        logged = list(
            db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("blocklist.%")))
        )
    assert logged == ["blocklist.import"]
    first = boss.client.get("/admin/blocklist").get_data(as_text=True)
    assert "250 domains blocked" in first and "Page 1 of 3" in first and first.count("Remove</button>") == 100
    assert boss.client.get("/admin/blocklist?page=3").get_data(as_text=True).count("Remove</button>") == 50
    assert boss.client.get("/admin/blocklist?page=4").status_code == 404
    assert boss.client.get("/admin/blocklist?page=x").status_code == 400


def social_row(account: Account, handle: str, network: str = "mastodon") -> Any:
    return account.api(
        "POST", "/api/blocks", {"kind": "social", "items": [{"network": network, "handle": handle}]}
    )


def refused_icon(account: Account, handle: str) -> dict[str, Any]:
    """The error of a social row with ``handle`` that must be refused (422)."""
    refused = social_row(account, handle)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    error: dict[str, Any] = refused.get_json()["error"]
    return error


@pytest.mark.parametrize("handle", ["@a@phish.example", "https://phish.example/@a", "@a@login.PHISH.example"])
def test_social_icons_to_a_blocked_domain_are_refused_on_add_and_edit(
    app: Flask, alice: Account, boss: Account, handle: str
) -> None:
    assert block(boss, "phish.example") == 302
    error = refused_icon(alice, handle)
    assert error["code"] == "blocked_domain" and error["field"] == "items[0].handle"
    assert "Links to phish.example are not allowed" in error["message"]
    fine = social_row(alice, "@a@mastodon.social")
    assert fine.status_code == 201
    items = [{"network": "github", "handle": "ana"}, {"network": "mastodon", "handle": handle}]
    edit = alice.api("PATCH", f"/api/blocks/{fine.get_json()['id']}", {"items": items})
    assert edit.status_code == 422 and edit.get_json()["error"]["field"] == "items[1].handle"
    assert "phish.example" not in str(alice.api("GET", "/api/blocks").get_json())


def test_a_social_icon_blocked_later_is_unlinked_at_no_query_until_the_domain_is_removed(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    items = [{"network": "mastodon", "handle": "@a@phish.example"}, {"network": "github", "handle": "ana"}]
    made = alice.api("POST", "/api/blocks", {"kind": "social", "items": items})
    assert made.status_code == 201
    assert "https://phish.example/@a" in client.get("/alice").get_data(as_text=True)
    before = statements_of(app, client, "/alice")
    assert block(boss, "phish.example") == 302
    after = statements_of(app, client, "/alice")
    assert len(after) == len(before) and len([sql for sql in after if sql.startswith("SELECT")]) <= 2
    page = client.get("/alice").get_data(as_text=True)
    assert "phish.example" not in page and "https://github.com/ana" in page
    [shown] = alice.api("GET", "/api/blocks").get_json()
    assert [item.get("blocked", False) for item in shown["items"]] == [True, False]
    with app.app_context():
        entry_id = db.session.scalar(select(BlockedDomain.id))
    boss.client.post(f"/admin/blocklist/{entry_id}/remove", data={"csrf_token": boss.csrf})
    assert "https://phish.example/@a" in client.get("/alice").get_data(as_text=True)


def test_an_import_unlinks_social_icons_too(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    assert social_row(alice, "https://phish.example/@a").status_code == 201
    assert "1 added" in import_text(boss, "phish.example\n")
    assert "phish.example" not in client.get("/alice").get_data(as_text=True)


def test_an_embed_of_a_blocked_domain_is_refused(app: Flask, alice: Account, boss: Account) -> None:
    assert block(boss, "youtube.com") == 302
    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    refused = alice.api("POST", "/api/blocks", {"kind": "embed", "url": url})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "blocked_domain"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:1.2.3.4]/",
        "https://[::FFFF:0102:0304]/login",
        "http://[0:0:0:0:0:ffff:1.2.3.4]:8080/",
        "http://[64:ff9b::1.2.3.4]/",
        "mailto:a@[::ffff:1.2.3.4]",
        "http://[::1.2.3.4]/",
        "https://[::102:304]/login",
        "mailto:a@[IPv6:::1.2.3.4]",
        "http://[2002:102:304::1]/",
        "http://[2001:0:4136:e378:8000:63bf:fefd:fcfb]/",
    ],
)
def test_an_ipv4_address_is_blocked_in_its_ipv6_spellings(
    app: Flask, alice: Account, boss: Account, url: str
) -> None:
    assert block(boss, "1.2.3.4") == 302
    assert "Links to 1.2.3.4 are not allowed" in refused_link_message(alice, url)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::127.0.0.2]/",
        "http://[::7f00:2]/",
        "http://[::ffff:127.0.0.2]/",
        "http://[64:ff9b::7f00:2]/",
        "http://[2002:7f00:2::1]/",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffd]/",
    ],
)
def test_a_blocked_loopback_address_is_refused_in_every_ipv6_form_with_the_same_message(
    app: Flask, alice: Account, boss: Account, url: str
) -> None:
    """IPv4-compatible (``::/96``, deprecated), mapped, NAT64, 6to4 and Teredo forms reach 127.0.0.2."""
    assert block(boss, "127.0.0.2") == 302
    assert (
        refused_link_message(alice, "http://127.0.0.2/")
        == refused_link_message(alice, url)
        == ("Links to 127.0.0.2 are not allowed on this site: the domain is on its blocklist.")
    )


def test_an_ipv6_spelling_of_an_address_blocked_later_is_hidden(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Mapped", "http://[::ffff:1.2.3.4]/")
    compatible = alice.add_link("Compatible", "http://[::1.2.3.4]/")
    six_to_four = alice.add_link("6to4", "http://[2002:102:304::1]/")
    other = alice.add_link("Other", "http://[::ffff:1.2.3.5]/")
    assert block(boss, "1.2.3.4") == 302
    assert [go(client, added["id"]) for added in (link, compatible, six_to_four)] == [410, 410, 410]
    assert go(client, other["id"]) == 302


def test_the_import_shows_invisible_and_bidi_characters_of_refused_lines_escaped(
    app: Flask, boss: Account
) -> None:
    html = import_text(boss, "bad\u202elpmaxe.com\nzero\u200bwidth domain\n")
    assert "\u202e" not in html and "\u200b" not in html
    assert "bad\\u202elpmaxe.com" in html and "zero\\u200bwidth domain" in html


def test_the_audit_summary_of_an_import_counts_in_words(app: Flask, alice: Account, boss: Account) -> None:
    alice.add_link("Bad", "https://one.example/")
    import_text(boss, "one.example\n")
    import_text(boss, "two.example\nthree.example\n")
    with app.app_context():
        query = (
            select(AuditEntry.summary).where(AuditEntry.action == "blocklist.import").order_by(AuditEntry.id)
        )
        summaries = list(db.session.scalars(query))
    assert summaries == [
        "1 domain blocked by an import; 1 link hidden",
        "2 domains blocked by an import; 0 links hidden",
    ]


@pytest.mark.parametrize(
    "handle", ["@a@0x1.2.3.4", "https://16909060/@a", "https://[::ffff:1.2.3.4]/@a", "@a@1.2.3.4"]
)
def test_a_social_icon_on_an_address_is_refused_in_any_spelling_blocked_or_not(
    app: Flask, alice: Account, boss: Account, handle: str
) -> None:
    """A Mastodon server is named by its domain: an IP address, in any spelling, is refused before the
    blocklist is asked (which would refuse these too once the address is blocked)."""
    for blocked in (False, True):
        if blocked:
            assert block(boss, "1.2.3.4") == 302
        error = refused_icon(alice, handle)
        assert "names no Mastodon server by its domain name" in error["message"], error
