"""The admin pages, and the public pages an operator's work touches, pass axe-core's WCAG 2.0/2.1 A, AA rules.

The admin pages are not listed here: they are found in the app's URL map (every rule under ``/admin`` that
answers GET). A rule without required arguments is visited as it is; a rule with arguments (one user's
view, one report) is filled by ``URL_VALUES`` with the ids of the data the test made first (a user with
links, a report, a blocked domain, an invitation and the audit entries these leave). A page added later is
therefore checked without editing this file, and a page with an argument ``URL_VALUES`` cannot fill fails
the test with its name, so nobody forgets it. Each page is checked at desktop and at phone width, because
some rules (a table that scrolls sideways must be reachable by keyboard) only apply on a narrow screen;
at phone width the page itself must also fit the screen (a table may scroll inside its region).
A page that answers a POST only ("Confirm it's you", a refused action) is reached by a test of its own.

axe-core comes from the npm registry, pinned in ``tests/support/axe/package-lock.json``
(``npm ci`` there; ``scripts/test`` does it).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import update
from werkzeug.routing import Rule

from conexoos.app.controllers import media_library, menus, site_pages
from conexoos.app.controllers.recent_auth import RECENT_AUTH
from conexoos.app.models.persistent import BlockedDomain, Invite, Report, SitePageRevision, User, UserSession
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from tests.support.live_server import LiveServer, run_live_server
from tests.support.services import REQUIRE_SERVICES

from .conftest import DESKTOP_VIEWPORT, PASSWORD, PHONE_VIEWPORT, PageFactory, set_up_site, sign_up

AXE_SCRIPT = Path(__file__).parents[1] / "support" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BEST_PRACTICES = {
    rule: {"enabled": True}
    for rule in (
        "heading-order",
        "page-has-heading-one",
        "empty-heading",
        "landmark-one-main",
        "landmark-unique",
        "landmark-no-duplicate-main",
        "region",
        "skip-link",
        "empty-table-header",
    )
}
"""axe's best practices that WCAG's tags leave out, kept too: headings in order, every text in a landmark."""
ADMIN_PREFIX = "/admin"
VIEWPORTS = {"desktop": DESKTOP_VIEWPORT, "phone": PHONE_VIEWPORT}


@dataclass
class Scene:
    """What the test made before visiting the admin pages: the server, the admin's page, and the ids."""

    live: LiveServer
    admin: Page
    user_id: int
    report_id: int

    def newest_id(self, model: type[Any]) -> int:
        """The id of the newest row of ``model`` (for a page about an object the test made)."""
        with self.live.app.app_context():
            found = db.session.query(model).order_by(model.id.desc()).first()
            assert found is not None, f"the test made no {model.__name__}"
            return int(found.id)


def site_page_with_two_revisions(scene: Scene) -> int:
    """The id of a published page saved twice (so it has a diff to show), made once per scene."""
    with scene.live.app.app_context():
        page = site_pages.page_by_slug("terms")
        if page is None:
            first = site_pages.PageInput(slug="terms", title="Terms", body="# Terms\n\nBe kind.")
            page = site_pages.create(first, scene.user_id)
            second = site_pages.PageInput(
                slug="terms", title="Terms of use", body="# Terms\n\nBe kind, always.", status="published"
            )
            page = site_pages.update(page, second, scene.user_id)
        return int(page.id)


def footer_entry(scene: Scene) -> dict[str, Any]:
    """A footer menu entry leading to the site page (made once per scene)."""
    page_id = site_page_with_two_revisions(scene)
    with scene.live.app.app_context():
        found = menus.listed("footer")
        item_id = found[0].item.id if found else menus.add("footer", menus.EntryInput("Terms", page_id)).id
    return {"item_id": item_id}


def library_image(scene: Scene) -> dict[str, Any]:
    """An image in the media library, uploaded once per scene (its page shows renditions and snippets)."""
    with scene.live.app.app_context():
        if media_library.count_items() == 0:
            picture = io.BytesIO()
            Image.new("RGB", (1200, 800), (40, 90, 160)).save(picture, "PNG")
            picture.seek(0)
            media_library.upload(picture, "harbour.png", "Harbour", "Boats in a blue harbour", None)
        return {"item_id": media_library.list_items(1, 0)[0].id}


