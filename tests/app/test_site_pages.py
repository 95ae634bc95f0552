"""Site pages through HTTP: staff write, preview, publish, schedule, revise, compare and restore pages at
``/admin/pages``; visitors see ``/p/<slug>`` only once it is public; every action is audit-logged."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.test import TestResponse

from conexoos.app.blueprints import admin_pages as editor_view
from conexoos.app.controllers import site_pages
from conexoos.app.models.persistent import AuditEntry, MediaItem
from conexoos.app.models.persistent.site_page import SitePage, SitePageRevision
from conexoos.framework import db
from conexoos.framework.urls import CONFIG_NAME
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp
from .media_library_support import one_page_pdf, png
from .media_library_support import upload as upload_media

pytestmark = pytest.mark.database_matrix

XSS = "<script>alert(1)</script>"
XSS_ATTRIBUTE = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def mod(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("moddy"), "moderator")


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def fields(**changes: Any) -> dict[str, Any]:
    base = {
        "title": "Terms of use",
        "slug": "terms",
        "description": "The rules of this site.",
        "social_image": "",
        "body": "# Terms\n\nBe kind.\n",
        "status": "draft",
        "publish_at": "",
        "note": "",
        "action": "save",
    }
    return {**base, **changes}


def post_page(staff: Account, url: str = "/admin/pages/new", **changes: Any) -> TestResponse:
    return staff.client.post(url, data={"csrf_token": staff.csrf, **fields(**changes)})


def create(staff: Account, **changes: Any) -> int:
    response = post_page(staff, **changes)
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/admin/pages/(\d+)/edit$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def edit(staff: Account, page_id: int, **changes: Any) -> TestResponse:
    return post_page(staff, f"/admin/pages/{page_id}/edit", **changes)


def page_of(app: Flask, page_id: int) -> SitePage | None:
    with app.app_context():
        page = db.session.get(SitePage, page_id)
        if page is not None:
            db.session.expunge(page)
        return page


def revision_ids(app: Flask, page_id: int) -> list[tuple[int, int, str]]:
    """(id, number, note) of the page's revisions, oldest first."""
    with app.app_context():
        query = select(SitePageRevision).where(SitePageRevision.page_id == page_id)
        found = db.session.scalars(query.order_by(SitePageRevision.number)).all()
        return [(revision.id, revision.number, revision.note) for revision in found]


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        query = select(AuditEntry.action, AuditEntry.actor_name).where(AuditEntry.action.like("site_page.%"))
        return [(action, actor) for action, actor in db.session.execute(query.order_by(AuditEntry.id))]


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_a_draft_is_seen_by_staff_only_then_published_for_everyone(
    app: Flask, client: FlaskClient, alice: Account, mod: Account, boss: Account
) -> None:
    page_id = create(mod)
    assert client.get("/p/terms").status_code == 404
    assert alice.client.get("/p/terms").status_code == 404
    for staff in (mod, boss):
        preview = staff.client.get("/p/terms")
        assert preview.status_code == 200
        assert "Draft — only staff see this" in text(preview)
        assert preview.headers["Cache-Control"] == "no-store"
    assert edit(mod, page_id, status="published").status_code == 302
    shown = client.get("/p/terms")
    assert shown.status_code == 200
    html = text(shown)
    assert "Draft" not in html and "<h1>Terms</h1>" in html and "<p>Be kind.</p>" in html
    assert "<title>Terms of use · " in html
    assert '<meta name="description" content="The rules of this site.">' in html
    assert '<link rel="canonical" href="http://localhost/p/terms">' in html
    assert shown.headers["Cache-Control"] == "public, max-age=60"
    assert "Edit the page" not in html
    assert "Edit the page" not in text(alice.client.get("/p/terms"))
    as_staff = mod.client.get("/p/terms")
    assert f'<a href="/admin/pages/{page_id}/edit">Edit the page</a>' in text(as_staff)
    assert as_staff.headers["Cache-Control"] == "no-store"  # signed in: never cached, edit link and all
    page = page_of(app, page_id)
    assert page is not None and page.status == "published" and page.published_at is not None
    assert [number for _, number, _ in revision_ids(app, page_id)] == [1, 2]
    assert audit_actions(app) == [("site_page.create", "moddy"), ("site_page.update", "moddy")]


