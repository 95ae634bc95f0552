"""The page cache (``controllers/page_cache.py``): anonymous views of ``/<username>`` served without SQL,
still recorded; ETags and 304; and every kind of change to a page seen by the next anonymous visitor."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Column, Integer, MetaData, Table, delete, func, select, update

from conexoos.app.controllers import page_cache, profiles
from conexoos.app.controllers.page_changes import SITE_MARK, marks_of
from conexoos.app.models.persistent import AnalyticsEvent, Report, User, UserLink
from conexoos.framework import db
from tests.app.analytics_support import flush_events
from tests.conftest import AppFactory

from .conftest import BROWSER_UA, Account, SignUp, product_app, sign_up
from .leaving_support import png_bytes
from .staff_support import make_staff
from .test_public_page import counted_statements, iso, selects, shown_links
from .test_site_settings_admin import DEFAULTS

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

HEADERS = {"User-Agent": BROWSER_UA}


def view(client: FlaskClient, path: str, **headers: str) -> Any:
    """An anonymous browser's GET of ``path``."""
    return client.get(path, headers={**HEADERS, **headers})


def cached_view(app: Flask, client: FlaskClient, path: str) -> str:
    """Open ``path`` twice; the second answer must come from the cache (no SELECT). Its HTML."""
    assert view(client, path).status_code == 200
    with counted_statements(app) as statements:
        response = view(client, path)
    assert response.status_code == 200
    assert not selects(statements), f"served by rendering, not from the cache: {selects(statements)}"
    return str(response.get_data(as_text=True))


def rendered_view(app: Flask, client: FlaskClient, path: str) -> Any:
    """Open ``path``; the answer must have been rendered (the database was read)."""
    with counted_statements(app) as statements:
        response = view(client, path)
    assert selects(statements), "served from the cache after a change"
    return response


def views(app: Flask, owner_id: int) -> int:
    flush_events(app)
    with app.app_context():
        query = select(func.count()).select_from(AnalyticsEvent).filter_by(owner_id=owner_id, kind="view")
        return db.session.scalar(query) or 0


# ---------------------------------------------------------------- serving