def newest_revision(scene: Scene) -> dict[str, Any]:
    page_id = site_page_with_two_revisions(scene)
    return {"page_id": page_id, "revision_id": scene.newest_id(SitePageRevision)}


URL_VALUES: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "admin.user": lambda scene: {"user_id": scene.user_id},
    "admin_reports.report": lambda scene: {"report_id": scene.report_id},
    "admin_reports.confirm_suspend": lambda scene: {"report_id": scene.report_id},
    "admin_pages.edit": lambda scene: {"page_id": site_page_with_two_revisions(scene)},
    "admin_pages.confirm_delete": lambda scene: {"page_id": site_page_with_two_revisions(scene)},
    "admin_pages.revisions": lambda scene: {"page_id": site_page_with_two_revisions(scene)},
    "admin_pages.changes": newest_revision,
    "admin_menus.edit": footer_entry,
    "admin_media.item": library_image,
}
"""How to fill each admin GET rule that has arguments: endpoint → the URL's values, from the scene.

A new admin page about one object (``/admin/pages/<id:page_id>``) adds a line here; the function may
make its object first (through ``scene.admin``, the admin's browser page, or inside
``scene.live.app.app_context()``) and return its id, or read it with ``scene.newest_id(Model)``.
"""


def admin_get_rules(app: Flask) -> list[Rule]:
    """Every rule under /admin that answers GET, in a stable order."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(ADMIN_PREFIX) and "GET" in (rule.methods or set())
    ]
    return sorted(rules, key=lambda rule: rule.rule)


def required_arguments(rule: Rule) -> set[str]:
    """The rule's arguments that have no default value."""
    return set(rule.arguments) - set(rule.defaults or {})


def unfillable(app: Flask) -> list[str]:
    """The admin GET rules with arguments that ``URL_VALUES`` does not fill."""
    return [
        f"{rule.rule} ({rule.endpoint})"
        for rule in admin_get_rules(app)
        if required_arguments(rule) and rule.endpoint not in URL_VALUES
    ]


def admin_urls(scene: Scene) -> list[str]:
    """The path of every admin GET page, with the arguments filled from the scene."""
    paths = []
    for rule in admin_get_rules(scene.live.app):
        values = URL_VALUES[rule.endpoint](scene) if required_arguments(rule) else {}
        with scene.live.app.test_request_context():
            paths.append(url_for(rule.endpoint, **values))
    return paths


def axe_violations(page: Page) -> list[str]:
    """Run axe-core on the page as it is now; one line for each element that breaks a WCAG A/AA rule.
    axe is added once per document: adding its 650 KB again for the phone width took a quarter of the test."""
    if page.evaluate("() => typeof axe === 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    found = page.evaluate(
        "([tags, rules]) => axe.run(document, {runOnly: {type: 'tag', values: tags}, rules,"
        " resultTypes: ['violations']}).then(results => results.violations)",
        [WCAG_TAGS, BEST_PRACTICES],
    )
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            target = " ".join(json.dumps(part) for part in node["target"])
            lines.append(f"{violation['id']} ({violation['impact']}) at {target}: {violation['help']}")
    return lines


FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body || element.dataset.tabbed) return null;
  element.dataset.tabbed = "yes";
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  const text = (element.getAttribute("aria-label") || element.textContent || element.name || "").trim();
  return {
    element: `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""} "${text.slice(0, 40)}"`,
    outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 1,
    on_screen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= 0,
  };
}"""
UNMARK = "() => document.querySelectorAll('[data-tabbed]').forEach(element => delete element.dataset.tabbed)"
MAX_TABS = 300


def keyboard_walk(page: Page) -> list[str]:
    """Tab through the page from the top; one line for each stop that shows no outline or is off screen."""
    lines: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None:  # back at the start, or out of the page
            page.evaluate(UNMARK)
            return lines
        if not stop["outlined"]:
            lines.append(f"focus-visible at {stop['element']}: no outline when focused by keyboard")
        if not stop["on_screen"]:
            lines.append(f"focus-visible at {stop['element']}: focused but off screen")
    return lines + [f"keyboard: more than {MAX_TABS} tab stops"]


def check(page: Page, problems: list[str], what: str | None = None) -> None:
    """Check the page with axe at desktop and at phone width, and walk it by keyboard, adding each
    violation to ``problems``."""
    for name, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        page.wait_for_load_state("load")
        problems.extend(f"{what or page.url} [{name}] {line}" for line in axe_violations(page))
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > viewport["width"]:  # a table may scroll inside its region; the page may not
            problems.append(
                f"{what or page.url} [{name}] the page is {wide} px wide on a {viewport['width']} px screen"
            )
    page.set_viewport_size(DESKTOP_VIEWPORT)
    problems.extend(f"{what or page.url} [keyboard] {line}" for line in keyboard_walk(page))


def visit(page: Page, url: str, refused: bool = False) -> bool:
    """Open ``url`` in the page when it is an HTML page answering 200; False for a download (CSV) or, when
    ``refused`` is allowed, a page that answers 404 to this user's role."""
    answer = page.request.get(url, max_redirects=0)
    if refused and answer.status == 404:
        return False
    assert answer.status == 200, f"GET {url}: {answer.status}"
    if not answer.headers.get("content-type", "").startswith("text/html"):
        return False
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return True


