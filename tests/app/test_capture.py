"""Email sign-up (capture) blocks: the kind through the blocks API, the public form (no JavaScript, no
session, checked by origin), honeypot, rate limit, plan limit, every bad input, the owner's CSV and
deletion, the account export and deletion. Double opt-in with a real SMTP server is in
``test_capture_mail.py``."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from conexoos.app.controllers import account_deletion, account_export, profiles
from conexoos.app.controllers.capture_entries import (
    CaptureRefused,
    parse_submission,
)
from conexoos.app.models.persistent import CaptureEntry, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from tests.conftest import AppFactory

from .capture_support import SAME_ORIGIN, add_form, entries, post
from .conftest import QUIET, RATE_LIMITS_OFF, Account, form_token, product_app, sign_up
from .test_page_cache import cached_view, set_plan, view
from .test_public_page import BUDGET_BYTES, counted_statements, selects, statements_of

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
THANKS = "Thank you, you are signed up."


# ---------------------------------------------------------------- the kind, through the blocks API


def test_a_capture_block_is_added_edited_and_listed(alice: Account) -> None:
    block = add_form(alice, "  Join my list  ")
    assert (block["kind"], block["title"], block["button"], block["enabled"]) == (
        "capture",
        "Join my list",
        "",
        True,
    )
    edited = alice.api("PATCH", f"/api/blocks/{block['id']}", {"button": "Count me in"})
    assert edited.status_code == 200 and edited.get_json()["button"] == "Count me in"
    listed = [b for b in alice.api("GET", "/api/blocks").get_json() if b["kind"] == "capture"]
    assert [(b["title"], b["button"]) for b in listed] == [("Join my list", "Count me in")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": " "}, "title"),
        ({"title": "t" * 101}, "title"),
        ({"title": "T", "button": "b" * 41}, "button"),
        ({"title": "T", "button": 3}, "button"),
    ],
)
def test_bad_capture_fields_are_422_naming_the_field(
    alice: Account, body: dict[str, Any], field: str
) -> None:
    response = alice.api("POST", "/api/blocks", {"kind": "capture", **body})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_another_owners_capture_block_is_404_to_edit_and_delete(alice: Account, bob: Account) -> None:
    block = add_form(alice)
    assert bob.api("PATCH", f"/api/blocks/{block['id']}", {"title": "Mine"}).status_code == 404
    assert bob.api("DELETE", f"/api/blocks/{block['id']}").status_code == 404
    assert alice.api("DELETE", f"/api/blocks/{block['id']}").status_code in (200, 204)


def test_a_page_holds_at_most_five_forms(alice: Account) -> None:
    for number in range(5):
        add_form(alice, f"Form {number}")
    refused = alice.api("POST", "/api/blocks", {"kind": "capture", "title": "Sixth"})
    assert refused.status_code == 403
    assert "5 email sign-up forms" in refused.get_json()["error"]["message"]


# ---------------------------------------------------------------- the public form


def test_the_form_works_without_javascript_and_hides_the_honeypot(
    alice: Account, client: FlaskClient
) -> None:
    block = add_form(alice, "Join", button="Count me in")
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    form = re.search(r'<form class="capture" method="post" action="/capture/(\d+)".*?</form>', html, re.S)
    assert form is not None and int(form.group(1)) == block["id"]
    prefix = f"capture-{block['id']}"
    for name in ("name", "email"):
        assert f'<label for="{prefix}-{name}">' in form.group(0)
        assert f'id="{prefix}-{name}" name="{name}"' in form.group(0)
    assert re.search(
        rf'<p hidden><label for="{prefix}-website">[^<]*</label>\s*'
        rf'<input id="{prefix}-website" name="website" tabindex="-1"',
        form.group(0),
    )
    assert ">Count me in</button>" in form.group(0)
    assert "csrf" not in form.group(0)  # the page is cached for every visitor: no per-session token


def test_a_sign_up_is_stored_normalised_and_thanked(app: Flask, alice: Account, client: FlaskClient) -> None:
    block = add_form(alice)
    response = post(client, block["id"], name="  Ana  ", email="  Ana@Example.COM ")
    assert response.status_code == 200
    assert THANKS in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert entries(app, alice.id) == [("Ana", "ana@example.com", False)]  # no SMTP: single opt-in


def test_signing_up_twice_keeps_one_entry_and_answers_the_same(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    block = add_form(alice)
    first = post(client, block["id"], name="Ana", email="ana@example.com")
    again = post(client, block["id"], name="Other", email="ANA@example.com")
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_data() == again.get_data()
    assert entries(app, alice.id) == [("Ana", "ana@example.com", False)]


def test_the_same_address_on_two_pages_is_two_entries(
    app: Flask, alice: Account, bob: Account, client: FlaskClient
) -> None:
    assert post(client, add_form(alice)["id"], email="ana@example.com").status_code == 200
    assert post(client, add_form(bob)["id"], email="ana@example.com").status_code == 200
    assert entries(app, alice.id) == entries(app, bob.id) == [("", "ana@example.com", False)]


def test_a_filled_honeypot_is_thanked_and_stores_nothing(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    block = add_form(alice)
    real = post(client, block["id"], email="real@example.com")
    bot = post(client, block["id"], email="bot@example.com", website="https://spam.example")
    assert (bot.status_code, bot.get_data()) == (real.status_code, real.get_data())
    assert entries(app, alice.id) == [("", "real@example.com", False)]


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"email": ""}, 422, "Enter your email address."),
        ({"email": "not-an-address"}, 422, "Enter a valid email address"),
        ({"email": "ana@localhost"}, 422, "Enter a valid email address"),
        ({"email": "ana@exa mple.com"}, 422, "Enter a valid email address"),
        ({"email": "(c)victim@example.com"}, 422, "Enter a valid email address"),  # mailed to victim@…
        ({"email": "first,victim@example.com"}, 422, "Enter a valid email address"),
        ({"email": "a" * 250 + "@example.com"}, 422, "at most 254 characters"),
        ({"email": "ana@example.com", "name": "n" * 101}, 422, "Your name must be at most 100 characters."),
        ({"email": "ana@example.com", "name": "Ana\x07"}, 422, "Remove the control characters"),
        ({"email": "ana@example.com", "name": "Ana\u202e"}, 422, "Remove the bidirectional controls"),
    ],
)
def test_bad_input_is_refused_with_the_form_again(
    app: Flask, alice: Account, client: FlaskClient, form: dict[str, str], status: int, message: str
) -> None:
    block = add_form(alice)
    response = post(client, block["id"], **form)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in html and 'role="alert"' in html and 'aria-invalid="true"' in html
    assert f'action="/capture/{block["id"]}"' in html  # the form again, to correct
    assert entries(app, alice.id) == []


def test_missing_other_kind_and_hidden_forms_are_404_with_words(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    header = alice.api("POST", "/api/blocks", {"kind": "header", "title": "H"}).get_json()
    hidden = add_form(alice, enabled=False)
    shown = add_form(alice)
    cases = {
        999999: "This sign-up form does not exist",
        header["id"]: "This is not a sign-up form",
        hidden["id"]: "not on a public page",
    }
    for block_id, words in cases.items():
        response = post(client, block_id, email="ana@example.com")
        assert response.status_code == 404 and words in response.get_data(as_text=True), block_id
    with app.app_context():
        db.session.execute(update(User).where(User.id == alice.id).values(suspended_at=utcnow()))
        db.session.commit()
    suspended = post(client, shown["id"], email="ana@example.com")
    assert suspended.status_code == 404 and "not on a public page" in suspended.get_data(as_text=True)
    assert entries(app, alice.id) == []


def test_the_forms_address_opened_directly_leads_to_the_page(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """The thanks page reloaded or bookmarked is a GET of the form's address: it leads to the page that
    shows the form (from the configured public URL), or says why there is none."""
    shown = add_form(alice)
    response = client.get(f"/capture/{shown['id']}", headers={"Host": "evil.example"})
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        assert response.headers["Location"] == profiles.page_url(user)
    assert "evil.example" not in response.headers["Location"]
    missing = client.get("/capture/999999")
    assert missing.status_code == 404 and "This sign-up form does not exist" in missing.get_data(as_text=True)


# ---------------------------------------------------------------- cross-site posts


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.localhost"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:8080"},
        {"Origin": "https://localhost"},
    ],
)
def test_a_cross_site_post_is_refused_and_stores_nothing(
    app: Flask, alice: Account, client: FlaskClient, headers: dict[str, str]
) -> None:
    block = add_form(alice)
    response = post(client, block["id"], headers=headers, email="victim@example.com")
    assert response.status_code == 403
    assert "sent from another site" in response.get_data(as_text=True)
    assert entries(app, alice.id) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # Origin is null under a no-referrer policy
        {"Origin": "http://localhost"},
        {"Origin": "HTTP://LOCALHOST:80"},
        {},  # no browser: nothing a page can make a visitor's browser send
    ],
)
def test_posts_from_this_site_are_taken(
    app: Flask, alice: Account, client: FlaskClient, headers: dict[str, str]
) -> None:
    block = add_form(alice)
    assert post(client, block["id"], headers=headers, email="ana@example.com").status_code == 200
    assert entries(app, alice.id) == [("", "ana@example.com", False)]


def test_the_form_post_needs_no_session_csrf_token(app: Flask, alice: Account) -> None:
    """Listed in test_csrf.py's EXEMPT: the check is the origin's, which the tests above refuse."""
    block = add_form(alice)
    fresh = app.test_client()  # no cookie at all, as a visitor served from the page cache
    assert post(fresh, block["id"], email="ana@example.com").status_code == 200
    assert "Set-Cookie" not in post(fresh, block["id"], email="ana@example.com").headers


# ---------------------------------------------------------------- limits


@pytest.fixture
def limited_app(make_app: AppFactory) -> Flask:
    """The product with its rate limits on (in memory)."""
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    return make_app(overrides={**QUIET, **limits})


def test_posts_are_rate_limited_per_network_with_429(limited_app: Flask) -> None:
    owner = sign_up(limited_app, "ana", "ana@example.com")
    block = add_form(owner)
    visitor = limited_app.test_client()
    statuses = [
        post(visitor, block["id"], remote="198.51.100.7", email=f"v{n}@example.com").status_code
        for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    throttled = post(visitor, block["id"], remote="198.51.100.9", email="same-network@example.com")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Too many sign-ups from your network." in throttled.get_data(as_text=True)
    assert post(visitor, block["id"], remote="192.0.2.1", email="elsewhere@example.com").status_code == 200
    assert len(entries(limited_app, owner.id)) == 11


@pytest.fixture
def small_plan_app(make_app: AppFactory) -> Flask:
    """Gratis keeps two sign-ups; Pro (not on sale: no Stripe) ten."""
    plans = {
        "gratis": {"NAME": "Gratis", "MAX_CAPTURE_ENTRIES": 2},
        "pro": {"NAME": "Pro", "MAX_CAPTURE_ENTRIES": 10},
    }
    return make_app(overrides={**RATE_LIMITS_OFF, **QUIET, "APP": {"PLANS": plans}})


def test_the_plan_limit_turns_new_addresses_away_and_the_owner_sees_it(small_plan_app: Flask) -> None:
    owner = sign_up(small_plan_app, "ana", "ana@example.com")
    block = add_form(owner)
    visitor = small_plan_app.test_client()
    assert [post(visitor, block["id"], email=f"v{n}@example.com").status_code for n in range(2)] == [200, 200]
    full = post(visitor, block["id"], email="third@example.com")
    assert full.status_code == 403
    text = full.get_data(as_text=True)
    assert "not taking new sign-ups at the moment" in text
    # As the page says now: the prompt, closed, and the way back; no form to post into another refusal.
    assert "Get my newsletter" in text and "Sign-ups are closed." in text
    assert "<form" not in text and "third@example.com" not in text and "Count me in" not in text
    assert 'href="/ana">Back to the page of' in text
    known = post(visitor, block["id"], email="v0@example.com")  # listed: answered as a new address is
    assert (known.status_code, known.get_data()) == (full.status_code, full.get_data())
    assert len(entries(small_plan_app, owner.id)) == 2
    dashboard = owner.client.get("/dashboard/signups").get_data(as_text=True)
    assert "Your plan Gratis allows 2 email sign-ups. Delete an email sign-up to add another." in dashboard
    assert "visitors are told your page takes no new sign-ups" in dashboard
    assert "Upgrade" not in dashboard  # Pro cannot be bought without Stripe


@pytest.mark.parametrize(
    "form",
    [
        {"email": "not-an-address"},
        {"email": ""},
        {"email": "new@example.com", "name": "n" * 101},
        {"email": "new@example.com", "website": "https://spam.example"},
        {"email": "v0@example.com", "website": "https://spam.example"},
    ],
    ids=["bad address", "no address", "long name", "honeypot new", "honeypot listed"],
)
def test_a_full_page_answers_every_post_closed_whatever_it_holds(
    small_plan_app: Flask, form: dict[str, str]
) -> None:
    """A full page's forms answered a bad address or a long name with the form again (422), and a filled
    honeypot with the thanks (200), where a real post is told sign-ups are closed (outside tester): every
    post now gets the very same closed page, so a bot cannot tell the trap field from the others."""
    owner = sign_up(small_plan_app, "ana", "ana@example.com")
    block = add_form(owner)
    visitor = small_plan_app.test_client()
    # Open, the same posts are answered as before: the form again with why, or the thanks.
    open_answer = post(visitor, block["id"], **form)
    assert open_answer.status_code in (200, 422) and "Sign-ups are closed." not in open_answer.get_data(
        as_text=True
    )
    for n in range(2):
        post(visitor, block["id"], email=f"v{n}@example.com")
    full = post(visitor, block["id"], email="third@example.com")
    answer = post(visitor, block["id"], **form)
    assert (answer.status_code, answer.get_data()) == (403, full.get_data())
    assert "<form" not in answer.get_data(as_text=True)
    assert [email for _name, email, _confirmed in entries(small_plan_app, owner.id)] == [
        "v0@example.com",
        "v1@example.com",
    ]


CLOSED = "Sign-ups are closed."


def form_state(client: FlaskClient, path: str) -> str:
    """Whether the page at ``path`` shows its sign-up form ("open") or says sign-ups are closed ("closed"),
    read twice by an anonymous browser (rendered, then from the page cache when it is on): both alike."""
    states = []
    for _ in range(2):
        html = view(client, path).get_data(as_text=True)
        assert "Join my list" in html  # the form's prompt is shown either way
        states.append(
            ("open" if '<form class="capture"' in html else "") + ("closed" if CLOSED in html else "")
        )
    assert states[0] == states[1], states
    return states[0]


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no cache"])
def test_a_full_page_shows_its_forms_closed_until_there_is_room_again(
    make_app: AppFactory, cache: bool
) -> None:
    """A page whose plan holds no more sign-ups offered a form that could only answer 403 (outside
    tester): it says sign-ups are closed instead, cached or not, until the owner deletes one or the plan
    grows; a sign-up below the limit still leaves the cached page alone."""
    plans = {"gratis": {"MAX_CAPTURE_ENTRIES": 2}, "pro": {"MAX_CAPTURE_ENTRIES": 3}}
    app = product_app(make_app, {"APP": {"PLANS": plans, "PAGE_CACHE": {"ENABLED": cache}}})
    owner, visitor = sign_up(app, "ana", "ana@example.com"), app.test_client()
    block = add_form(owner, "Join my list")
    assert post(visitor, block["id"], email="v0@example.com").status_code == 200
    assert form_state(visitor, "/ana") == "open"
    assert post(visitor, block["id"], email="v1@example.com").status_code == 200  # the second of two
    assert form_state(visitor, "/ana") == "closed"
    if not cache:  # rendered: the count of sign-ups costs no third query
        with counted_statements(app) as statements:
            view(visitor, "/ana")
        assert len(selects(statements)) <= 2, "\n".join(selects(statements))
    with app.app_context():
        entry_id = db.session.scalar(select(CaptureEntry.id).where(CaptureEntry.email == "v0@example.com"))
    deleted = owner.client.post(f"/dashboard/signups/{entry_id}/delete", data={"csrf_token": owner.csrf})
    assert deleted.status_code == 302
    assert form_state(visitor, "/ana") == "open"
    assert post(visitor, block["id"], email="v2@example.com").status_code == 200
    assert form_state(visitor, "/ana") == "closed"
    set_plan(app, owner.id, "pro", "active")
    assert form_state(visitor, "/ana") == "open"
    assert post(visitor, block["id"], email="v3@example.com").status_code == 200
    assert form_state(visitor, "/ana") == "closed"
    assert post(visitor, block["id"], email="v4@example.com").status_code == 403


def test_a_page_with_forms_stays_in_its_query_and_byte_budget(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    for number in range(5):
        add_form(alice, "A fairly long prompt for people to join my list " + "x" * 40, button="b" * 40)
        alice.api("POST", "/api/blocks", {"kind": "text", "text": f"Text {number} " + "t " * 200})
        alice.add_link(
            f"A fairly long link title number {number} " + "x" * 60, "https://example.com/" + "p" * 400
        )
    statements = statements_of(app, client, f"/{alice.username}")
    assert len(selects(statements)) <= 2, "\n".join(selects(statements))
    response = client.get(f"/{alice.username}")
    html = response.get_data(as_text=True)
    assert html.count('<form class="capture"') == 5
    stylesheets = re.findall(r'<link rel="stylesheet" href="(?:http://localhost)?([^"]+)"', html)
    css = b"".join(client.get(path).get_data() for path in stylesheets)
    assert len(response.get_data()) + len(css) < BUDGET_BYTES


# ---------------------------------------------------------------- escaping


def test_every_field_is_escaped_on_the_page_the_answer_and_the_dashboard(
    alice: Account, client: FlaskClient
) -> None:
    block = add_form(alice, XSS, button=XSS[:40])
    page = client.get(f"/{alice.username}").get_data(as_text=True)
    refused = post(client, block["id"], name=XSS, email=XSS).get_data(as_text=True)
    post(client, block["id"], name=XSS, email="ana@example.com")
    dashboard = alice.client.get("/dashboard/signups").get_data(as_text=True)
    for html in (page, refused, dashboard):
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&#34;&gt;&lt;script&gt;" in html


# ---------------------------------------------------------------- the owner's entries


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("https://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
)
def test_the_csv_escapes_formulas(app: Flask, alice: Account, client: FlaskClient, name: str) -> None:
    block = add_form(alice, "=cmd|' /C calc'!A0")
    post(client, block["id"], name="Ana", email="ana@example.com")
    with app.app_context():  # stored as is: the form trims tabs and refuses CRs, the CSV must not rely on it
        db.session.execute(update(CaptureEntry).values(name=name))
        db.session.commit()
    response = alice.client.get("/dashboard/signups/signups.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, row = rows_of(response.get_data())
    assert header == ["name", "email", "signed_up_at", "confirmed_at", "form"]
    assert row[0] == "'" + name
    assert row[1] == "ana@example.com" and row[3] == "" and row[4] == "'=cmd|' /C calc'!A0"


def test_a_formula_typed_in_the_form_is_escaped_in_the_csv(alice: Account, client: FlaskClient) -> None:
    post(client, add_form(alice)["id"], name="=1+1", email="ana@example.com")
    _, row = rows_of(alice.client.get("/dashboard/signups/signups.csv").get_data())
    assert row[:2] == ["'=1+1", "ana@example.com"]


def test_the_csv_and_list_are_the_owners_only(alice: Account, bob: Account, client: FlaskClient) -> None:
    post(client, add_form(alice)["id"], email="for-alice@example.com")
    post(client, add_form(bob)["id"], email="for-bob@example.com")
    alices = alice.client.get("/dashboard/signups/signups.csv").get_data(as_text=True)
    assert "for-alice@example.com" in alices and "for-bob@example.com" not in alices
    page = bob.client.get("/dashboard/signups").get_data(as_text=True)
    assert "for-bob@example.com" in page and "for-alice@example.com" not in page
    anonymous = client.get("/dashboard/signups/signups.csv")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_owner_deletes_an_entry_and_no_one_else_can(
    app: Flask, alice: Account, bob: Account, client: FlaskClient
) -> None:
    post(client, add_form(alice)["id"], email="ana@example.com")
    with app.app_context():
        entry_id = db.session.scalar(select(CaptureEntry.id))
    page = alice.client.get("/dashboard/signups")
    assert 'aria-label="Delete sign-up ana@example.com"' in page.get_data(as_text=True)
    assert (
        bob.client.post(f"/dashboard/signups/{entry_id}/delete", data={"csrf_token": bob.csrf}).status_code
        == 404
    )
    assert alice.client.post(f"/dashboard/signups/{entry_id}/delete").status_code == 400  # no CSRF token
    assert entries(app, alice.id) == [("", "ana@example.com", False)]
    token = form_token(page)
    deleted = alice.client.post(f"/dashboard/signups/{entry_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert entries(app, alice.id) == []
    again = alice.client.post(f"/dashboard/signups/{entry_id}/delete", data={"csrf_token": token})
    assert again.status_code == 404


def test_deleting_the_form_keeps_its_entries(app: Flask, alice: Account, client: FlaskClient) -> None:
    block = add_form(alice, "Old form")
    post(client, block["id"], email="ana@example.com")
    assert alice.api("DELETE", f"/api/blocks/{block['id']}").status_code in (200, 204)
    assert entries(app, alice.id) == [("", "ana@example.com", False)]
    assert "(removed)" in alice.client.get("/dashboard/signups").get_data(as_text=True)


def test_entries_are_exported_and_deleted_with_the_account(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    post(client, add_form(alice, "News")["id"], name="Ana", email="ana@example.com")
    with app.test_request_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        data = account_export.account_data(user, utcnow(), [], [])
        assert [(e["name"], e["email"], e["form"], e["confirmed_at"]) for e in data["email_signups"]] == [
            ("Ana", "ana@example.com", "News", "")
        ]
        account_deletion.delete_account(user)
    assert entries(app, alice.id) == []


# ---------------------------------------------------------------- the form parser


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "email", "website", "other"]), st.text(max_size=300)))
def test_the_parser_returns_a_clean_submission_or_a_422_naming_the_field(form: dict[str, str]) -> None:
    try:
        parsed = parse_submission(form)
    except CaptureRefused as refused:
        assert refused.status == 422 and refused.field in ("name", "email") and refused.message
        return
    assert len(parsed.name) <= 100 and parsed.name == parsed.name.strip()
    assert len(parsed.email) <= 254 and parsed.email == parsed.email.lower() and "@" in parsed.email
    assert parsed.honeypot_filled == bool(form.get("website", "").strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=120), email=st.text(max_size=80) | st.emails())
def test_any_form_gets_an_answer_a_person_can_read_never_a_500(
    app: Flask, alice: Account, client: FlaskClient, name: str, email: str
) -> None:
    forms = [block for block in alice.api("GET", "/api/blocks").get_json() if block["kind"] == "capture"]
    block_id = forms[0]["id"] if forms else add_form(alice)["id"]  # the fixtures live across examples
    response = post(client, block_id, name=name, email=email)
    assert response.status_code in (200, 422), response.status
    assert ("Thank you" if response.status_code == 200 else 'role="alert"') in response.get_data(as_text=True)


def test_same_origin_headers_are_sent_by_the_helper() -> None:
    assert SAME_ORIGIN["Sec-Fetch-Site"] == "same-origin"


def test_a_sign_up_does_not_end_the_cached_page(app: Flask, alice: Account, client: FlaskClient) -> None:
    block = add_form(alice)
    cached_view(app, client, f"/{alice.username}")
    assert post(app.test_client(), block["id"], email="ana@example.com").status_code == 200
    with counted_statements(app) as statements:
        assert view(client, f"/{alice.username}").status_code == 200
    assert not selects(statements), "a sign-up ended the cached page"