def test_an_unknown_or_malformed_address_is_a_404(client: FlaskClient, mod: Account) -> None:
    for path in ("/p/nothing", "/p/UPPER", "/p/" + "a" * 200, "/p/%C3%BC"):
        assert client.get(path).status_code == 404
        assert mod.client.get(path).status_code == 404


def test_the_list_of_pages_is_paged_like_every_admin_list(app: Flask, mod: Account) -> None:
    with app.app_context():
        for number in range(editor_view.PAGE_SIZE + 1):
            db.session.add(SitePage(slug=f"page-{number}", title=f"Page {number}", status="draft"))
        db.session.commit()
    first = text(mod.client.get("/admin/pages"))
    assert first.count("/admin/pages/") - first.count("/admin/pages/new") >= editor_view.PAGE_SIZE
    assert "Page 1 of 2 (51 site pages)" in first and 'href="/admin/pages?page=2" rel="next"' in first
    second = mod.client.get("/admin/pages?page=2")
    assert second.status_code == 200 and text(second).count("/edit") == 1
    assert mod.client.get("/admin/pages?page=3").status_code == 404
    for bad in ("abc", "0", "100001"):
        refused = mod.client.get(f"/admin/pages?page={bad}")
        assert refused.status_code == 400 and "page is a whole number" in text(refused)


def test_a_scheduled_page_needs_a_future_time_and_the_task_publishes_it(
    app: Flask, client: FlaskClient, mod: Account
) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = post_page(mod, status="scheduled", publish_at=past)
    assert refused.status_code == 422 and "The time to publish is in the past" in text(refused)
    missing = post_page(mod, status="scheduled")
    assert missing.status_code == 422 and "needs the time to publish" in text(missing)
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    page_id = create(mod, status="scheduled", publish_at=soon.strftime("%Y-%m-%dT%H:%M"))
    assert client.get("/p/terms").status_code == 404
    banner = text(mod.client.get("/p/terms"))
    assert "Draft — only staff see this" in banner and soon.strftime("%Y-%m-%d at %H:%M UTC") in banner
    listed = text(mod.client.get("/admin/pages"))
    assert soon.strftime("%Y-%m-%d %H:%M") in listed and "scheduled" in listed
    with app.app_context():
        assert site_pages.publish_due() == 0  # not yet
        # The time comes: visitors see the page at once, before the task has run.
        page = db.session.get(SitePage, page_id)
        assert page is not None
        page.publish_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    assert client.get("/p/terms").status_code == 200
    task = app.extensions["conexoos"].scheduler.tasks["site-pages-publish"]
    assert task.interval == 60
    with app.app_context():
        assert task.function() == 1  # what the scheduler runs every minute
        assert task.function() == 0
    page = page_of(app, page_id)
    assert page is not None and page.status == "published" and page.published_at is not None
    assert revision_ids(app, page_id)[-1][1:] == (2, "Published on schedule")
    assert audit_actions(app)[-1] == ("site_page.publish", "schedule")
    assert client.get("/p/terms").status_code == 200


def test_the_revisions_are_paged_like_every_admin_list(app: Flask, mod: Account) -> None:
    """A page saved hundreds of times listed every revision on one page, and ignored ?page=."""
    page_id = create(mod)
    with app.app_context():
        for number in range(2, editor_view.PAGE_SIZE + 2):  # revision 1 is the creation's
            db.session.add(
                SitePageRevision(page_id=page_id, number=number, slug="terms", title="T", status="draft")
            )
        db.session.commit()
    address = f"/admin/pages/{page_id}/revisions"
    first = text(mod.client.get(address))
    restore = re.compile(r'action="/admin/pages/\d+/revisions/\d+/restore"')
    assert "Page 1 of 2 (51 revisions)" in first and f'href="{address}?page=2" rel="next"' in first
    assert len(restore.findall(first)) == editor_view.PAGE_SIZE - 1  # not the newest: it is the page now
    second = text(mod.client.get(f"{address}?page=2"))
    assert "<td>1</td>" in second and len(restore.findall(second)) == 1  # the oldest can be restored
    assert mod.client.get(f"{address}?page=3").status_code == 404
    for bad in ("abc", "0"):
        refused = mod.client.get(f"{address}?page={bad}")
        assert refused.status_code == 400 and "page is a whole number" in text(refused)