@pytest.fixture
def axe_installed() -> None:
    """Skip, or fail under CONEXOOS_REQUIRE_SERVICES=1, with the fix when axe-core is not installed."""
    if not AXE_SCRIPT.is_file():
        reason = f"axe-core is missing: run `npm ci` in {AXE_SCRIPT.parents[2]} (scripts/test does)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


def test_every_admin_get_rule_with_arguments_is_filled(live_server: LiveServer) -> None:
    missing = unfillable(live_server.app)
    assert not missing, (
        "add these admin pages to URL_VALUES in tests/e2e/test_admin_accessibility.py so that axe "
        "checks them: " + ", ".join(missing)
    )
    endpoints = {rule.endpoint for rule in admin_get_rules(live_server.app)}
    assert set(URL_VALUES) <= endpoints, (
        f"URL_VALUES names pages that are gone: {set(URL_VALUES) - endpoints}"
    )


def test_an_admin_page_with_an_argument_nobody_fills_is_named() -> None:
    app = Flask(__name__)
    app.add_url_rule("/admin/things/<int:thing_id>", "admin_things.thing", lambda thing_id: "")
    app.add_url_rule("/admin/things/<int:thing_id>/delete", "admin_things.delete", methods=["POST"])
    app.add_url_rule("/admin/things", "admin_things.index", lambda page=1: "", defaults={"page": 1})
    assert unfillable(app) == ["/admin/things/<int:thing_id> (admin_things.thing)"]


def make_a_page_to_report(owner: Page, live: LiveServer) -> None:
    """Sign up "phisher" and put a phishing link on the page."""
    sign_up(owner, live, "phisher")
    owner.get_by_label("Title", exact=True).first.fill("Your bank: confirm your password")
    owner.get_by_label("URL", exact=True).first.fill("https://login.bank.example.net/confirm")
    owner.get_by_role("button", name="Add", exact=True).click()
    expect(owner.locator("#links .link-item")).to_have_count(1)


def set_up_and_log_in(admin: Page, live: LiveServer, problems: list[str]) -> None:
    """Check /setup fresh and with errors, complete it (sign-up by invitation), check the login page and
    log in."""
    admin.goto(f"{live.url}/setup")
    check(admin, problems, "/setup (fresh site)")
    admin.get_by_role("button", name="Set up the site").click()
    summary = admin.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_count(4)  # site name, email, username, password
    summary.get_by_role("link", name="Site name: This field is required.").click()
    expect(admin.get_by_label("Site name")).to_be_focused()
    check(admin, problems, "/setup (with errors)")
    admin.get_by_label("Site name").fill("Linkhaus")
    admin.get_by_label("Administrator's email").fill("owner@example.com")
    admin.get_by_label("Administrator's username").fill("owner")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_label("By invitation").check()
    admin.get_by_role("button", name="Set up the site").click()
    expect(admin.get_by_text("Your site is set up")).to_be_visible()
    check(admin, problems, "/login (after setup)")
    log_in(admin, "owner")
    expect(admin.get_by_role("heading", name="Linkhaus: overview")).to_be_visible()


def id_of(live: LiveServer, model: type[Any], **where: Any) -> int:
    """The id of the one row of ``model`` matching ``where``."""
    with live.app.app_context():
        return int(db.session.query(model).filter_by(**where).one().id)


def log_in(page: Page, username: str) -> None:
    """Fill the login form that is open and send it."""
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


