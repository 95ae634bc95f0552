"""A row of social icons in Chromium: added from the page layout's menu of kinds with two profiles (one
added and one removed with the row buttons), edited in place, drawn as named icons on the public page;
both pages axe-clean."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from conexoos.app.models.persistent import PageBlock
from conexoos.framework import db
from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_admin_accessibility import axe_installed, check
from .test_blocks_dashboard import api_blocks, posted_block, rows
from .test_core_flow import sign_up

__all__ = ["axe_installed"]  # the fixture, used by name below


def fill_profile(page: Page, scope: str, number: int, network: str, handle: str) -> None:
    """Fill the ``number``-th (from 1) profile row of the form ``scope``."""
    row = page.locator(f"{scope} .social-row").nth(number - 1)
    row.get_by_label("Network").select_option(network)
    row.get_by_label("Handle or profile address").fill(handle)


def test_a_social_row_is_added_edited_and_drawn(
    live_server: LiveServer, new_page: PageFactory, axe_installed: None
) -> None:
    live = live_server
    page = new_page(bypass_csp=True)  # for axe's script, added at the end
    sign_up(page, live, "sam.social")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("social")
    expect(form.locator(".social-row")).to_have_count(1)
    fill_profile(page, "#add-block", 1, "instagram", "@sam.makes")
    form.get_by_role("button", name="Add a profile").click()
    fill_profile(page, "#add-block", 2, "x", "not a handle!")
    form.get_by_role("button", name="Add a profile").click()
    fill_profile(page, "#add-block", 3, "github", "https://github.com/sam")

    # A bad handle: the server's words, naming the entry, next to its handle (focused), and nothing added.
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 422
    assert answer.value.json()["error"]["field"] == "items[1].handle"
    second = form.locator(".social-row").nth(1)
    expect(second.locator(".field-error")).to_contain_text("Entry 2")
    expect(second.get_by_label("Handle or profile address")).to_be_focused()
    expect(second.get_by_label("Handle or profile address")).to_have_attribute("aria-invalid", "true")
    assert api_blocks(page, live) == []

    form.get_by_role("button", name="Remove profile 2").click()
    expect(form.locator(".social-row")).to_have_count(2)
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    expect(rows(page)).to_have_count(1)
    expect(form.locator(".social-row")).to_have_count(1)  # the form is back to one empty row
    [block] = api_blocks(page, live)
    assert [entry["url"] for entry in block["items"]] == [
        "https://www.instagram.com/sam.makes/",
        "https://github.com/sam",
    ]

    # Edited in place: a third profile added to the row.
    row = rows(page).first
    row.get_by_role("button", name="Edit").click()
    expect(row.locator(".social-row")).to_have_count(2)
    row.get_by_role("button", name="Add a profile").click()
    fill_profile(page, "#blocks .block-item", 3, "mastodon", "@sam@mastodon.social")
    with page.expect_response(lambda response: "/api/blocks/" in response.url) as answer:
        row.get_by_role("button", name="Save").click()
    assert answer.value.status == 200, answer.value.text()
    expect(rows(page).first).to_contain_text("@sam@mastodon.social")

    visitor = new_page(bypass_csp=True)
    visitor.goto(f"{live.url}/sam.social")
    icons = visitor.locator("ul.social a")
    expect(icons).to_have_count(3)
    expect(visitor.get_by_role("link", name="Instagram: @sam.makes")).to_have_attribute(
        "href", "https://www.instagram.com/sam.makes/"
    )
    expect(visitor.get_by_role("link", name="GitHub", exact=True)).to_have_attribute("rel", "me noopener")
    expect(visitor.get_by_role("link", name="Mastodon: @sam@mastodon.social")).to_be_visible()
    box = icons.first.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44  # a touch target

    problems: list[str] = []
    check(page, problems, "/dashboard with a social row")
    check(visitor, problems, "public page with a social row")
    assert not problems, "\n".join(problems)


def test_a_row_whose_every_icon_a_moderator_hid_says_so(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """Not "Shown": the public page draws nothing of it."""
    live = live_server
    page = new_page()
    sign_up(page, live, "sam.hidden")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("social")
    fill_profile(page, "#add-block", 1, "instagram", "@sam.hidden")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    expect(rows(page).first.locator(".link-state")).to_have_text("Shown")
    with live.app.app_context():  # as a moderator's "hide this icon" stores it
        block = db.session.get(PageBlock, answer.value.json()["id"])
        assert block is not None
        block.fields = {**block.fields, "items": [{**block.fields["items"][0], "hidden_by_staff": True}]}
        db.session.commit()
    page.reload()
    expect(rows(page).first.locator(".link-state")).to_have_text("Hidden by a moderator (every icon)")
