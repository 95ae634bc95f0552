"""The operator's work in Chromium: the first run on a phone (/setup → log in → /admin → suspend a page →
audit log), and a visitor's report handled from the queue (report → snapshot → suspend → audit log).

No JavaScript is needed anywhere on the operator's way (the browser runs with it off), and no admin page
is wider than the phone's screen.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from conexoos.framework import db
from conexoos.framework.mail.outbox import OutboxMessage
from tests.support.live_server import LiveServer

from .conftest import PASSWORD, PageFactory, set_up_site, sign_up


def fits_the_screen(page: Page) -> bool:
    """Whether the page needs no sideways scrolling."""
    page.wait_for_load_state("load")  # stylesheets applied
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    return bool(widths[0] <= widths[1])


def test_setup_admin_and_suspension_on_a_phone(new_page: PageFactory, live_server: LiveServer) -> None:
    creator = new_page()
    sign_up(creator, live_server, "phisher")
    expect(creator.get_by_role("link", name="Admin")).to_have_count(0)

    phone = new_page(phone=True, java_script_enabled=False)
    phone.goto(f"{live_server.url}/setup")  # the live server is on 127.0.0.1: the server itself
    expect(phone.get_by_role("heading", name="Set up your site")).to_be_visible()
    set_up_site(phone, live_server)
    assert fits_the_screen(phone)

    phone.get_by_role("navigation", name="Admin").get_by_role("link", name="Users").click()
    phone.get_by_label("Name, username or email contains").fill("phish")
    phone.get_by_role("button", name="Search").click()
    expect(phone.get_by_text("1 account matching")).to_be_visible()
    assert fits_the_screen(phone)
    phone.get_by_role("link", name="phisher").click()
    phone.get_by_label("Reason (shown to the owner)").fill("Phishing page")
    phone.get_by_role("button", name="Suspend").click()
    expect(phone.get_by_text("phisher is suspended")).to_be_visible()
    assert fits_the_screen(phone)

    visitor = new_page()
    assert visitor.goto(f"{live_server.url}/phisher").status == 404  # type: ignore[union-attr]
    creator.goto(f"{live_server.url}/dashboard")
    expect(creator).to_have_url(f"{live_server.url}/login?next=/dashboard")  # the session ended

    phone.get_by_role("link", name="Audit log").click()
    expect(phone.get_by_role("cell", name="user.suspend")).to_be_visible()
    expect(phone.get_by_role("cell", name="setup.complete")).to_be_visible()
    assert fits_the_screen(phone)
    phone.goto(f"{live_server.url}/setup")
    expect(phone.get_by_role("heading", name="Set up your site")).to_have_count(0)

    # Accessibility: a skip link to the admin content; the sign-up policy's choices are big enough to tap.
    phone.goto(f"{live_server.url}/admin/invites")
    skip = phone.get_by_role("link", name="Skip to the admin content")
    expect(skip).to_have_attribute("href", "#admin-content")
    for label in ("Open: anyone may sign up", "By invitation only"):
        box = phone.get_by_text(label, exact=True).bounding_box()
        assert box is not None and box["height"] >= 44, (label, box)
    assert fits_the_screen(phone)


def thank_you_mails(live: LiveServer) -> list[str]:
    """The addresses the reporters' thank-you mails are queued for."""
    with live.app.app_context():
        query = select(OutboxMessage.recipient).where(OutboxMessage.subject.startswith("Thank you for your"))
        return list(db.session.scalars(query))