def report_the_page(visitor: Page, live: LiveServer, problems: list[str]) -> None:
    """A visitor follows phisher's "Report" link; the form is checked empty, with an error, and thanked."""
    visitor.goto(f"{live.url}/phisher")
    visitor.get_by_role("link", name="Report").click()
    check(visitor, problems, "/phisher/report")
    visitor.get_by_label("Your email address (optional)").fill("not an address")
    visitor.get_by_role("button", name="Send the report").click()
    expect(visitor.locator("[aria-invalid=true]")).to_have_count(1)
    expect(visitor.get_by_role("alert").get_by_role("link")).to_have_text(
        ["Your email address (optional): Enter a valid email address."]
    )
    check(visitor, problems, "/phisher/report (with errors)")
    visitor.get_by_label("Reason").select_option("phishing")
    visitor.get_by_label("Details").fill("The first link asks for my bank password.")
    visitor.get_by_label("Your email address (optional)").fill("visitor@example.org")
    visitor.get_by_role("button", name="Send the report").click()
    expect(visitor.get_by_role("heading", name="Thank you")).to_be_visible()
    check(visitor, problems, "/phisher/report/thanks")


def block_a_domain(admin: Page, live: LiveServer, problems: list[str]) -> None:
    """Block the phishing domain; check the refused domain and an import result with a refused line."""
    admin.goto(f"{live.url}/admin/blocklist")
    admin.get_by_label("Domain", exact=True).fill("bank.example.net")
    admin.get_by_role("button", name="Block").click()
    expect(admin.get_by_role("status")).to_contain_text("bank.example.net is blocked")
    admin.get_by_label("Domain", exact=True).fill("not a domain")
    admin.get_by_role("button", name="Block").click()
    expect(admin.get_by_role("alert")).to_be_visible()
    check(admin, problems, "/admin/blocklist (a refused domain)")
    admin.get_by_label("Import a text file").set_input_files(
        {"name": "domains.txt", "mimeType": "text/plain", "buffer": b"phish.example\n# ours\nnot a domain\n"}
    )
    admin.get_by_role("button", name="Import", exact=True).click()
    expect(admin.get_by_role("heading", name="Import")).to_be_visible()
    check(admin, problems, "/admin/blocklist (an import with a refused line)")


def invite(admin: Page, live: LiveServer, problems: list[str]) -> str:
    """Make an invitation link (the page showing it is checked); the link."""
    admin.goto(f"{live.url}/admin/invites")
    admin.get_by_label("Email it to").fill("owner@example.com")
    admin.get_by_role("button", name="Make an invitation").click()
    expect(admin.locator("#invite-email-error")).to_contain_text("has an account with this address already")
    check(admin, problems, "/admin/invites (a refused address)")
    admin.get_by_label("Email it to").fill("")
    admin.get_by_label("Note (for you").fill("Mo, our moderator")
    admin.get_by_role("button", name="Make an invitation").click()
    expect(admin.locator("#invite-link")).to_contain_text("/signup?invite=")
    check(admin, problems, "/admin/invites (a new invitation link)")
    return admin.locator("#invite-link").inner_text().strip()


def make_a_moderator(admin: Page, moderator: Page, live: LiveServer, link: str) -> None:
    """ "moddy" signs up through the invitation link; the admin gives them the moderator role."""
    moderator.goto(link)
    moderator.get_by_label("Email").fill("moddy@example.com")
    moderator.get_by_label("Username").fill("moddy")
    moderator.get_by_label("Password").fill(PASSWORD)
    moderator.get_by_role("button", name="Sign up").click()
    expect(moderator).to_have_url(f"{live.url}/signup/sent")
    admin.goto(f"{live.url}/admin/users/{id_of(live, User, username='moddy')}")
    admin.get_by_label("Role").select_option("moderator")
    admin.get_by_role("button", name="Change role").click()
    expect(admin.get_by_role("status")).to_contain_text("moderator")
    moderator.goto(f"{live.url}/login")
    log_in(moderator, "moddy")
    expect(moderator.get_by_role("link", name="Admin")).to_be_visible()


