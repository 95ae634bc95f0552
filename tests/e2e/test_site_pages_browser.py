"""Site pages in Chromium: the editor's live preview (JavaScript, under the site's CSP), the Preview button
without JavaScript on a phone, and the published page for a visitor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, scripts_ran, set_up_site


def test_live_preview_then_publish(
    new_page: PageFactory, live_server: LiveServer, snapshot: Callable[[Page, str], Path | None]
) -> None:
    editor = new_page()
    refused: list[str] = []
    editor.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    set_up_site(editor, live_server)
    editor.get_by_role("navigation", name="Admin").get_by_role("link", name="Pages").click()
    editor.get_by_role("link", name="New page").click()
    expect(editor).to_have_url(f"{live_server.url}/admin/pages/new")
    scripts_ran(editor)  # the preview follows the text only once page_preview.js listens to it
    editor.get_by_label("Title").fill("Terms of use")
    editor.get_by_label("Address").fill("terms")
    editor.get_by_label("Text (Markdown)").fill(
        "**Be kind** <script>alert(1)</script>\n\n| a |\n|---|\n| 1 |"
    )
    preview = editor.locator("#page-preview")
    expect(preview.locator("strong")).to_have_text("Be kind")  # shown live, nothing posted back
    expect(preview.locator("td")).to_have_text("1")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # as text
    expect(preview.locator("script")).to_have_count(0)
    problem = editor.locator("#preview-problem")
    expect(problem).to_be_hidden()
    editor.get_by_label("Text (Markdown)").fill("[away](//evil.example/x)")  # what saving would refuse
    expect(problem).to_contain_text("//evil.example/x cannot be a link")
    editor.get_by_label("Text (Markdown)").fill(
        "**Be kind** <script>alert(1)</script>\n\n| a |\n|---|\n| 1 |"
    )
    expect(problem).to_be_hidden()
    snapshot(editor, "editor")
    editor.get_by_label("Status").select_option("published")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_text("The page /p/terms is saved")).to_be_visible()
    assert not refused, refused  # no CSP refusal, no script error

    visitor = new_page()
    visitor.goto(f"{live_server.url}/p/terms")
    expect(visitor.get_by_role("heading", name="Terms of use")).to_be_visible()
    expect(visitor.locator(".page-body strong")).to_have_text("Be kind")
    snapshot(visitor, "published")
    editor.get_by_label("Text (Markdown)").fill("**Be kind**, always\n\n| a |\n|---|\n| 2 |")
    editor.get_by_role("button", name="Save").click()
    editor.get_by_role("link", name="Revisions").click()
    editor.get_by_role("link", name="Changes in revision 2").click()
    expect(editor.locator(".diff .add")).to_contain_text(["**Be kind**, always", "| 2 |"])
    snapshot(editor, "changes")


def test_the_preview_button_works_without_javascript(
    new_page: PageFactory, live_server: LiveServer, snapshot: Callable[[Page, str], Path | None]
) -> None:
    phone = new_page(phone=True, java_script_enabled=False)
    set_up_site(phone, live_server)
    phone.goto(f"{live_server.url}/admin/pages/new")
    phone.get_by_label("Title").fill("Help")
    phone.get_by_label("Address").fill("help")
    phone.get_by_label("Text (Markdown)").fill("## Questions\n\n~~old~~ answer")
    phone.get_by_role("button", name="Preview").click()
    preview = phone.locator("#page-preview")
    expect(preview.get_by_role("heading", name="Questions")).to_be_visible()
    expect(preview.locator("s")).to_have_text("old")
    expect(phone.get_by_label("Text (Markdown)")).to_have_value("## Questions\n\n~~old~~ answer")
    snapshot(phone, "phone-preview")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("The page /p/help is saved")).to_be_visible()
    phone.goto(f"{live_server.url}/p/help")
    expect(phone.get_by_text("Draft — only staff see this.")).to_be_visible()
    snapshot(phone, "phone-draft")
