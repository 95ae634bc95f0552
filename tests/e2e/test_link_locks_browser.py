"""The password lock in Chromium: the owner sets it in the dashboard's link editor; a visitor with
JavaScript off sees the lock mark on the page, is asked for the password at /go/<id>, is refused a wrong
one and sent on with the right one; the lock page passes axe's WCAG A/AA rules."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.framework import db
from tests.app.analytics_support import flush_events
from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_admin_accessibility import axe_violations
from .test_core_flow import Landing, add_link
from .test_core_flow import landing as landing  # the landing server fixture

SECRET = "open sesame"


def test_owner_locks_a_link_and_a_visitor_without_javascript_opens_it(
    live_server: LiveServer,
    landing: Landing,
    new_page: PageFactory,
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "lena.e2e")
    add_link(owner, "Members", f"{landing.url}/members")
    row = owner.locator("#links .link-item").filter(has_text="Members")
    row.get_by_role("button", name="Edit").click()
    row.get_by_label("Password for visitors").fill(SECRET)
    with owner.expect_response(lambda response: "/api/edit/link/" in response.url) as saved:
        row.get_by_role("button", name="Save").click()
    assert saved.value.status == 200, saved.value.text()
    expect(owner.locator("#links .link-item .link-state")).to_contain_text("Locked: password")
    owner.reload()
    expect(owner.locator("#links .link-item .link-state")).to_contain_text("Locked: password")

    visitor = new_page(java_script_enabled=False)
    visitor.goto(f"{live.url}/lena.e2e")
    link = visitor.get_by_role("link", name="Needs a password: Members")
    expect(link).to_be_visible()
    link.click()
    expect(visitor.get_by_role("heading", name="This link needs a password")).to_be_visible()
    visitor.get_by_label("Password").fill("not it")
    visitor.get_by_role("button", name="Continue").click()
    expect(visitor.get_by_role("alert")).to_have_text("That password is not right. Check it and try again.")
    assert landing.paths == []

    visitor.get_by_label("Password").fill(SECRET)
    visitor.get_by_role("button", name="Continue").click()
    expect(visitor).to_have_url(f"{landing.url}/members")
    assert [path for path in landing.paths if path != "/favicon.ico"] == ["/members"]
    # The unlock may still be in the write buffer (the live server flushes every 0.2 s).
    flush_events(live.app)
    with live.app.app_context():
        kinds = sorted(
            db.session.scalars(select(AnalyticsEvent.kind).where(AnalyticsEvent.link_id.is_not(None)))
        )
    assert kinds == ["lockview", "unlock"]


def test_the_lock_page_passes_axe(live_server: LiveServer, new_page: PageFactory) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "mira.e2e")
    response = owner.request.post(
        f"{live.url}/api/add/link",
        data={"title": "Late show", "url": "https://late.example/", "sensitive": True, "passcode": SECRET},
        headers={"X-CSRFToken": owner.locator('meta[name="csrf-token"]').get_attribute("content") or ""},
    )
    assert response.status == 201, response.text()
    visitor = new_page(bypass_csp=True)  # axe is added as a script the site's policy would block
    visitor.goto(f"{live.url}/mira.e2e")
    visitor.get_by_role("link", name="Needs a password, may be for adults: Late show").click()
    expect(visitor.get_by_text("This link may contain content for adults.")).to_be_visible()
    assert axe_violations(visitor) == []
    heading = visitor.get_by_role("heading", name="This link may be for adults and needs a password")
    visitor.get_by_label("Password").fill(SECRET)
    visitor.get_by_role("button", name="Continue").click()  # not confirmed: the browser asks for it
    expect(heading).to_be_visible()
    visitor.get_by_label("I understand and want to continue").check()
    visitor.route("https://late.example/**", lambda route: route.fulfill(body="late"))
    with visitor.expect_request(lambda request: request.url.startswith("https://late.example/")) as left:
        visitor.get_by_role("button", name="Continue").click()
    assert left.value.url == "https://late.example/"


@dataclass
class Hops:
    """A site whose ``/r`` redirects (302) to ``/final`` on another origin of the same server (127.0.0.1 and
    localhost), as instagram.com → www.instagram.com or a shortener does."""

    start: str
    final: str
    paths: list[str]


@pytest.fixture
def hops() -> Iterator[Hops]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            port = self.server.server_address[1]
            if self.path == "/r":
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{port}/final")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"<!doctype html><title>Final</title><h1>Arrived</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="hops-server", daemon=True)
    thread.start()
    port = server.server_port
    try:
        yield Hops(f"http://127.0.0.1:{port}/r", f"http://localhost:{port}/final", seen)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def add_locked_link(page: Page, live: LiveServer, fields: dict[str, object]) -> None:
    response = page.request.post(
        f"{live.url}/api/add/link",
        data=fields,
        headers={"X-CSRFToken": page.locator('meta[name="csrf-token"]').get_attribute("content") or ""},
    )
    assert response.status == 201, response.text()


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_locked_link_that_redirects_to_another_origin_arrives(
    live_server: LiveServer, hops: Hops, new_page: PageFactory, javascript: bool
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "hops.e2e")
    add_locked_link(owner, live, {"title": "Sens", "url": hops.start, "sensitive": True})
    add_locked_link(owner, live, {"title": "Pass", "url": hops.start, "passcode": SECRET})

    visitor = new_page(java_script_enabled=javascript)
    visitor.goto(f"{live.url}/hops.e2e")
    visitor.get_by_role("link", name="May be for adults: Sens").click()
    visitor.get_by_role("button", name="Continue").click()
    expect(visitor).to_have_url(hops.final)
    expect(visitor.get_by_role("heading", name="Arrived")).to_be_visible()

    visitor.goto(f"{live.url}/hops.e2e")
    visitor.get_by_role("link", name="Needs a password: Pass").click()
    visitor.get_by_label("Password").fill(SECRET)
    visitor.get_by_role("button", name="Continue").click()
    expect(visitor).to_have_url(hops.final)
    assert hops.paths.count("/final") == 2


def small_targets(page: Page) -> list[str]:
    """Every visible link and button of ``page`` shorter than 44 CSS pixels, with its size."""
    small = []
    for target in page.locator("a:visible, button:visible").all():
        box = target.bounding_box()
        assert box is not None
        if box["height"] < 44:
            small.append(f"{target.inner_text()!r} {box['width']:.0f}x{box['height']:.0f}")
    return small


def test_every_link_and_button_of_the_public_and_lock_pages_is_a_44_px_target_on_a_phone(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "touch.e2e")
    add_locked_link(owner, live, {"title": "Members", "url": "https://m.example/", "passcode": SECRET})
    add_locked_link(owner, live, {"title": "Plain", "url": "https://p.example/"})
    phone = new_page(phone=True)
    phone.goto(f"{live.url}/touch.e2e")
    expect(phone.get_by_role("link", name="Report")).to_be_visible()
    assert small_targets(phone) == []
    phone.get_by_role("link", name="Needs a password: Members").click()
    expect(phone.get_by_role("link", name="Go back")).to_be_visible()
    assert small_targets(phone) == []
    phone.get_by_label("Password").fill("not it")
    phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("alert")).to_be_visible()
    assert small_targets(phone) == []


def test_a_refused_password_leaves_the_link_unlocked_in_the_editor(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """A password too short is refused; saving the row again without one must not say it is locked."""
    live = live_server
    owner = new_page()
    sign_up(owner, live, "lena.refused")
    add_link(owner, "Members", "https://members.example/")
    row = owner.locator("#links .link-item").filter(has_text="Members")
    row.get_by_role("button", name="Edit").click()
    row.get_by_label("Password for visitors").fill("abc")
    with owner.expect_response(lambda response: "/api/edit/link/" in response.url) as refused:
        row.get_by_role("button", name="Save").click()
    assert refused.value.status == 422, refused.value.text()
    row.get_by_label("Password for visitors").fill("")
    row.get_by_label("Title").fill("Members area")
    with owner.expect_response(lambda response: "/api/edit/link/" in response.url) as saved:
        row.get_by_role("button", name="Save").click()
    assert saved.value.status == 200, saved.value.text()
    state = owner.locator("#links .link-item .link-state")
    expect(state).to_have_text(re.compile("Live"))
    expect(state).not_to_contain_text("Locked")