def check_every_admin_page(scene: Scene, page: Page, role: str, problems: list[str]) -> list[str]:
    """Check each admin page in the page's session of ``role``; the paths checked. An admin opens them
    all; a moderator those their role allows (the others answer 404)."""
    checked = []
    for path in admin_urls(scene):
        if visit(page, f"{scene.live.url}{path}", refused=role != "admin"):
            check(page, problems, f"{path} (as {role})")
            checked.append(path)
    return checked


@pytest.mark.timeout(
    360
)  # every admin page twice, at two widths and by keyboard: 30 s alone, 120+ s in CI's load
@pytest.mark.usefixtures("axe_installed")
def test_the_admin_pages_and_the_operators_public_pages_are_axe_clean(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    assert not unfillable(live_server.app), "see test_every_admin_get_rule_with_arguments_is_filled"
    problems: list[str] = []
    admin, moderator = new_page(bypass_csp=True), new_page(bypass_csp=True)
    make_a_page_to_report(new_page(), live_server)
    set_up_and_log_in(admin, live_server, problems)
    report_the_page(new_page(bypass_csp=True), live_server, problems)
    block_a_domain(admin, live_server, problems)
    make_a_moderator(admin, moderator, live_server, invite(admin, live_server, problems))

    scene = Scene(
        live=live_server,
        admin=admin,
        user_id=id_of(live_server, User, username="phisher"),
        report_id=id_of(live_server, Report, reason="phishing"),
    )
    assert scene.newest_id(BlockedDomain) and scene.newest_id(Invite)
    everything = check_every_admin_page(scene, admin, "admin", problems)
    assert {"/admin", "/admin/audit", f"/admin/reports/{scene.report_id}"} <= set(everything), everything
    theirs = check_every_admin_page(scene, moderator, "moderator", problems)
    assert f"/admin/reports/{scene.report_id}" in theirs and "/admin/audit" not in theirs, theirs

    admin.goto(f"{live_server.url}/admin/reports/{scene.report_id}")  # the same pages once handled
    admin.get_by_role("button", name="Suspend @phisher").click()  # asks first, for the reason
    admin.get_by_label("Reason (shown to the owner)").fill("Phishing")
    admin.get_by_role("button", name="Suspend @phisher").click()
    expect(admin.get_by_role("status")).to_have_text(f"Suspended; report {scene.report_id} closed.")
    check(admin, problems, f"/admin/reports/{scene.report_id} (handled)")
    admin.goto(f"{live_server.url}/admin/reports?status=closed")
    expect(admin.get_by_role("cell", name="@owner")).to_be_visible()
    check(admin, problems, "/admin/reports?status=closed")
    admin.goto(f"{live_server.url}/admin/users?role=user&state=suspended")
    expect(admin.get_by_role("link", name="phisher")).to_be_visible()
    check(admin, problems, "/admin/users (filtered)")
    admin.goto(f"{live_server.url}/admin/users/{scene.user_id}")
    expect(admin.get_by_role("button", name="Unsuspend")).to_be_visible()
    check(admin, problems, f"/admin/users/{scene.user_id} (suspended)")

    assert not problems, f"{len(problems)} accessibility violations:\n" + "\n".join(problems)


def age_logins(live: LiveServer, username: str) -> None:
    """Make every login session of ``username`` older than the sudo mode's window."""
    with live.app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == id_of(live, User, username=username))
            .values(created_at=utcnow() - RECENT_AUTH - timedelta(minutes=1))
        )
        db.session.commit()