def test_revisions_diff_and_restore(app: Flask, client: FlaskClient, mod: Account) -> None:
    page_id = create(mod, body="First line\nKept line\n", status="published")
    assert (
        edit(
            mod,
            page_id,
            title="Terms v2",
            body="Second line\nKept line\n",
            note="reworded",
            status="published",
        ).status_code
        == 302
    )
    revisions = revision_ids(app, page_id)
    assert [(number, note) for _, number, note in revisions] == [(1, ""), (2, "reworded")]
    listing = text(mod.client.get(f"/admin/pages/{page_id}/revisions"))
    assert "reworded" in listing and "moddy" in listing
    second_id = revisions[1][0]
    changes = text(mod.client.get(f"/admin/pages/{page_id}/revisions/{second_id}"))
    assert re.search(
        r'class="remove"><span class="mark" aria-hidden="true">\u2212</span>.*First line', changes
    )
    assert re.search(r'class="add"><span class="mark" aria-hidden="true">\+</span>.*Second line', changes)
    assert re.search(r'class="same">.*Kept line', changes)
    assert "<td>Terms of use</td><td>Terms v2</td>" in changes
    first = text(mod.client.get(f"/admin/pages/{page_id}/revisions/{revisions[0][0]}"))
    assert "is the first" in first and "First line" in first
    restored = mod.client.post(
        f"/admin/pages/{page_id}/revisions/{revisions[0][0]}/restore", data={"csrf_token": mod.csrf}
    )
    assert restored.status_code == 302
    page = page_of(app, page_id)
    assert page is not None
    assert (page.title, page.body, page.status) == ("Terms of use", "First line\nKept line\n", "published")
    assert revision_ids(app, page_id)[-1][1:] == (3, "Restored revision 1")
    assert "First line" in text(client.get("/p/terms"))
    assert audit_actions(app)[-1] == ("site_page.restore", "moddy")


def based_on(response: TestResponse) -> str:
    """The editor's hidden ``based_on`` field: the newest revision it was opened on."""
    match = re.search(r'<input id="based_on" name="based_on" type="hidden" value="(\d*)">', text(response))
    assert match, text(response)
    return match.group(1)


def test_a_save_over_a_newer_revision_is_refused_once(app: Flask, mod: Account, boss: Account) -> None:
    page_id = create(mod, status="published", body="Call 0100.")
    opened_by_boss = based_on(boss.client.get(f"/admin/pages/{page_id}/edit"))
    opened_by_mod = based_on(mod.client.get(f"/admin/pages/{page_id}/edit"))
    assert opened_by_boss == opened_by_mod == "1"
    assert (
        edit(mod, page_id, status="published", body="Call 0200.", based_on=opened_by_mod).status_code == 302
    )
    stale = edit(boss, page_id, status="published", body="Call 0100, or write.", based_on=opened_by_boss)
    assert stale.status_code == 409
    assert "Someone saved this page since you opened it: revision 2 by moddy." in text(stale)
    assert "Call 0100, or write." in text(stale)  # the writer's text is kept in the form
    assert page_of(app, page_id).body == "Call 0200."  # type: ignore[union-attr]
    assert len(revision_ids(app, page_id)) == 2  # nothing saved
    again = edit(boss, page_id, status="published", body="Call 0100, or write.", based_on=based_on(stale))
    assert again.status_code == 302  # saved knowingly, over what they saw
    assert page_of(app, page_id).body == "Call 0100, or write."  # type: ignore[union-attr]
    # a form that does not say what it was opened on (a script) is not checked
    assert edit(mod, page_id, status="published", body="Scripted.").status_code == 302
    for unreadable in ("abc", "-5", "\u0661"):  # was read as "none": the check of a later save skipped
        refused = edit(mod, page_id, status="published", body="Over it.", based_on=unreadable)
        assert refused.status_code == 400 and "based_on" in text(refused), unreadable
    assert page_of(app, page_id).body == "Scripted."  # type: ignore[union-attr]


