"""Link locks: ``/go/<id>`` of a sensitive or password-locked link shows a server-side form first (no
JavaScript, no session), opens on the right answer, refuses and throttles wrong passwords, and records
views of the lock and clicks through it; the API sets locks as optional, write-only fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import AnalyticsEvent, UserLink
from conexoos.framework import db
from tests.app.analytics_support import flush_events
from tests.conftest import AppFactory

from .conftest import BROWSER_UA, QUIET, Account, sign_up

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

SECRET = "open sesame"
TOKEN = re.compile(r'name="token" value="([^"]+)"')
VISITOR = {"User-Agent": BROWSER_UA}


def events(app: Flask, kind: str, link_id: int) -> int:
    flush_events(app)
    with app.app_context():
        query = select(func.count()).select_from(AnalyticsEvent).filter_by(kind=kind, link_id=link_id)
        return db.session.scalar(query) or 0


def lock_form(client: FlaskClient, link_id: int) -> str:
    """GET ``/go/<id>`` as a visitor: the lock page's signed token."""
    response = client.get(f"/go/{link_id}", headers=VISITOR)
    assert response.status_code == 200, response.status
    match = TOKEN.search(response.get_data(as_text=True))
    assert match, "the lock page carries no token"
    return match.group(1)


def answer(
    client: FlaskClient, link_id: int, environ: dict[str, str] | None = None, **form: str
) -> TestResponse:
    return client.post(f"/go/{link_id}", data=form, headers=VISITOR, environ_base=environ or {})


# ---------------------------------------------------------------- sensitive content


def opens(response: TestResponse, url: str) -> bool:
    """``response`` is the page that moves on to ``url`` by itself (no redirect the CSP's form-action
    would cover), never cached."""
    html = response.get_data(as_text=True)
    return (
        response.status_code == 200
        and "Location" not in response.headers
        and f'<meta http-equiv="refresh" content="0; url={url}">' in html
        and f'href="{url}"' in html
        and "no-store" in response.headers["Cache-Control"]
    )


