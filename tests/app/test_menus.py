"""``/admin/menus``: header and footer menus of site pages and links, shown on the home, sign-up and login
pages; entries whose page is not public are hidden from visitors; every change audit-logged."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conexoos.app.controllers import menus
from conexoos.app.models.persistent import AuditEntry, MenuItem, SitePage
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from tests.app.staff_support import make_staff
from tests.support.static_urls import unhashed

from .conftest import Account, SignUp

pytestmark = pytest.mark.database_matrix


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def make_page(app: Flask, slug: str, status: str = "published", publish_in: timedelta | None = None) -> int:
    """A site page made directly (the CMS is another feature); its id."""
    with app.app_context():
        page = SitePage(slug=slug, title=slug.title(), status=status)
        if publish_in is not None:
            page.publish_at = utcnow() + publish_in
        db.session.add(page)
        db.session.commit()
        return page.id


def add(staff: Account, menu: str, label: str, page_id: int | None = None, url: str = "") -> tuple[int, str]:
    data = {"csrf_token": staff.csrf, "label": label, "url": url}
    data.update({"kind": "page", "page_id": str(page_id)} if page_id is not None else {"kind": "link"})
    response = staff.client.post(f"/admin/menus/{menu}/add", data=data)
    return response.status_code, response.get_data(as_text=True)


def items(app: Flask, menu: str) -> list[tuple[int, str]]:
    with app.app_context():
        query = select(MenuItem.id, MenuItem.label).where(MenuItem.menu == menu).order_by(MenuItem.position)
        return [(item_id, label) for item_id, label in db.session.execute(query)]


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("menu.%")).order_by(AuditEntry.id)
            )
        )


def nav(html: str, label: str) -> list[tuple[str, str]]:
    """The (href, text) of the links of the ``<nav aria-label=label>`` of a page."""
    match = re.search(rf'<nav class="site-menu[^"]*" aria-label="{label}">(.*?)</nav>', html, re.S)
    return re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', match.group(1)) if match else []


def test_entries_show_on_home_sign_up_and_login_in_order(
    app: Flask, boss: Account, client: FlaskClient
) -> None:
    about = make_page(app, "about")
    assert add(boss, "header", "About us", page_id=about)[0] == 302
    assert add(boss, "header", "Blog", url="blog.example.org/news")[0] == 302
    assert add(boss, "footer", "Status", url="https://status.example.com/")[0] == 302
    for path in ("/", "/signup", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert nav(html, "Site") == [("/p/about", "About us"), ("https://blog.example.org/news", "Blog")], (
            path
        )
        assert nav(html, "Footer") == [("https://status.example.com/", "Status")], path
    assert nav(boss.client.get("/dashboard").get_data(as_text=True), "Site") == []  # not on private pages
    assert "site-menu" not in client.get(f"/{boss.username}").get_data(as_text=True)  # nor on profiles
    assert actions(app) == ["menu.add"] * 3


def test_an_entry_whose_page_is_not_public_is_hidden_from_visitors(
    app: Flask, boss: Account, client: FlaskClient
) -> None:
    draft = make_page(app, "draft", "draft")
    later = make_page(app, "later", "scheduled", publish_in=timedelta(days=1))
    due = make_page(app, "due", "scheduled", publish_in=timedelta(minutes=-1))
    for label, page in (("Draft", draft), ("Later", later), ("Due", due)):
        assert add(boss, "header", label, page_id=page)[0] == 302
    assert nav(client.get("/").get_data(as_text=True), "Site") == [("/p/due", "Due")]
    admin_page = boss.client.get("/admin/menus").get_data(as_text=True)
    assert admin_page.count("Hidden from visitors") == 2
    with app.app_context():
        page = db.session.get(SitePage, draft)
        assert page is not None
        page.status = "published"
        db.session.commit()
    assert [text for _, text in nav(client.get("/").get_data(as_text=True), "Site")] == ["Draft", "Due"]


@pytest.mark.parametrize(
    ("label", "url", "message"),
    [
        ("Evil", "javascript:alert(1)", "the javascript: scheme is not allowed; use http or https."),
        ("Mail", "mailto:someone@example.com", "the mailto: scheme is not allowed; use http or https."),
        ("Phone", "tel:+123456", "the tel: scheme is not allowed; use http or https."),
        ("", "https://example.com/", "1 to 60 characters"),
        ("   ", "https://example.com/", "1 to 60 characters"),
        ("x" * 61, "https://example.com/", "1 to 60 characters"),
        ("Evil\u202eeno", "https://example.com/", "right-to-left overrides"),
        ("Bell\x07", "https://example.com/", "control characters"),
        ("Empty", "", "Give the link"),
        ("Creds", "https://user:pw@example.com/", "user name or password"),
    ],
)
def test_refused_entries_say_why_and_keep_the_values(
    app: Flask, boss: Account, label: str, url: str, message: str
) -> None:
    status, page = add(boss, "footer", label, url=url)
    assert status == 422 and message in page
    if url and "\x07" not in url:
        assert 'value="' + url.replace("&", "&amp;") + '"' in page
    assert items(app, "footer") == [] and actions(app) == []


def test_a_very_long_address_is_refused_without_being_repeated(app: Flask, boss: Account) -> None:
    for url in ("https://example.com/" + "a" * 3000, "https://" + "b" * 300 + "!.example/"):
        status, html = add(boss, "header", "Long", url=url)
        error = re.search(r'<p id="header-url-error" class="errors">([^<]*)</p>', html)
        assert status == 422 and error is not None and len(error[1]) < 200, error
    assert items(app, "header") == []


def test_a_page_that_does_not_exist_is_refused(app: Flask, boss: Account) -> None:
    assert add(boss, "header", "Ghost", page_id=999)[0] == 422
    response = boss.client.post(
        "/admin/menus/header/add",
        data={"csrf_token": boss.csrf, "label": "X", "kind": "page", "page_id": "1e3"},
    )
    assert response.status_code == 422 and "Choose one of the site" in response.get_data(as_text=True)
    assert items(app, "header") == []


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"label": "L" * 500, "kind": "link", "url": "https://example.org/"}, "A label has 1 to"),
        ({"label": "Long", "kind": "link", "url": "https://example.org/" + "u" * 5000}, "holds at most"),
        ({"label": "Page", "kind": "page", "page_id": "99999999999999"}, "Choose one of the site"),
    ],
)
def test_a_value_too_long_to_be_one_is_refused_under_its_field(
    app: Flask, boss: Account, fields: dict[str, str], words: str
) -> None:
    """They were a bare 400 page, the form lost."""
    response = boss.client.post("/admin/menus/header/add", data={"csrf_token": boss.csrf, **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and words in html and 'aria-invalid="true"' in html
    assert items(app, "header") == []


@pytest.mark.parametrize("kind", ["evil", "", "PAGE"])
def test_an_entry_of_no_known_kind_is_refused(app: Flask, boss: Account, kind: str) -> None:
    """It was stored as a link, whatever the form said."""
    response = boss.client.post(
        "/admin/menus/header/add",
        data={"csrf_token": boss.csrf, "label": "Kind?", "kind": kind, "url": "https://example.org/"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="header-kind-error"' in html and "a page of this site" in html
    assert items(app, "header") == []


def test_a_blocked_domain_is_refused(app: Flask, boss: Account) -> None:
    assert (
        boss.client.post(
            "/admin/blocklist/add", data={"csrf_token": boss.csrf, "domain": "evil.example"}
        ).status_code
        == 302
    )
    status, page = add(boss, "header", "Prize", url="https://login.evil.example/win")
    assert status == 422 and "evil.example are not allowed on this site" in page
    assert items(app, "header") == []


def test_an_entry_to_a_domain_blocked_later_is_hidden_from_visitors(
    app: Flask, boss: Account, client: FlaskClient
) -> None:
    assert add(boss, "footer", "Partner", url="https://shop.later.example/")[0] == 302
    assert add(boss, "footer", "Friend", url="https://friend.example/")[0] == 302
    assert "https://shop.later.example/" in client.get("/").get_data(as_text=True)
    blocked = boss.client.post(
        "/admin/blocklist/add", data={"csrf_token": boss.csrf, "domain": "later.example"}
    )
    assert blocked.status_code == 302
    for path in ("/", "/login", "/signup"):
        html = client.get(path).get_data(as_text=True)
        assert "shop.later.example" not in html and "https://friend.example/" in html, path
    admin_view = boss.client.get("/admin/menus").get_data(as_text=True)
    assert "its domain is on the blocklist" in admin_view


def test_labels_and_urls_are_escaped(app: Flask, boss: Account, client: FlaskClient) -> None:
    assert (
        add(boss, "header", '<img src=x onerror="alert(1)">', url='https://example.com/?q="><script>')[0]
        == 302
    )
    html = client.get("/").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=" in html


def test_moving_up_and_down_without_javascript(app: Flask, boss: Account) -> None:
    for label in ("One", "Two", "Three"):
        add(boss, "footer", label, url=f"https://example.com/{label}")
    (one, _), (two, _), (three, _) = items(app, "footer")
    move = {"csrf_token": boss.csrf, "direction": "up"}
    assert boss.client.post(f"/admin/menus/{three}/move", data=move).status_code == 302
    assert [label for _, label in items(app, "footer")] == ["One", "Three", "Two"]
    assert boss.client.post(f"/admin/menus/{one}/move", data={**move, "direction": "down"}).status_code == 302
    assert [label for _, label in items(app, "footer")] == ["Three", "One", "Two"]
    assert boss.client.post(f"/admin/menus/{three}/move", data=move).status_code == 302  # already first
    assert [label for _, label in items(app, "footer")] == ["Three", "One", "Two"]
    assert (
        boss.client.post(f"/admin/menus/{two}/move", data={**move, "direction": "sideways"}).status_code
        == 400
    )
    assert actions(app).count("menu.reorder") == 2
    page = boss.client.get("/admin/menus").get_data(as_text=True)
    assert 'name="direction" value="up"' in page and "js/sortable.js" in unhashed(page)


def test_reordering_by_dragging_saves_the_posted_order(app: Flask, boss: Account) -> None:
    for label in ("One", "Two", "Three"):
        add(boss, "header", label, url=f"https://example.com/{label}")
    add(boss, "footer", "Elsewhere", url="https://example.com/elsewhere")
    (one, _), (two, _), (three, _) = items(app, "header")
    [(elsewhere, _)] = items(app, "footer")
    saved = boss.api("POST", "/admin/menus/header/order", {"ids": [three, one, two]})
    assert saved.status_code == 200 and saved.get_json() == {"ids": [three, one, two]}
    assert [label for _, label in items(app, "header")] == ["Three", "One", "Two"]
    incomplete = boss.api("POST", "/admin/menus/header/order", {"ids": [one, two]})
    assert incomplete.status_code == 422 and incomplete.get_json()["error"]["code"] == "incomplete"
    assert incomplete.get_json()["error"]["message"].startswith("Your menu entries changed in another tab")
    other_menus = boss.api("POST", "/admin/menus/header/order", {"ids": [three, one, two, elsewhere]})
    assert other_menus.status_code == 422 and other_menus.get_json()["error"]["code"] == "other_menu"
    assert other_menus.get_json()["error"]["message"].startswith(
        f"Menu entry {elsewhere} is in the footer menu, not the header menu"
    )
    gone = boss.api("POST", "/admin/menus/header/order", {"ids": [three, one, two, elsewhere + 100]})
    assert gone.status_code == 404
    assert "One of these menu entries no longer exists" in gone.get_data(as_text=True)
    malformed = boss.api("POST", "/admin/menus/header/order", {"ids": "1,2"})
    assert malformed.status_code == 422
    not_json = boss.client.post("/admin/menus/header/order", data={"csrf_token": boss.csrf})
    assert not_json.status_code == 400
    assert [label for _, label in items(app, "header")] == ["Three", "One", "Two"]
    assert actions(app).count("menu.reorder") == 1


def test_editing_and_deleting(app: Flask, boss: Account, client: FlaskClient) -> None:
    terms = make_page(app, "terms")
    add(boss, "header", "Old", url="https://example.com/")
    [(entry, _)] = items(app, "header")
    form = boss.client.get(f"/admin/menus/{entry}/edit").get_data(as_text=True)
    assert 'value="Old"' in form and 'value="https://example.com/"' in form
    refused = boss.client.post(
        f"/admin/menus/{entry}/edit",
        data={"csrf_token": boss.csrf, "label": "", "kind": "link", "url": "x.org"},
    )
    assert refused.status_code == 422 and 'value="x.org"' in refused.get_data(as_text=True)
    saved = boss.client.post(
        f"/admin/menus/{entry}/edit",
        data={"csrf_token": boss.csrf, "label": "Terms", "kind": "page", "page_id": str(terms), "url": ""},
    )
    assert saved.status_code == 302
    assert nav(client.get("/").get_data(as_text=True), "Site") == [("/p/terms", "Terms")]
    assert boss.client.post(f"/admin/menus/{entry}/delete", data={"csrf_token": boss.csrf}).status_code == 302
    assert items(app, "header") == [] and nav(client.get("/").get_data(as_text=True), "Site") == []
    again = boss.client.post(f"/admin/menus/{entry}/delete", data={"csrf_token": boss.csrf})
    assert again.status_code == 302  # said above the menus: see the test of another tab's removal
    assert boss.client.get(f"/admin/menus/{entry}/edit").status_code == 404
    assert actions(app) == ["menu.add", "menu.edit", "menu.delete"]


def test_deleting_a_page_removes_its_entries_with_an_audit_entry_each(
    app: Flask, client: FlaskClient, boss: Account, signed_up: SignUp
) -> None:
    draft = make_page(app, "draft")
    assert add(boss, "header", "Draft", page_id=draft)[0] == 302
    assert add(boss, "footer", "Draft too", page_id=draft)[0] == 302
    assert add(boss, "footer", "Elsewhere", url="https://example.org")[0] == 302
    moderator = make_staff(app, signed_up("moddy"), "moderator")  # may delete pages, not edit menus
    deleted = moderator.client.post(f"/admin/pages/{draft}/delete", data={"csrf_token": moderator.csrf})
    assert deleted.status_code == 302
    assert items(app, "header") == [] and [label for _, label in items(app, "footer")] == ["Elsewhere"]
    with app.app_context():
        query = select(AuditEntry.actor_name, AuditEntry.summary).where(AuditEntry.action == "menu.delete")
        removed = db.session.execute(query.order_by(AuditEntry.id)).all()
    assert sorted(removed) == [
        ("moddy", "footer menu: removed 'Draft too' with its page"),
        ("moddy", "header menu: removed 'Draft' with its page"),
    ]


def test_menus_are_for_administrators_only(app: Flask, signed_up: SignUp) -> None:
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    for account in (moderator, signed_up("plain")):
        assert account.client.get("/admin/menus").status_code == 404
        assert add(account, "header", "Mine", url="https://example.com/")[0] == 404
    assert items(app, "header") == []


def test_sign_up_links_the_terms_and_privacy_pages_that_are_public(app: Flask, client: FlaskClient) -> None:
    def line() -> str:
        html = client.get("/signup").get_data(as_text=True)
        found = re.search(r'<p class="signup-terms">(.*?)</p>', html, re.S)
        return re.sub(r"\s+", " ", found.group(1)).strip() if found else ""

    assert line() == ""
    make_page(app, "privacy", "draft")
    assert line() == ""
    terms = make_page(app, "terms")
    assert line() == 'By signing up you accept the <a href="/p/terms">Terms</a>.'
    with app.app_context():
        privacy = db.session.scalars(select(SitePage).where(SitePage.slug == "privacy")).one()
        privacy.status = "published"
        db.session.commit()
    assert line() == (
        'By signing up you accept the <a href="/p/terms">Terms</a> and the '
        '<a href="/p/privacy">Privacy policy</a>.'
    )
    with app.app_context():
        page = db.session.get(SitePage, terms)
        assert page is not None
        page.status = "draft"
        db.session.commit()
    assert line() == 'By signing up you accept the <a href="/p/privacy">Privacy policy</a>.'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=st.text(max_size=80), url=st.text(max_size=120))
def test_any_label_and_address_is_saved_or_refused_with_a_sentence(app: Flask, label: str, url: str) -> None:
    """Whatever the form holds, an entry is saved with a label of 1-60 visible characters and an http(s)
    address, or refused with a MenuError (never another exception)."""
    with app.test_request_context():
        try:
            item = menus.add("footer", menus.EntryInput(label, url=url))
        except menus.MenuError as error:
            assert error.field in ("label", "url") and error.message
            db.session.rollback()
            return
        assert 1 <= len(item.label) <= 60 and item.label == item.label.strip()
        assert item.url is not None and item.url.startswith(("http://", "https://"))
        db.session.delete(item)
        db.session.commit()


def test_a_move_from_a_page_shown_before_another_tabs_reorder_moves_nothing(
    app: Flask, boss: Account
) -> None:
    for label in ("One", "Two", "Three"):
        add(boss, "header", label, url=f"https://example.com/{label}")
    (one, _), (two, _), (three, _) = items(app, "header")
    page = boss.client.get("/admin/menus").get_data(as_text=True)
    shown = re.findall(r'name="shown" value="([^"]*)"', page)
    assert shown[:3] == [f"{one},{two},{three}"] * 3  # each entry's form carries its menu's order
    order = {"ids": [three, one, two], "previous": [one, two, three]}
    assert boss.api("POST", "/admin/menus/header/order", order).status_code == 200
    stale = {"csrf_token": boss.csrf, "direction": "up", "shown": shown[0]}
    response = boss.client.post(f"/admin/menus/{two}/move", data=stale)  # Two was below One when shown
    assert response.status_code == 302 and not response.location.endswith("#header-menu")
    assert [label for _, label in items(app, "header")] == ["Three", "One", "Two"]  # nothing moved
    message = boss.client.get(response.location).get_data(as_text=True)
    assert "The header menu was changed in another tab or window since this page was shown" in message
    fresh = {**stale, "shown": f"{three},{one},{two}"}
    assert boss.client.post(f"/admin/menus/{two}/move", data=fresh).status_code == 302
    assert [label for _, label in items(app, "header")] == ["Three", "Two", "One"]


@pytest.mark.parametrize("shown", ["1,x", "1,,2", "-1", "١", "1" * 13])
def test_a_malformed_shown_order_is_a_400(app: Flask, boss: Account, shown: str) -> None:
    add(boss, "header", "One", url="https://example.com/one")
    [(one, _)] = items(app, "header")
    data = {"csrf_token": boss.csrf, "direction": "up", "shown": shown}
    response = boss.client.post(f"/admin/menus/{one}/move", data=data)
    assert response.status_code == 400
    assert "The field shown lists the menu&#39;s entry ids" in response.get_data(as_text=True)


def test_moving_or_deleting_an_entry_removed_in_another_tab_says_so_above_the_menus(
    app: Flask, boss: Account
) -> None:
    """A bare 404 page ("There is no such menu entry") was all a no-JS ↑/↓ or Delete got."""
    add(boss, "footer", "Gone", url="https://example.com/gone")
    add(boss, "footer", "Kept", url="https://example.com/kept")
    (gone, _), _ = items(app, "footer")
    assert boss.client.post(f"/admin/menus/{gone}/delete", data={"csrf_token": boss.csrf}).status_code == 302
    move = {"csrf_token": boss.csrf, "direction": "down", "shown": ""}
    for path, data in ((f"/admin/menus/{gone}/move", move), (f"/admin/menus/{gone}/delete", move)):
        response = boss.client.post(path, data=data)
        assert response.status_code == 302 and response.location.endswith("/admin/menus")
        page = boss.client.get(response.location).get_data(as_text=True)
        assert page.count("That menu entry no longer exists: it was removed in another tab or window.") == 1
    assert [label for _, label in items(app, "footer")] == ["Kept"]