def test_an_anonymous_view_is_served_from_the_cache_and_still_recorded(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    alice.add_link("Blog", "https://blog.example/")
    html = cached_view(app, client, "/alice")
    assert [title for _, title in shown_links(html)] == ["Blog"]
    assert views(app, alice.id) == 2
    assert view(client, "/ALICE").get_data(as_text=True) == html  # one entry whatever the spelling


def test_the_owner_is_not_served_from_the_cache_nor_counted(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    cached_view(app, client, "/alice")
    with counted_statements(app) as statements:
        own = alice.client.get("/alice", headers=HEADERS)
    assert selects(statements) and 'name="csrf-token"' in own.get_data(as_text=True)
    assert own.headers["Cache-Control"] == "no-store"
    assert views(app, alice.id) == 2


def test_a_session_without_a_user_is_served_the_anonymous_page(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    html = cached_view(app, client, "/alice")
    client.get("/login")  # the login form's CSRF token starts a session: the cookie, but nobody in it
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    with counted_statements(app) as statements:
        again = view(client, "/alice")
    assert not selects(statements) and again.get_data(as_text=True) == html


def test_etag_and_a_conditional_request_get_304_from_the_cache(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    first = view(client, "/alice")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache" and "Cookie" in first.headers["Vary"]
    revalidated = view(client, "/alice", **{"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.get_data() == b""
    assert view(client, "/alice", **{"If-None-Match": '"other"'}).status_code == 200
    alice.add_link("New")
    assert view(client, "/alice", **{"If-None-Match": etag}).status_code == 200  # the page changed


def test_without_the_cache_every_view_renders_and_etags_still_give_304(make_app: AppFactory) -> None:
    app = product_app(make_app, {"APP": {"PAGE_CACHE": {"ENABLED": False}}})
    sign_up(app, "alice")
    client = app.test_client()
    etag = view(client, "/alice").headers["ETag"]
    response = rendered_view(app, client, "/alice")
    assert response.headers["ETag"] == etag
    assert view(client, "/alice", **{"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no cache"])
def test_a_failed_if_match_gets_a_412_without_the_page_and_is_not_a_view(
    make_app: AppFactory, cache: bool
) -> None:
    app = product_app(make_app, {"APP": {"PAGE_CACHE": {"ENABLED": cache}}})
    alice = sign_up(app, "alice")
    client = app.test_client()
    etag = view(client, "/alice").headers["ETag"]
    for _ in range(3):  # rendered or from the cache, then the fast path's kept answer
        refused = view(client, "/alice", **{"If-Match": '"an-older-version"'})
        assert (refused.status_code, refused.mimetype) == (412, "text/plain")
        assert refused.get_data(as_text=True) == page_cache.PRECONDITION_FAILED
    assert view(client, "/alice", **{"If-Match": etag}).status_code == 200
    assert views(app, alice.id) == 2


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no cache"])
def test_if_match_star_is_true_of_a_page_that_exists(make_app: AppFactory, cache: bool) -> None:
    """RFC 9110 13.1.1: ``*`` matches any current version; Werkzeug compared it as a tag and said 412."""
    app = product_app(make_app, {"APP": {"PAGE_CACHE": {"ENABLED": cache}}})
    sign_up(app, "alice")
    client = app.test_client()
    for _ in range(3):  # rendered or from the cache, then the fast path's kept answer
        page = view(client, "/alice", **{"If-Match": "*"})
        assert page.status_code == 200 and "alice" in page.get_data(as_text=True)
    assert view(client, "/nobody", **{"If-Match": "*"}).status_code == 404


def test_a_click_on_a_link_of_a_cached_page_reads_no_database_and_is_recorded(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Blog", "https://blog.example/")["id"]
    cached_view(app, client, "/alice")  # the page remembers its links' targets
    with counted_statements(app) as statements:
        click = view(client, f"/go/{link}")
    assert click.status_code == 302 and click.headers["Location"] == "https://blog.example/"
    assert not selects(statements), f"the click read the database: {selects(statements)}"
    flush_events(app)
    with app.app_context():
        query = select(func.count()).select_from(AnalyticsEvent).filter_by(link_id=link, kind="click")
        assert db.session.scalar(query) == 1
    assert alice.api("PATCH", f"/api/edit/link/{link}", {"url": "https://new.example/"}).status_code == 200
    with counted_statements(app) as statements:
        moved = view(client, f"/go/{link}")
    assert selects(statements) and moved.headers["Location"] == "https://new.example/"
    assert alice.api("PATCH", f"/api/edit/link/{link}", {"enabled": False}).status_code == 200
    assert view(client, f"/go/{link}").status_code == 404


def test_a_click_after_the_ttl_reads_the_database_again(make_app: AppFactory) -> None:
    app = product_app(make_app, {"APP": {"PAGE_CACHE": {"TTL": 60}}})  # fresh however slow the machine
    alice = sign_up(app, "alice")
    link = alice.add_link("Blog", "https://blog.example/")["id"]
    client = app.test_client()
    assert view(client, "/alice").status_code == 200
    with counted_statements(app) as statements:
        assert view(client, f"/go/{link}").status_code == 302
    assert not selects(statements)
    with app.app_context():  # the entry read two TTLs ago: no longer fresh
        cache = page_cache.active_cache()
        assert cache is not None
        remembered = page_cache._remembered_link(cache, link)
        assert remembered is not None
        page_cache._remember_link(cache, link, replace(remembered, read_at=remembered.read_at - 120))
    with counted_statements(app) as statements:
        assert view(client, f"/go/{link}").status_code == 302
    assert selects(statements)


# ---------------------------------------------------------------- every change reaches the next visitor


def test_link_changes(app: Flask, alice: Account, client: FlaskClient) -> None:
    first = alice.add_link("First")["id"]
    cached_view(app, client, "/alice")
    second = alice.add_link("Second")["id"]
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["First", "Second"]
    assert alice.api("PATCH", f"/api/edit/link/{first}", {"title": "Renamed"}).status_code == 200
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["Renamed", "Second"]
    assert alice.api("POST", "/api/links/reorder", {"ids": [second, first]}).status_code == 200
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["Second", "Renamed"]
    assert alice.api("DELETE", f"/api/delete/link/{second}").status_code in (200, 204)
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["Renamed"]


def test_product_changes(app: Flask, alice: Account, client: FlaskClient) -> None:
    cached_view(app, client, "/alice")
    book = {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/book"}
    product = alice.api("POST", "/api/add/product", book).get_json()
    assert "E-book" in cached_view(app, client, "/alice")
    assert alice.api("PATCH", f"/api/edit/product/{product['id']}", {"title": "Atlas"}).status_code == 200
    assert "Atlas" in cached_view(app, client, "/alice")


def test_profile_changes(app: Flask, alice: Account, client: FlaskClient) -> None:
    assert "default_avatar" in cached_view(app, client, "/alice")
    response = alice.client.post(
        "/dashboard/settings",
        data={
            "csrf_token": alice.csrf,
            "display_name": "Alice Liddell",
            "bio": "Down the rabbit hole",
            "avatar": (io.BytesIO(png_bytes("blue")), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = cached_view(app, client, "/alice")
    assert "Alice Liddell" in html and "Down the rabbit hole" in html and "default_avatar" not in html


def test_a_username_change_ends_the_old_address(app: Flask, alice: Account, client: FlaskClient) -> None:
    cached_view(app, client, "/alice")
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.username = "alicia"
        db.session.commit()
    assert view(client, "/alice").status_code == 404
    assert "@alicia" in cached_view(app, client, "/alicia")


def test_a_plan_change(make_app: AppFactory) -> None:
    app = product_app(make_app, {"APP": {"PLANS": {"gratis": {"MAX_LINKS": 1}, "pro": {"MAX_LINKS": 5}}}})
    alice, client = sign_up(app, "alice"), app.test_client()
    set_plan(app, alice.id, "pro", "active")
    alice.add_link("One")
    alice.add_link("Two")
    assert len(shown_links(cached_view(app, client, "/alice"))) == 2
    set_plan(app, alice.id, "gratis", "canceled")  # what a Stripe webhook does (controllers/billing.py)
    assert len(shown_links(cached_view(app, client, "/alice"))) == 1


def set_plan(app: Flask, user_id: int, plan: str, status: str) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.subscription_plan, user.subscription_status = plan, status
        db.session.commit()


def test_a_schedule_window_opening_or_closing_ends_the_cached_page(
    app: Flask, alice: Account, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    opens, closes = now + timedelta(hours=1), now + timedelta(hours=2)
    alice.add_link("Always")
    alice.add_link("Sale", starts_at=iso(opens), ends_at=iso(closes + timedelta(hours=5)))
    alice.add_link("Today", ends_at=iso(closes))
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["Always", "Today"]
    page_clock = SimpleNamespace(time=lambda: opens.timestamp() + 1)  # the cache's clock, past the opening
    monkeypatch.setattr(page_cache, "time", page_clock)
    rendered_view(app, client, "/alice")
    page_clock.time = lambda: opens.timestamp() - 1  # before it, the page (rendered now) is kept
    cached_view(app, client, "/alice")


def test_the_next_edge_of_a_page_is_its_nearest_window_start_or_end(alice: Account, app: Flask) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    alice.add_link("Later", starts_at=iso(now + timedelta(hours=3)))
    alice.add_link("Ends", ends_at=iso(now + timedelta(hours=5)))
    alice.add_link("Disabled soon", starts_at=iso(now + timedelta(hours=1)), enabled=False)
    with app.test_request_context():
        page = profiles.public_page("alice")
        assert page_cache.page_edge(page) == (now + timedelta(hours=3)).timestamp()
        db.session.execute(update(UserLink).where(UserLink.title == "Later").values(starts_at=None))
        db.session.commit()
        page = profiles.public_page("alice")
        assert page_cache.page_edge(page) == (now + timedelta(hours=5)).timestamp()


def test_moderation_hiding_a_link_suspending_and_deleting(
    app: Flask, alice: Account, signed_up: SignUp, client: FlaskClient
) -> None:
    boss = make_staff(app, signed_up("boss"), "admin")
    link = alice.add_link("Phish", "https://phish.example/")["id"]
    alice.add_link("Fine", "https://fine.example/")
    cached_view(app, client, "/alice")
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/alice/report").get_data(as_text=True)
    )
    assert token
    data = {"csrf_token": token.group(1), "reason": "phishing", "details": "bank", "email": ""}
    assert client.post("/alice/report", data=data).status_code == 302
    with app.app_context():
        report_id = db.session.scalar(select(Report.id).order_by(Report.id.desc()))
    hidden = boss.client.post(
        f"/admin/reports/{report_id}/hide-link",
        data={"csrf_token": boss.csrf, "link_id": link, "url": "https://phish.example/"},
    )
    assert hidden.status_code == 302, hidden.get_data(as_text=True)
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["Fine"]
    suspend = boss.client.post(
        f"/admin/users/{alice.id}/suspend", data={"csrf_token": boss.csrf, "reason": "x"}
    )
    assert suspend.status_code == 302
    assert view(client, "/alice").status_code == 404
    boss.client.post(f"/admin/users/{alice.id}/unsuspend", data={"csrf_token": boss.csrf})
    cached_view(app, client, "/alice")
    deleted = boss.client.post(
        f"/admin/users/{alice.id}/delete", data={"csrf_token": boss.csrf, "confirm": "alice"}
    )
    assert deleted.status_code == 302
    assert view(client, "/alice").status_code == 404


def test_a_blocked_domain(app: Flask, alice: Account, signed_up: SignUp, client: FlaskClient) -> None:
    boss = make_staff(app, signed_up("boss"), "admin")
    alice.add_link("Bad", "https://bad.example/x")
    alice.add_link("Good", "https://good.example/")
    cached_view(app, client, "/alice")
    added = boss.client.post("/admin/blocklist/add", data={"csrf_token": boss.csrf, "domain": "bad.example"})
    assert added.status_code == 302
    assert [title for _, title in shown_links(cached_view(app, client, "/alice"))] == ["Good"]


def test_site_settings_default_theme_and_maintenance(
    app: Flask, alice: Account, signed_up: SignUp, client: FlaskClient
) -> None:
    boss = make_staff(app, signed_up("boss"), "admin")
    assert 'class="theme-classic"' in cached_view(app, client, "/alice")
    form = {"csrf_token": boss.csrf, **DEFAULTS, "default_theme": "midnight"}
    assert boss.client.post("/admin/settings", data=form).status_code == 302
    assert 'class="theme-midnight"' in cached_view(app, client, "/alice")
    assert boss.client.post("/admin/settings", data={**form, "maintenance_mode": "on"}).status_code == 302
    rendered_view(app, client, "/alice")


# ---------------------------------------------------------------- what a commit marks


def test_marks_of_tables_new_and_old() -> None:
    metadata = MetaData()
    blocks = Table("page_block", metadata, Column("id", Integer), Column("owner_id", Integer))
    appearance = Table("appearance", metadata, Column("id", Integer), Column("user_id", Integer))
    banner = Table("site_banner", metadata, Column("id", Integer))
    assert marks_of(blocks, [5]) == {"owner-5"}
    assert marks_of(appearance, [7, None]) == {"owner-7"}
    assert marks_of(banner, []) == {SITE_MARK}
    assert marks_of(AnalyticsEvent.__table__, [5]) == set()  # a view must not end the page it counted


@pytest.mark.parametrize(
    ("statement", "marks"),
    [
        (update(UserLink).where(UserLink.owner_id == 5).values(enabled=False), {"owner-5"}),
        (delete(User).where(User.id == 9), {"owner-9"}),
        (update(UserLink).values(blocked=False), {SITE_MARK}),
        (delete(AnalyticsEvent).where(AnalyticsEvent.owner_id == 5), set()),
    ],
)
def test_bulk_statements_mark_the_owners_they_name(
    app: Flask, statement: Any, marks: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marked: list[list[str]] = []
    with app.app_context():
        store = app.extensions[page_cache.EXTENSION].store
        monkeypatch.setattr(store, "mark", lambda names: marked.append(list(names)))
        db.session.execute(statement)
        db.session.commit()
        db.session.execute(update(UserLink).values(enabled=True))
        db.session.rollback()  # a rolled-back statement marks nothing
    assert [set(names) for names in marked] == ([marks] if marks else [])


def test_a_decoded_entry_is_reused_only_for_the_same_stored_bytes_and_bounded_in_bytes() -> None:
    """The process keeps the decoded entry beside its bytes: the same bytes again give it without a
    decode, other bytes under the key are decoded; the oldest go when what they may hold (stored bytes and
    their kept answers' bound) exceeds the bound."""

    def stored(html: str) -> bytes:
        page = page_cache.CachedPage(owner_id=1, html=html, etag="e", read_at=1.0, fresh_until=2.0, edge=3.0)
        return json.dumps(asdict(page)).encode()

    def bound(raw: bytes) -> int:  # the stored bytes and the bound of the answers kept with them
        return len(raw) * (1 + page_cache.KEPT_ANSWERS_FACTOR) + page_cache.KEPT_HEADERS_BYTES

    decoded = page_cache.DecodedPages(max_bytes=2 * bound(stored("a" * 100)))
    first = decoded.entry("page:a", stored("a" * 100))
    assert decoded.entry("page:a", stored("a" * 100)) is first
    changed = decoded.entry("page:a", stored("b" * 100))
    assert changed is not first and changed.html == "b" * 100
    assert decoded.size == bound(stored("b" * 100))
    decoded.entry("page:c", stored("c" * 100))
    decoded.entry("page:d", stored("d" * 100))  # over the bound: page:a goes
    assert decoded.size == 2 * bound(stored("a" * 100))
    assert decoded.entry("page:a", stored("b" * 100)) is not changed


def test_an_unreadable_entry_is_a_miss_rendered_again(
    app: Flask, alice: Account, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry the store holds that this release cannot read (damaged, or written with other fields by
    another release sharing the store) is a miss: the page is rendered and the link read again, not a
    500, and the log says so."""
    link = alice.add_link("Blog", "https://blog.example/")["id"]
    cached_view(app, client, "/alice")
    store = app.extensions["conexoos.page_cache"].store
    with app.app_context():
        entry = json.loads(store.get(page_cache._page_key("alice")))
        changed = json.dumps({**entry, "served_by": "a later release"}).encode()
        store.set(page_cache._page_key("alice"), changed, 60)
        store.set(page_cache._link_key(link), b'["not", "an", "object"]', 60)
    with caplog.at_level("WARNING", logger="conexoos.app.controllers.page_cache"):
        page = rendered_view(app, client, "/alice")
        click = view(client, f"/go/{link}")
    assert page.status_code == 200 and "Blog" in page.get_data(as_text=True)
    assert click.status_code == 302 and click.headers["Location"] == "https://blog.example/"
    assert any("unreadable" in record.getMessage() for record in caplog.records)
    cached_view(app, client, "/alice")  # stored again, readable


def test_a_view_wrapped_by_a_project_is_not_skipped_by_the_cached_page(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """A project or plugin that wraps the public page's view (here a ban list refusing every visitor) is
    obeyed for a page the cache holds: the cached answer before Flask stands in only for the product's own
    view."""
    cached_view(app, client, "/alice")
    original = app.view_functions["public.profile"]

    def banned(username: str) -> tuple[str, int]:
        return "banned", 403

    app.view_functions["public.profile"] = banned
    try:
        assert view(client, "/alice").status_code == 403
    finally:
        app.view_functions["public.profile"] = original
    assert view(client, "/alice").status_code == 200


def test_releases_sharing_a_store_share_the_change_marks_but_not_the_entries(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's prefix (the marks' too) depends only on the site, as in the releases before: a change
    one release marks is seen by every other sharing the Redis or memcached. Entries of another format
    are under other keys."""
    with app.app_context():
        database = db.engine.url.render_as_string(hide_password=True)
        site = f"{app.config.get('CONEXOOS_PUBLIC_URL', '')}|{database}"
        digest = hashlib.blake2b(site.encode(), digest_size=6).hexdigest()
        assert page_cache._key_prefix() == f"conexoos:page_cache:{digest}:"
    keys = (page_cache._page_key("Alice"), page_cache._link_key(7))
    monkeypatch.setattr(page_cache, "_FORMAT_TAG", "0ther000")
    assert keys[0].endswith(":alice") and page_cache._page_key("Alice") != keys[0]
    assert page_cache._link_key(7) != keys[1]