def test_a_revision_of_another_page_is_a_404(app: Flask, mod: Account) -> None:
    first = create(mod)
    second = create(mod, slug="privacy", title="Privacy")
    other_revision = revision_ids(app, second)[0][0]
    assert mod.client.get(f"/admin/pages/{first}/revisions/{other_revision}").status_code == 404
    restore = mod.client.post(
        f"/admin/pages/{first}/revisions/{other_revision}/restore", data={"csrf_token": mod.csrf}
    )
    assert restore.status_code == 404
    assert mod.client.get("/admin/pages/999999/edit").status_code == 404


def test_restoring_an_address_another_page_took_is_refused(app: Flask, mod: Account) -> None:
    page_id = create(mod, slug="help")
    assert edit(mod, page_id, slug="faq").status_code == 302
    create(mod, slug="help", title="New help")
    first = revision_ids(app, page_id)[0][0]
    response = mod.client.post(
        f"/admin/pages/{page_id}/revisions/{first}/restore", data={"csrf_token": mod.csrf}
    )
    assert response.status_code == 409
    assert "Another page already lives at /p/help" in text(response)
    assert len(revision_ids(app, page_id)) == 2


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("", "Give the page an address"),
        ("Terms", "only lowercase letters a-z, digits and hyphens"),
        ("terms of use", "only lowercase letters a-z, digits and hyphens"),
        ("für", "only lowercase letters a-z, digits and hyphens"),
        ("terms/../x", "only lowercase letters a-z, digits and hyphens"),
        ("---", "at least one letter or digit"),
        ("a" * 81, "at most 80 characters"),
    ],
)
def test_slug_rules_are_explained(app: Flask, mod: Account, slug: str, message: str) -> None:
    response = post_page(mod, slug=slug)
    assert response.status_code == 422
    assert message in text(response)
    assert 'aria-invalid="true"' in text(response)
    with app.app_context():
        assert db.session.scalar(select(SitePage.id)) is None


def test_a_taken_slug_is_refused_on_create_and_on_edit(app: Flask, mod: Account) -> None:
    create(mod, slug="terms")
    other = create(mod, slug="privacy", title="Privacy")
    assert "Another page already lives at /p/terms" in text(post_page(mod, slug="terms"))
    refused = edit(mod, other, slug="terms")
    assert refused.status_code == 422 and "Another page already lives at /p/terms" in text(refused)
    assert edit(mod, other, slug="privacy", title="Privacy!").status_code == 302  # its own slug is fine


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 121}, "At most 120 characters"),
        ({"description": "x" * 301}, "At most 300 characters"),
        ({"description": "two\nlines"}, "Remove the control characters"),
        ({"title": "evil\u202egnp.exe"}, "Remove the bidirectional controls"),
        ({"body": "Hello \u202eevil\u202c world"}, "Remove the bidirectional controls"),
        ({"social_image": "javascript:alert(1)"}, "an https:// address of an image"),
        ({"social_image": "http://cdn.example/a.png"}, "an https:// address of an image"),
        ({"social_image": "/media/../admin"}, "/admin is a page of this site, not an image"),
        ({"social_image": "https://u:p@evil.example/x.png"}, "without a user name or password"),
        ({"social_image": 'https://cdn.example/a.png"><script>'}, "cannot hold quotes, angle brackets"),
        ({"social_image": "https://cdn.example/{a}.png"}, "write them percent-encoded"),
        (
            {"social_image": "https://cdn.example/a b.png"},
            "cannot hold spaces, tabs, line breaks or backslashes",
        ),
        ({"social_image": "https://cdn.example/a\\b.png"}, "write a space as %20"),
        ({"social_image": "https://cdn.example/\u202egnp.exe"}, "Remove the bidirectional controls"),
        (
            {"social_image": "https://cdn.example:99999/a.png"},
            "This address cannot be fetched: not a valid URL",
        ),
        ({"social_image": "https://cdn_example/a.png"}, "is not a valid host name."),
        ({"body": "Logo: ![logo](https://cdn.example/logo.png)"}, "Images come from the media library"),
        ({"body": "x" * (site_pages.BODY_MAX + 1)}, "at most 100,000 characters"),
        ({"body": "nul\x00byte"}, "Remove the control characters"),
        ({"body": "".join(f"{'  ' * n}- level {n}\n" for n in range(10)) + "\nAfter"}, "from line 10 on"),
        ({"body": ">" * 30 + " deep\n\nAfter"}, "nest too deeply from line 1 on"),
        ({"body": "See [the panel](../admin)."}, "../admin cannot be a link"),
        ({"body": "[away](//evil.example/x)"}, "//evil.example/x cannot be a link"),
        ({"body": "[nowhere]()"}, "A link has no address"),
        ({"body": "[click](JaVaScRiPt:alert(1))"}, "JaVaScRiPt:alert(1) cannot be a link"),
        ({"body": "[v](vbscript:msgbox)"}, "vbscript:msgbox cannot be a link"),
        ({"body": "[f](file:///etc/passwd)"}, "file:///etc/passwd cannot be a link"),
        ({"body": "[z](data:text/html,hi)"}, "data:text/html,hi cannot be a link"),
        ({"body": "[x][1]\n\n[1]: javascript:alert(1)"}, "javascript:alert(1) cannot be a link"),
        ({"body": "<javascript:alert(1)>"}, "javascript:alert(1) cannot be a link"),
        ({"body": "![i](data:image/png;base64,AAAA)"}, "Images come from the media library"),
        ({"body": "![a](/media/library/0123456789abcdef-960.webp)"}, "No image of the media library is at"),
        ({"body": "![a](/media/avatars/x.png)"}, "No image of the media library is at /media/avatars/x.png"),
        ({"status": "live"}, "Choose a status"),
        ({"publish_at": "tomorrow", "status": "scheduled"}, "Not a valid datetime value"),
    ],
)
def test_field_limits_are_explained(app: Flask, mod: Account, changes: dict[str, str], message: str) -> None:
    response = post_page(mod, **changes)
    assert response.status_code == 422
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(select(SitePage.id)) is None


