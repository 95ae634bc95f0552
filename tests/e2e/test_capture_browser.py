"""Email sign-up in Chromium: the owner adds a sign-up form from the dashboard's menu of kinds; a visitor
with JavaScript off signs up on the page, is told the name is too long, then thanked; the owner sees
the entry on the sign-ups page. The form, the answers and the sign-ups page pass axe's WCAG A/AA rules, and
so does a page whose plan holds no more sign-ups, which shows its forms closed."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from conexoos.app.models.persistent import CaptureEntry
from conexoos.app.utils.text import BIDI_PROBLEM
from conexoos.framework import db
from tests.support.live_server import LiveServer, run_live_server

from .conftest import PageFactory, sign_up
from .test_admin_accessibility import axe_violations
from .test_blocks_dashboard import posted_block


def add_form(owner: Page) -> None:
    """Add the sign-up form "Get my monthly letter" (button "Count me in") from the dashboard's menu."""
    form = owner.locator("#add-block")
    form.get_by_label("Kind of block").select_option("capture")
    form.get_by_label("Title", exact=True).fill("Get my monthly letter")
    form.get_by_label("Button label").fill("Count me in")
    with owner.expect_response(posted_block) as added:
        form.get_by_role("button", name="Add block").click()
    assert added.value.status == 201, added.value.text()
    expect(owner.locator("#blocks .block-item").last).to_contain_text("Email sign-up form")
    expect(owner.locator("#blocks .block-item").last).to_contain_text("Get my monthly letter")


def test_a_visitor_without_javascript_signs_up(live_server: LiveServer, new_page: PageFactory) -> None:
    live = live_server
    owner = new_page(bypass_csp=True)  # axe checks the sign-ups page at the end
    sign_up(owner, live, "nora.e2e")
    add_form(owner)

    visitor = new_page(java_script_enabled=False)
    visitor.goto(f"{live.url}/nora.e2e")
    signup = visitor.get_by_role("form", name="Get my monthly letter")
    expect(signup).to_be_visible()
    expect(signup.get_by_label("Leave this empty")).to_be_hidden()  # the honeypot
    signup.get_by_label("Name").fill("N" * 100 + "x")  # maxlength stops the typing, not a script
    assert len(signup.get_by_label("Name").input_value()) == 100
    signup.get_by_label("Email").fill("not an address")
    signup.get_by_role("button", name="Count me in").click()
    expect(visitor).to_have_url(f"{live.url}/nora.e2e")  # the browser's own check held the post back
    signup.get_by_label("Name").fill("Vic Visitor")
    signup.get_by_label("Email").fill("Vic@Example.com")
    signup.get_by_role("button", name="Count me in").click()
    expect(visitor.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(visitor.get_by_role("status")).to_have_text("Thank you, you are signed up.")
    with live.app.app_context():
        stored = [(e.name, e.email) for e in db.session.scalars(select(CaptureEntry))]
    assert stored == [("Vic Visitor", "vic@example.com")]

    checker = new_page(bypass_csp=True)  # axe needs JavaScript, injected inline: form, refusal, thanks
    checker.goto(f"{live.url}/nora.e2e")
    assert axe_violations(checker) == []
    checker.get_by_label("Name").fill("Bidi \u202e name")
    checker.get_by_label("Email").fill("bidi@example.com")
    checker.get_by_role("button", name="Count me in").click()
    expect(checker.get_by_role("alert")).to_have_text(BIDI_PROBLEM)
    expect(checker.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(checker) == []
    checker.get_by_label("Name").fill("Bea")
    checker.get_by_role("button", name="Count me in").click()
    expect(checker.get_by_role("status")).to_contain_text("Thank you")
    assert axe_violations(checker) == []

    owner.goto(f"{live.url}/dashboard/signups")
    expect(owner.locator("#signup-count")).to_have_text("2 sign-ups, 0 confirmed, of 100 your plan keeps.")
    expect(owner.get_by_role("cell", name="vic@example.com", exact=True)).to_be_visible()
    assert axe_violations(owner) == []
    with owner.expect_download() as download:
        owner.get_by_role("link", name="Download all as CSV").click()
    assert "vic@example.com" in download.value.path().read_text()


def test_a_full_page_shows_its_forms_closed(tmp_path: Path, new_page: PageFactory) -> None:
    with run_live_server(tmp_path, {"APP": {"PLANS": {"gratis": {"MAX_CAPTURE_ENTRIES": 1}}}}) as live:
        owner = new_page()
        sign_up(owner, live, "nora.e2e")
        add_form(owner)
        visitor = new_page(java_script_enabled=False)
        visitor.goto(f"{live.url}/nora.e2e")
        visitor.get_by_label("Email").fill("vic@example.com")
        visitor.get_by_role("button", name="Count me in").click()
        expect(visitor.get_by_role("status")).to_have_text("Thank you, you are signed up.")
        checker = new_page(bypass_csp=True)  # axe is injected as an inline script
        checker.goto(f"{live.url}/nora.e2e")
        expect(checker.get_by_role("region", name="Get my monthly letter")).to_contain_text(
            "Sign-ups are closed."
        )
        expect(checker.get_by_role("form")).to_have_count(0)
        expect(checker.get_by_role("textbox")).to_have_count(0)
        assert axe_violations(checker) == []
