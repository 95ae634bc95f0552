"""Visitors report a public page: the link on the page, the form, the snapshot, escaping, rate limit."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from conexoos.app.models.persistent import Report, User
from conexoos.framework import db
from tests.conftest import AppFactory

from .conftest import Account, SignUp, form_token, product_app, sign_up

pytestmark = pytest.mark.database_matrix

XSS = '<script>alert("x")</script>'


def report_of(app: Flask) -> list[Report]:
    with app.app_context():
        found = list(db.session.scalars(select(Report).order_by(Report.id)))
        db.session.expunge_all()
    return found


def post_report(client: FlaskClient, username: str, **fields: str) -> int:
    token = form_token(client.get(f"/{username}/report"))
    data = {"csrf_token": token, "reason": "phishing", "details": "", "email": "", **fields}
    return client.post(f"/{username}/report", data=data).status_code


def test_every_public_page_links_to_its_report_form(alice: Account, client: FlaskClient) -> None:
    html = client.get("/alice").get_data(as_text=True)
    assert 'href="/alice/report"' in html
    form = client.get("/alice/report")
    assert form.status_code == 200
    assert "Report @alice" in form.get_data(as_text=True)


def test_a_report_keeps_the_links_as_they_were(app: Flask, alice: Account, client: FlaskClient) -> None:
    link = alice.add_link("Bank login", "https://bank.example/login")
    response_status = post_report(
        client, "alice", reason="phishing", details="Fake bank", email="v@example.com"
    )
    assert response_status == 302
    assert alice.api("PATCH", f"/api/edit/link/{link['id']}", {"title": "Renamed"}).status_code == 200
    [report] = report_of(app)
    assert (report.reason, report.details, report.reporter_email, report.status) == (
        "phishing",
        "Fake bank",
        "v@example.com",
        "open",
    )
    assert report.reporter_network == "127.0.0.0/24"  # never the address itself
    assert json.loads(report.snapshot) == [
        {"id": link["id"], "title": "Bank login", "url": "https://bank.example/login"}
    ]
    assert "Thank you" in client.get("/alice/report/thanks").get_data(as_text=True)


def test_bad_input_is_a_422_with_a_sentence(app: Flask, alice: Account, client: FlaskClient) -> None:
    assert post_report(client, "alice", reason="nonsense") == 422
    assert post_report(client, "alice", details="x" * 2001) == 422
    assert post_report(client, "alice", email="not an address") == 422
    response = client.post("/alice/report", data={"reason": "spam"})  # no CSRF token
    assert response.status_code in (400, 422)
    assert report_of(app) == []


def test_unknown_and_suspended_pages_cannot_be_reported(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    assert client.get("/nobody/report").status_code == 404
    assert client.get("/nobody/report/thanks").status_code == 404
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.suspension_reason = "spam"
        user.suspended_at = user.created_at
        db.session.commit()
    assert client.get("/alice/report").status_code == 404
    assert client.get("/alice").status_code == 404


def test_report_fields_are_escaped_where_shown(app: Flask, signed_up: SignUp, client: FlaskClient) -> None:
    mallory = signed_up("mallory")
    mallory.add_link(XSS, "https://example.com/?q=<b>")
    page = client.get("/mallory/report").get_data(as_text=True)
    assert "<script>alert" not in page
    assert post_report(client, "mallory", details=XSS) == 302
    [report] = report_of(app)
    assert report.details == XSS  # stored as typed, escaped when the queue shows it


def test_reports_are_rate_limited_per_network(make_app: AppFactory, signed_up: SignUp) -> None:
    limited = product_app(
        make_app, {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    )
    sign_up(limited, "alice")
    client = limited.test_client()
    refused = [post_report(client, "alice", reason="nonsense") for _ in range(6)]
    assert refused == [422] * 6  # refused reports do not use up the quota
    statuses = [post_report(client, "alice", reason="spam") for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(report_of(limited)) == 5


def test_a_report_keeps_the_products_buy_links_too(app: Flask, alice: Account, client: FlaskClient) -> None:
    book = {"title": "Book", "price": 900, "currency": "EUR", "buy_url": "https://shop.example/book"}
    product = alice.api("POST", "/api/add/product", book).get_json()
    assert post_report(client, "alice") == 302
    [report] = report_of(app)
    assert json.loads(report.snapshot) == [
        {"id": product["id"], "title": "Book", "url": "https://shop.example/book", "kind": "product"}
    ]


def test_a_report_keeps_the_social_icons_too(app: Flask, alice: Account, client: FlaskClient) -> None:
    row = {"kind": "social", "items": [{"network": "mastodon", "handle": "https://phish.example/@a"}]}
    assert alice.api("POST", "/api/blocks", row).status_code == 201
    assert post_report(client, "alice") == 302
    [report] = report_of(app)
    assert json.loads(report.snapshot) == [
        {"id": None, "title": "Mastodon", "url": "https://phish.example/@a", "kind": "social"}
    ]


def test_a_report_over_the_quota_is_told_on_the_form_with_what_was_typed(
    make_app: AppFactory, signed_up: SignUp
) -> None:
    """The 429 was a bare error page, the report typed lost (outside tester): it is the form again, the
    details kept, saying how long to wait."""
    limited = product_app(
        make_app, {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    )
    sign_up(limited, "alice")
    client = limited.test_client()
    assert [post_report(client, "alice", reason="spam") for _ in range(5)] == [302] * 5
    token = form_token(client.get("/alice/report"))
    data = {"csrf_token": token, "reason": "spam", "details": "The third link", "email": ""}
    refused = client.post("/alice/report", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert '<div class="errors error-summary" role="alert"><p>Too many reports from your network.' in html
    assert "Report @alice" in html and "The third link</textarea>" in html
    assert 'action="/alice/report"' in html


def test_the_wait_a_report_over_the_quota_is_told_is_its_retry_after_in_words(
    make_app: AppFactory, signed_up: SignUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said "Wait an hour" whatever was left of the hour (Retry-After: 3039), outside tester."""
    limited = product_app(
        make_app, {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    )
    sign_up(limited, "alice")
    client = limited.test_client()
    assert [post_report(client, "alice", reason="spam") for _ in range(5)] == [302] * 5
    clock = time.time
    monkeypatch.setattr(time, "time", lambda: clock() + 561)  # nine minutes and a bit later
    token = form_token(client.get("/alice/report"))
    refused = client.post("/alice/report", data={"csrf_token": token, "reason": "spam", "details": ""})
    assert refused.status_code == 429 and 3030 <= int(refused.headers["Retry-After"]) <= 3039
    html = refused.get_data(as_text=True)
    assert "Too many reports from your network. Wait 51 minutes and try again." in html