def test_social_image_and_canonical_are_absolute_from_the_public_url(
    client: FlaskClient, mod: Account
) -> None:
    cover = library_addresses(mod, png((1200, 630)), "cover.png")[0]
    create(mod, status="published", social_image=cover)
    html = text(client.get("/p/terms"))
    assert f'<meta property="og:image" content="http://localhost{cover}">' in html
    assert '<meta property="og:url" content="http://localhost/p/terms">' in html
    create(mod, slug="about", title="About", status="published", social_image="https://cdn.example/a.png")
    assert '<meta property="og:image" content="https://cdn.example/a.png">' in text(client.get("/p/about"))


def library_addresses(staff: Account, data: bytes, filename: str) -> list[str]:
    """Upload ``data`` to the media library as ``staff``; the addresses its files are served at."""
    assert upload_media(staff, data, filename, alt_text="A cover").status_code == 302
    with staff.client.application.app_context():
        item = db.session.scalars(select(MediaItem).order_by(MediaItem.id.desc())).first()
        assert item is not None
        return [f"/media/{rendition.name}" for rendition in item.renditions] + [f"/media/library/{item.id}/"]


def test_a_social_image_of_this_site_must_be_an_image_of_the_media_library(
    app: Flask, client: FlaskClient, mod: Account
) -> None:
    image = library_addresses(mod, png((1200, 630)), "cover.png")
    pdf_stored, pdf_download = library_addresses(mod, one_page_pdf(), "Resume (q).pdf")
    refused = {
        "/media/nonexistent.webp": "No image of the media library is at /media/nonexistent.webp",
        image[0].replace("-", "-9", 1): "No image of the media library is at",
        "/media/img/avatars/0123456789abcdef0123456789abcdef.webp": "No image of the media library",
        pdf_download + "Resume__q_.pdf": "is a PDF, not an image",
        pdf_stored: "is a PDF, not an image",
    }
    for address, message in refused.items():
        response = post_page(mod, social_image=address)
        assert response.status_code == 422, address
        assert message in text(response), address
    with app.app_context():
        assert db.session.scalar(select(SitePage.id)) is None

    page_id = create(mod, status="published", social_image=image[0])
    assert f'content="http://localhost{image[0]}"' in text(client.get("/p/terms"))
    assert edit(mod, page_id, social_image="/media/nonexistent.webp").status_code == 422
    assert (page := page_of(app, page_id)) is not None and page.social_image == image[0]