def test_a_visitor_reports_a_page_and_the_moderator_suspends_it_from_the_report(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    url = live_server.url
    creator = new_page()
    sign_up(creator, live_server, "phisher")
    creator.get_by_label("Title", exact=True).first.fill("Your bank: confirm your password")
    creator.get_by_label("URL", exact=True).first.fill("https://login.bank.example.net/confirm")
    creator.get_by_role("button", name="Add", exact=True).click()
    expect(creator.locator("#links .link-item")).to_have_count(1)

    moderator = new_page(java_script_enabled=False)
    set_up_site(moderator, live_server, policy="Open")
    expect(moderator.get_by_role("link", name="0 open reports")).to_be_visible()

    # A visitor on a phone reports the page through its small "Report" link.
    visitor = new_page(phone=True, java_script_enabled=False)
    visitor.goto(f"{url}/phisher")
    expect(visitor.get_by_role("link", name="Your bank: confirm your password")).to_be_visible()
    visitor.get_by_role("link", name="Report", exact=True).click()
    expect(visitor.get_by_role("heading", name="Report @phisher")).to_be_visible()
    phishing = "Phishing: it imitates a site to steal passwords or money"
    visitor.get_by_label("Reason").select_option(label=phishing)
    visitor.get_by_label("Details").fill("The first link asks for my bank password.")
    visitor.get_by_label("Your email address (optional)").fill("visitor@example.org")
    visitor.get_by_role("button", name="Send the report").click()
    expect(visitor.get_by_role("heading", name="Thank you")).to_be_visible()
    assert fits_the_screen(visitor)

    # The moderator finds it in the queue and sees the page as it was when reported.
    moderator.reload()
    expect(moderator.get_by_role("link", name="1 open reports")).to_be_visible()
    moderator.get_by_role("navigation", name="Admin").get_by_role("link", name="Reports").click()
    expect(moderator.get_by_text("1 open report, oldest first.")).to_be_visible()
    row = moderator.get_by_role("row").filter(has_text="@phisher")
    expect(row).to_contain_text("phishing")
    expect(row).to_contain_text("The first link asks for my bank password.")
    row.get_by_role("link", name="Report").click()
    expect(moderator.get_by_role("heading", name="phishing", level=1)).to_be_visible()
    expect(moderator.get_by_text("visitor@example.org")).to_be_visible()
    snapshot = moderator.get_by_role("region", name="The page when reported")
    expect(snapshot.get_by_role("cell", name="Your bank: confirm your password")).to_be_visible()
    expect(snapshot.get_by_role("cell", name="https://login.bank.example.net/confirm")).to_be_visible()

    moderator.get_by_role("button", name="Suspend @phisher").click()  # asks first, for the reason
    expect(moderator.get_by_role("heading", name="Suspend @phisher?")).to_be_visible()
    moderator.get_by_label("Reason (shown to the owner)").fill("Phishing for bank passwords")
    moderator.get_by_role("button", name="Suspend @phisher").click()
    expect(moderator.get_by_role("status")).to_contain_text("Suspended; report")
    expect(moderator.get_by_text("0 open reports, oldest first.")).to_be_visible()
    expect(moderator.get_by_role("cell", name="No open report.")).to_be_visible()
    assert thank_you_mails(live_server) == ["visitor@example.org"]

    # Visitors get 404; the owner's session ended, and after logging in again they see why.
    gone = visitor.goto(f"{url}/phisher")
    assert gone is not None and gone.status == 404
    creator.goto(f"{url}/dashboard")
    expect(creator).to_have_url(f"{url}/login?next=/dashboard")
    creator.get_by_label("Email or username").fill("phisher")
    creator.get_by_label("Password").fill(PASSWORD)
    creator.get_by_role("button", name="Log in", exact=True).click()
    notice = creator.get_by_role("alert").filter(has_text="Your page is suspended by the site's staff")
    expect(notice).to_contain_text("Phishing for bank passwords")  # the reason the moderator gave

    # The audit log lists every step, with who did it.
    moderator.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    log = moderator.get_by_role("region", name="Audit log")
    for action in ("setup.complete", "user.suspend", "report.actioned"):
        expect(log.get_by_role("row").filter(has_text=action)).to_contain_text("owner")
    moderator.get_by_label("Action").select_option("user.suspend")
    moderator.get_by_role("button", name="Filter").click()
    expect(moderator.get_by_text("1 entry with action “user.suspend”.")).to_be_visible()
    expect(log.get_by_role("row").filter(has_text="user.suspend")).to_contain_text("phisher")