@pytest.mark.usefixtures("axe_installed")
def test_the_confirm_it_s_you_page_and_a_refused_action_are_axe_clean(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    """ "Confirm it's you" answers a POST only, so the walk of every admin GET page never met it: an
    administrator whose login is old changes a role from the account's page, and the page that asks is
    checked fresh and with a wrong password; so is the account's page with a refusal under its field."""
    problems: list[str] = []
    make_a_page_to_report(new_page(), live_server)  # "phisher", an account to act on
    admin = new_page(bypass_csp=True)
    set_up_site(admin, live_server, policy="Open")
    admin.goto(f"{live_server.url}/admin/users/{id_of(live_server, User, username='phisher')}")
    admin.get_by_label("Type phisher to delete the account for good").fill("phisherman")
    admin.get_by_role("button", name="Delete account").click()
    typed = admin.get_by_label("Type phisher to delete the account for good")
    expect(typed).to_have_value("phisherman")
    expect(typed).to_be_focused()
    expect(typed).to_have_accessible_description("Type the account's username to confirm the deletion.")
    check(admin, problems, "/admin/users/<id> (a refused deletion)")

    age_logins(live_server, "owner")
    admin.get_by_label("Role").select_option("moderator")
    admin.get_by_role("button", name="Change role").click()
    expect(admin.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    expect(admin.get_by_label("Your password")).to_be_focused()
    check(admin, problems, "Confirm it's you")
    admin.get_by_label("Your password").fill("not the password")
    admin.get_by_role("button", name="Confirm and make phisher a moderator").click()
    expect(admin.get_by_role("alert")).to_contain_text("That password is not correct.")
    check(admin, problems, "Confirm it's you (a wrong password)")
    admin.get_by_label("Your password").fill(PASSWORD)
    admin.get_by_role("button", name="Confirm and make phisher a moderator").click()
    expect(admin.get_by_role("status")).to_contain_text("phisher is now a moderator.")
    assert not problems, f"{len(problems)} accessibility violations:\n" + "\n".join(problems)


@pytest.mark.usefixtures("axe_installed")
def test_setup_on_a_site_without_password_logins_is_axe_clean(new_page: PageFactory, tmp_path: Path) -> None:
    corp = {"ISSUER": "http://127.0.0.1:9", "CLIENT_ID": "conexoos", "CLIENT_SECRET": "s", "LABEL": "Corp"}
    overrides = {"LOGINS": {"local": {"ENABLED": False}, "oidc": {"corp": corp}}}
    problems: list[str] = []
    with run_live_server(tmp_path, overrides) as live:
        page = new_page(bypass_csp=True)
        page.goto(f"{live.url}/setup")
        expect(page.get_by_text("This site has no password login of its own")).to_be_visible()
        check(page, problems, "/setup (no password logins)")
        page.get_by_label("Site name").fill("Linkhaus")
        page.get_by_role("button", name="Save the site's name and sign-up policy").click()
        expect(page.get_by_role("status")).to_contain_text("are saved")
        check(page, problems, "/setup (no password logins, saved)")
    assert not problems, f"{len(problems)} accessibility violations:\n" + "\n".join(problems)


LONG_SITE_NAME = "Nachbarschaftsverein Sonnenblumenweg: Links, Termine, Fotos"  # 60, the most allowed
BRAND_LAYOUT = """brand => {
    const text = document.createRange();
    text.selectNodeContents(brand);
    const shown = brand.getBoundingClientRect(), written = text.getBoundingClientRect();
    return {
        textStart: written.left - shown.left,
        textOverrun: written.right - shown.right,
        ellipsis: getComputedStyle(brand).textOverflow === "ellipsis"
            && brand.scrollWidth > brand.clientWidth,
        pageWidth: document.documentElement.scrollWidth,
    };
}"""


def test_a_long_site_name_in_the_admin_bar_is_whole_or_cut_at_its_end(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    """The bar centred a name longer than a phone's line in its box, which cut it at both ends ("...verein
    Sonnenblumenweg: Links, Ter..." without an ellipsis): it now starts at the box, is whole where it fits
    (wrapped) and ends in an ellipsis where it does not, the full name in its title and accessible name."""
    admin = new_page()
    set_up_site(admin, live_server)
    admin.goto(f"{live_server.url}/admin/settings")
    admin.get_by_label("Site name").fill(LONG_SITE_NAME)
    admin.get_by_role("button", name="Save the settings").click()
    expect(admin.get_by_text("Saved: 1 setting changed.")).to_be_visible()
    for viewport in (
        {"width": 320, "height": 740},
        PHONE_VIEWPORT,
        {"width": 700, "height": 800},
        DESKTOP_VIEWPORT,
    ):
        admin.set_viewport_size(viewport)
        admin.goto(f"{live_server.url}/admin/users")
        brand = admin.locator(".topbar .brand")
        layout = brand.evaluate(BRAND_LAYOUT)
        assert layout["textStart"] >= -0.5, (viewport, layout)  # its first letters are not cut
        assert layout["textOverrun"] <= 0.5 or layout["ellipsis"], (viewport, layout)  # whole, or "…"
        assert layout["pageWidth"] <= viewport["width"], (viewport, layout)
        expect(brand).to_have_attribute("title", LONG_SITE_NAME)
        expect(brand).to_have_accessible_name(LONG_SITE_NAME)