def test_this_sites_media_written_with_its_public_url_is_checked_too(
    app: Flask, mod: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = library_addresses(mod, png((640, 480)), "cover.png")[0]
    monkeypatch.setitem(app.config, CONFIG_NAME, "https://links.example")
    response = post_page(mod, social_image="https://links.example/media/nonexistent.webp")
    assert response.status_code == 422
    assert "No image of the media library is at /media/nonexistent.webp" in text(response)
    page_id = create(mod, social_image=f"https://links.example{image}")
    monkeypatch.setitem(app.config, CONFIG_NAME, "http://127.0.0.1:5000")  # a site served over http
    assert edit(mod, page_id, social_image=f"http://127.0.0.1:5000{image}").status_code == 302
    refused = edit(mod, page_id, social_image="http://127.0.0.1:5000/media/avatars/x.png")
    assert refused.status_code == 422 and "No image of the media library is at /media/avatars/x.png" in text(
        refused
    )


def test_every_spelling_of_this_sites_address_is_checked_as_this_sites(
    app: Flask, mod: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's case, the default port, a trailing dot, doubled slashes, dot segments and
    percent-encoded letters each passed a PDF, a missing file or an avatar off as an outside image
    (outside tester): they name this site's files as the server reads them."""
    image = library_addresses(mod, png((640, 480)), "cover.png")[0]
    pdf = library_addresses(mod, one_page_pdf(), "Resume.pdf")[0]
    monkeypatch.setitem(app.config, CONFIG_NAME, "https://links.example.org")
    folder, name = pdf.rsplit("/", 1)
    refused = {
        f"https://LINKS.example.org{pdf}": "is a PDF, not an image",
        f"https://links.example.org:443{pdf}": "is a PDF, not an image",
        f"https://links.example.org.{pdf}": "is a PDF, not an image",
        f"https://links.example.org/{pdf}": "is a PDF, not an image",
        f"https://links.example.org{folder}/../{folder.rsplit('/', 1)[1]}/{name}": "is a PDF, not an image",
        f"https://links.example.org/%6dedia{pdf.removeprefix('/media')}": "is a PDF, not an image",
        f"https://links.example.org/MEDIA{pdf.removeprefix('/media')}": "not an image of its media library",
        "https://LINKS.example.org/media/library/nope-960.webp": "No image of the media library is at",
        "https://links.example.org:443/media/avatars/whatever.webp": "No image of the media library is at",
        "https://links.example.org/about": "is a page of this site, not an image of its media library",
        # Re-check: a host in other letters, as browsers and fetchers read it (IDNA).
        f"https://links\u3002example\uff0eorg{pdf}": "is a PDF, not an image",
        f"https://\uff4cinks.example.org{pdf}": "is a PDF, not an image",
        f"https://lin\u00adks.example.org{pdf}": "is a PDF, not an image",
    }
    for address, message in refused.items():
        response = post_page(mod, social_image=address)
        assert response.status_code == 422, address
        assert message in text(response), (address, text(response)[:2000])
    assert create(mod, social_image=f"https://LINKS.example.org:443{image}")  # an image: any spelling


def test_markup_in_titles_descriptions_and_text_is_shown_as_text_everywhere(
    app: Flask, client: FlaskClient, mod: Account
) -> None:
    body = f"{XSS}\n\n<img src=x onerror=alert(1)>\n"  # a javascript: link is refused (field limits)
    page_id = create(mod, title=f"T {XSS}", description=XSS_ATTRIBUTE, body=body, status="published")
    assert (
        edit(mod, page_id, title=f"T2 {XSS}", body=body + XSS_ATTRIBUTE, status="published").status_code
        == 302
    )
    second = revision_ids(app, page_id)[1][0]
    for url in (
        "/p/terms",
        "/admin/pages",
        f"/admin/pages/{page_id}/edit",
        f"/admin/pages/{page_id}/revisions",
        f"/admin/pages/{page_id}/revisions/{second}",
        f"/admin/pages/{page_id}/delete",
    ):
        html = text(client.get(url) if url.startswith("/p/") else mod.client.get(url))
        assert XSS not in html, url
        assert "<img src=x onerror" not in html and '"><img' not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_a_live_preview_beside_the_save_keeps_its_flash(
    app: Flask, mod: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The editor's live preview can be in flight while the page is saved: it read the session before the
    save stored its flash, and must not write that older session back after it."""
    tree = editor_view.render_tree
    opened, saved = threading.Event(), threading.Event()

    def tree_after_the_save(body: str) -> list[Any]:
        if request.endpoint == "admin_pages.preview":  # the preview's session is open by now
            opened.set()
            assert saved.wait(10), "the save did not finish"
        return tree(body)

    monkeypatch.setattr(editor_view, "render_tree", tree_after_the_save)
    previewer = app.test_client()  # the page's fetch: the same session cookie, another connection
    cookie = mod.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    previewer.set_cookie(cookie.key, cookie.value)
    answers: list[int] = []
    headers = {"X-CSRFToken": mod.csrf, "Accept": "application/json"}
    preview = threading.Thread(
        target=lambda: answers.append(
            previewer.post("/admin/pages/preview", json={"body": "Be kind."}, headers=headers).status_code
        )
    )
    preview.start()
    try:
        assert opened.wait(10), "the preview did not start"
        page_id = create(mod)
    finally:
        saved.set()
        preview.join(10)
    assert answers == [200]
    assert "The page /p/terms is saved (revision 1)." in text(mod.client.get(f"/admin/pages/{page_id}/edit"))


def test_a_phone_link_and_a_library_image_are_kept(client: FlaskClient, mod: Account) -> None:
    image = library_addresses(mod, png((640, 480)), "shop.png")[0]
    body = f"Call [us](tel:+441234567890).\n\n![The shop]({image})\n\n" + "".join(
        f"{'  ' * n}- level {n}\n" for n in range(9)
    )
    create(mod, body=body, status="published")
    html = client.get("/p/terms").get_data(as_text=True)
    assert '<a href="tel:+441234567890" rel="noopener nofollow ugc">us</a>' in html
    assert f'<img src="{image}" alt="The shop">' in html
    assert "level 8" in html


def test_the_preview_names_what_saving_would_refuse(app: Flask, mod: Account) -> None:
    body = "Fine text.\n\n![x](https://evil.example/a.png)"
    answer = mod.api("POST", "/admin/pages/preview", {"body": body})
    assert answer.status_code == 200
    assert "https://evil.example/a.png would not be shown" in answer.get_json()["problem"]
    assert mod.api("POST", "/admin/pages/preview", {"body": "Fine."}).get_json()["problem"] is None
    shown = post_page(mod, action="preview", body=body)  # without JavaScript
    assert shown.status_code == 200
    assert "Saving would refuse this text: Images come from the media library" in text(shown)
    assert 'id="preview-problem" class="error-box" role="status" hidden' in text(
        post_page(mod, action="preview")
    )


def test_preview_without_javascript_saves_nothing(app: Flask, mod: Account) -> None:
    response = post_page(mod, action="preview", body="**Preview me** <script>x</script>", slug="BAD SLUG")
    assert response.status_code == 200
    html = text(response)
    assert (
        '<div id="page-preview" class="preview page-body" aria-live="polite"><p><strong>Preview me</strong>'
        in html
    )
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    with app.app_context():
        assert db.session.scalar(select(SitePage.id)) is None
    page_id = create(mod)
    before = revision_ids(app, page_id)
    shown = edit(mod, page_id, action="preview", body="Changed")
    assert shown.status_code == 200 and "<p>Changed</p>" in text(shown)
    assert revision_ids(app, page_id) == before


def test_the_preview_endpoint_renders_sanitised_html_with_the_csrf_token(app: Flask, mod: Account) -> None:
    answer = mod.api("POST", "/admin/pages/preview", {"body": "~~old~~ [x](javascript:alert(1)) <b>"})
    assert answer.status_code == 200
    assert answer.get_json() == {
        "html": "<p><s>old</s> [x](javascript:alert(1)) &lt;b&gt;</p>\n",
        "nodes": [["p", {}, [["s", {}, ["old"]], " [x](javascript:alert(1)) <b>"]], "\n"],
        "problem": site_pages.body_problem("[x](javascript:alert(1))"),  # saving would refuse it
    }
    assert "javascript:alert(1) cannot be a link" in answer.get_json()["problem"]
    assert mod.api("POST", "/admin/pages/preview", {"body": 3}).status_code == 400
    assert mod.api("POST", "/admin/pages/preview", {"body": "x" * 100_001}).status_code == 400
    for unreadable in ("\ud800x", "a\x00b"):  # a lone surrogate, a NUL: refused as saving refuses them
        answer = mod.api("POST", "/admin/pages/preview", {"body": unreadable})
        assert answer.status_code == 400, unreadable
        assert "Remove the" in answer.get_json()["error"]["message"]
    refused = mod.client.post("/admin/pages/preview", json={"body": "x"})  # no token
    assert refused.status_code == 400


def test_the_editor_loads_its_preview_script_from_this_site(mod: Account) -> None:
    html = text(mod.client.get("/admin/pages/new"))
    source = re.search(r'<script src="(/static/js/page_preview\.[0-9a-f]{12}\.js)" defer></script>', html)
    assert source is not None, "no content-hashed page_preview.js"
    assert 'data-preview-url="/admin/pages/preview"' in html
    script = mod.client.get(source[1])
    assert script.status_code == 200 and b"conexoosApi" in script.data  # api.js adds the CSRF token
    policy = mod.client.get("/admin/pages/new").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy


def test_delete_asks_first_then_deletes_the_page_and_its_revisions(
    app: Flask, client: FlaskClient, mod: Account
) -> None:
    page_id = create(mod, status="published")
    confirm = mod.client.get(f"/admin/pages/{page_id}/delete")
    assert confirm.status_code == 200 and "Delete “Terms of use”?" in text(confirm)
    assert page_of(app, page_id) is not None  # asking deletes nothing
    response = mod.client.post(f"/admin/pages/{page_id}/delete", data={"csrf_token": mod.csrf})
    assert response.status_code == 302
    assert page_of(app, page_id) is None
    assert revision_ids(app, page_id) == []
    assert client.get("/p/terms").status_code == 404
    assert audit_actions(app)[-1] == ("site_page.delete", "moddy")


def test_a_user_gets_404_for_the_editor(alice: Account) -> None:
    assert alice.client.get("/admin/pages").status_code == 404
    response = alice.client.post("/admin/pages/new", data={"csrf_token": alice.csrf, **fields()})
    assert response.status_code == 404


def test_a_long_text_in_any_script_is_stored_whole(app: Flask, client: FlaskClient, mod: Account) -> None:
    body = ("Größe 😀 " * 12_500)[: site_pages.BODY_MAX]  # 100,000 characters, about 230 KB of UTF-8
    page_id = create(mod, body=body, status="published")
    page = page_of(app, page_id)
    assert page is not None and page.body == body
    assert client.get("/p/terms").status_code == 200


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.fixed_dictionaries(
        {
            **{
                name: st.text(max_size=120)
                for name in ("title", "description", "social_image", "body", "note")
            },
            "slug": st.one_of(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), st.text(max_size=90)),
            "status": st.one_of(st.sampled_from(["draft", "scheduled", "published"]), st.text(max_size=20)),
            "publish_at": st.one_of(st.just("2999-01-01T10:00"), st.text(max_size=30)),
        }
    )
)
def test_hostile_form_input_never_makes_a_500(mod: Account, form: dict[str, str]) -> None:
    response = post_page(mod, **form)
    assert response.status_code in (302, 422), response.status_code
    preview = mod.api("POST", "/admin/pages/preview", {"body": form["body"]})
    assert preview.status_code in (200, 400), preview.status_code
    if preview.status_code == 400:
        assert preview.get_json()["error"]["message"]
    if response.status_code == 302:  # the preview refuses only what saving refuses
        assert preview.status_code == 200
        assert mod.client.get(response.headers["Location"]).status_code == 200