def test_sensitive_link_asks_first_then_moves_on(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Late show", "https://late.example/show", sensitive=True)
    page = client.get(f"/go/{link['id']}", headers=VISITOR)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This link may contain content for adults." in html
    assert f'href="/{alice.username}">Go back</a>' in html
    assert "<script" not in html  # the lock works without JavaScript
    assert "no-store" in page.headers["Cache-Control"]
    assert "Location" not in page.headers
    token = TOKEN.search(html).group(1)  # type: ignore[union-attr]
    opened = answer(client, link["id"], token=token, confirm="yes")
    assert opens(opened, "https://late.example/show")
    assert (events(app, "lockview", link["id"]), events(app, "unlock", link["id"])) == (1, 1)
    assert events(app, "click", link["id"]) == 0


def test_sensitive_link_needs_the_confirmation_and_a_token_of_this_site(
    alice: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Late show", "https://late.example/show", sensitive=True)
    token = lock_form(client, link["id"])
    unconfirmed = answer(client, link["id"], token=token)
    assert unconfirmed.status_code == 400
    assert "Confirm that you want to continue" in unconfirmed.get_data(as_text=True)
    for forged in ("", "garbage", token[:-2] + "xx", "é"):
        refused = answer(client, link["id"], token=forged, confirm="yes")
        assert refused.status_code == 400, forged
        assert "security token is not valid." in refused.get_data(as_text=True)


def test_a_form_shown_before_the_lock_changed_does_not_open_it(alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Late show", "https://late.example/show", sensitive=True)
    token = lock_form(client, link["id"])
    assert alice.api("PUT", f"/api/edit/link/{link['id']}", {"passcode": SECRET}).status_code == 200
    stale = answer(client, link["id"], token=token, confirm="yes")
    assert stale.status_code == 400
    assert "lock has changed" in stale.get_data(as_text=True)


def test_unlocked_link_still_redirects_at_once(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Plain", "https://plain.example/")
    response = client.get(f"/go/{link['id']}", headers=VISITOR)
    assert (response.status_code, response.headers["Location"]) == (302, "https://plain.example/")
    assert (events(app, "click", link["id"]), events(app, "lockview", link["id"])) == (1, 0)


def test_a_post_to_an_unlocked_link_is_refused_and_counts_no_unlock(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Plain", "https://plain.example/")
    posted = client.post(f"/go/{link['id']}", data={"token": "x", "confirm": "yes"}, headers=VISITOR)
    assert posted.status_code == 400 and "has no lock" in posted.get_data(as_text=True)
    assert 'name="token"' not in posted.get_data(as_text=True)  # no lock form for a link without a lock
    assert (events(app, "unlock", link["id"]), events(app, "lockview", link["id"])) == (0, 0)


# ---------------------------------------------------------------- password


def test_password_right_opens_wrong_is_403(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Members", "https://members.example/", passcode=SECRET)
    token = lock_form(client, link["id"])
    wrong = answer(client, link["id"], token=token, password="open sesam", confirm="yes")
    assert wrong.status_code == 403
    assert "That password is not right." in wrong.get_data(as_text=True)
    empty = answer(client, link["id"], token=token, password="", confirm="yes")
    assert empty.status_code == 400
    right = answer(client, link["id"], token=token, password=SECRET, confirm="yes")
    assert opens(right, "https://members.example/")
    assert events(app, "unlock", link["id"]) == 1


def test_a_link_with_both_locks_says_both_and_asks_for_both(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Late members", "https://late.example/in", passcode=SECRET, sensitive=True)
    profile = client.get(f"/{alice.username}", headers=VISITOR).get_data(as_text=True)
    assert "Needs a password, may be for adults: </span>" in profile
    page = client.get(f"/go/{link['id']}", headers=VISITOR).get_data(as_text=True)
    assert "<h1>This link may be for adults and needs a password</h1>" in page
    assert "This link may contain content for adults." in page
    assert re.search(r'<input id="lock-confirm" name="confirm" type="checkbox" value="yes" required>', page)
    assert 'name="confirm" value="yes">Continue' not in page  # the button alone does not confirm
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    unconfirmed = answer(client, link["id"], token=token, password=SECRET)
    assert unconfirmed.status_code == 400
    assert "Confirm that you want to continue" in unconfirmed.get_data(as_text=True)
    wrong = answer(client, link["id"], token=token, password="nope", confirm="yes")
    assert wrong.status_code == 403
    assert 'value="yes" required checked>' in wrong.get_data(as_text=True)  # the confirmation is kept
    right = answer(client, link["id"], token=token, password=SECRET, confirm="yes")
    assert opens(right, "https://late.example/in")
    assert events(app, "unlock", link["id"]) == 1


def test_the_password_is_stored_hashed_and_never_returned(app: Flask, alice: Account) -> None:
    link = alice.add_link("Members", "https://members.example/", passcode=SECRET, sensitive=True)
    plain = alice.add_link("Plain", "https://plain.example/")
    assert set(link) == set(plain)  # the seed's shape, locked or not
    locks = alice.api("GET", "/api/links/locks").get_json()
    assert locks == [
        {"id": link["id"], "sensitive": True, "has_passcode": True},
        {"id": plain["id"], "sensitive": False, "has_passcode": False},
    ]
    assert SECRET not in str(alice.links()) + str(locks)
    with app.app_context():
        stored = db.session.get(UserLink, link["id"])
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert (
        alice.api("PUT", f"/api/edit/link/{link['id']}", {"passcode": "", "sensitive": False}).status_code
        == 200
    )
    assert alice.api("GET", "/api/links/locks").get_json()[0] == {
        "id": link["id"],
        "sensitive": False,
        "has_passcode": False,
    }


def test_locks_are_listed_to_their_owner_only(alice: Account, bob: Account, client: FlaskClient) -> None:
    alice.add_link("Members", "https://members.example/", passcode=SECRET)
    assert bob.api("GET", "/api/links/locks").get_json() == []
    assert client.get("/api/links/locks", headers={"Accept": "application/json"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"passcode": 1234}, "passcode"),
        ({"passcode": "abc"}, "passcode"),
        ({"passcode": "a\x00bcd"}, "passcode"),
        ({"passcode": "x" * 201}, "passcode"),
        ({"sensitive": "yes"}, "sensitive"),
    ],
)
def test_bad_lock_fields_are_422_naming_the_field(alice: Account, body: dict[str, Any], field: str) -> None:
    response = alice.api("POST", "/api/add/link", {"title": "T", "url": "https://t.example/", **body})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


@pytest.fixture
def limited_app(make_app: AppFactory) -> Flask:
    """The product with its rate limits on (in memory)."""
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    return make_app(overrides={**QUIET, **limits})


def test_wrong_passwords_are_throttled_per_network_with_429(limited_app: Flask) -> None:
    owner = sign_up(limited_app, "ana", "ana@example.com")
    link = owner.add_link("Members", "https://members.example/", passcode=SECRET)
    visitor = limited_app.test_client()
    token = lock_form(visitor, link["id"])
    guesser = {"REMOTE_ADDR": "198.51.100.7"}
    statuses = [
        answer(visitor, link["id"], guesser, token=token, password=f"guess {n}").status_code for n in range(6)
    ]
    assert statuses == [403] * 5 + [429]
    throttled = answer(visitor, link["id"], guesser, token=token, password=SECRET)
    assert throttled.status_code == 429  # even the right password waits: the network is slowed down
    assert int(throttled.headers["Retry-After"]) > 0
    assert "Too many wrong passwords for this link." in throttled.get_data(as_text=True)
    shown = visitor.get(f"/go/{link['id']}", headers=VISITOR, environ_base=guesser)
    assert shown.status_code == 429  # the form itself says so, not only its answer
    assert int(shown.headers["Retry-After"]) > 0
    wait = r"Too many wrong passwords for this link\. Try again in 1[45] minutes\."
    assert re.search(wait, shown.get_data(as_text=True))
    assert visitor.get(f"/go/{link['id']}", headers=VISITOR).status_code == 200  # another network
    elsewhere = answer(visitor, link["id"], {"REMOTE_ADDR": "203.0.113.5"}, token=token, password=SECRET)
    assert elsewhere.status_code == 200  # another network is not locked out


# ---------------------------------------------------------------- any input, any title


def test_the_lock_page_escapes_the_title(alice: Account, client: FlaskClient) -> None:
    link = alice.add_link('<script>alert(1)</script>"', "https://x.example/", sensitive=True)
    html = client.get(f"/go/{link['id']}", headers=VISITOR).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in html


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=300), password=st.text(max_size=300), confirm=st.text(max_size=10))
def test_no_form_input_is_a_500(app: Flask, alice: Account, token: str, password: str, confirm: str) -> None:
    links = [link for link in alice.links() if link["title"] == "Fuzzed"]
    link = (
        links[0] if links else alice.add_link("Fuzzed", "https://f.example/", passcode=SECRET, sensitive=True)
    )
    response = app.test_client().post(
        f"/go/{link['id']}", data={"token": token, "password": password, "confirm": confirm}, headers=VISITOR
    )
    assert response.status_code in (200, 400, 403), response.status


def test_lock_answers_for_a_missing_link_are_404(client: FlaskClient) -> None:
    assert client.post("/go/999999", data={"token": "x"}).status_code == 404


# ---------------------------------------------------------------- statistics


def test_the_report_counts_lock_views_and_unlocks(app: Flask, alice: Account, client: FlaskClient) -> None:
    locked = alice.add_link("Members", "https://members.example/", passcode=SECRET)
    plain = alice.add_link("Plain", "https://plain.example/")
    token = lock_form(client, locked["id"])
    lock_form(client, locked["id"])
    answer(client, locked["id"], token=token, password=SECRET)
    client.get(f"/go/{plain['id']}", headers=VISITOR)
    flush_events(app)
    today = datetime.now(UTC).date().isoformat()
    report = alice.api("GET", f"/api/stats?from={today}&to={today}").get_json()
    assert report["locks"] == [{"id": locked["id"], "title": "Members", "lock_views": 2, "unlocks": 1}]
    clicks = {link["id"]: link["clicks"] for link in report["links"]}
    assert clicks == {locked["id"]: 1, plain["id"]: 1}  # a click through the lock is a click on the link
    assert report["totals"]["clicks"] == 2


def test_nothing_of_a_password_links_destination_shows_before_the_password(
    alice: Account, client: FlaskClient
) -> None:
    """The form posts to this site only (form-action 'self'): no header, no HTML names the destination
    until the right password is given."""
    link = alice.add_link("Members", "https://secret-members.example:8443/in?x=1", passcode=SECRET)
    shown = client.get(f"/go/{link['id']}", headers=VISITOR)
    token = TOKEN.search(shown.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    wrong = answer(client, link["id"], token=token, password="not it")
    empty = answer(client, link["id"], token=token, password="")
    for response in (shown, wrong, empty, client.head(f"/go/{link['id']}", headers=VISITOR)):
        assert "secret-members" not in str(response.headers), response.status
        assert "secret-members" not in response.get_data(as_text=True), response.status
        assert "form-action 'self';" in response.headers["Content-Security-Policy"]
    assert opens(
        answer(client, link["id"], token=token, password=SECRET), "https://secret-members.example:8443/in?x=1"
    )
