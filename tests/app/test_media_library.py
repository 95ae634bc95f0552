"""The media library through the real app: uploads (images re-encoded into renditions, PDFs checked), the
per-file and site limits, PDFs served as attachments, "where used" and the confirmed deletion, and the audit
log. Runs on each database of the matrix; the upload test on the ``local`` and ``database`` media backends,
the others on ``CONEXOOS_TEST_MEDIA_BACKEND`` (default ``local``)."""

from __future__ import annotations

import os
import re
from io import BytesIO
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from PIL import Image

from conexoos.app.models.persistent import AuditEntry, MediaItem, SitePage
from conexoos.framework import db
from conexoos.framework.storage import StorageError, StorageFull, media_storage
from tests.app.staff_support import make_staff
from tests.conftest import AppFactory

from .conftest import Account, product_app, sign_up
from .media_library_support import build_pdf, one_page_pdf, photo_with_exif, png, upload
from .media_support import noisy_png

pytestmark = pytest.mark.database_matrix


MEDIA_BACKEND = os.environ.get("CONEXOOS_TEST_MEDIA_BACKEND", "local")
"""The media backend of every test here but the first (which runs on both): set
``CONEXOOS_TEST_MEDIA_BACKEND=database`` to run the whole module on the database backend."""


def library_app(make_app: AppFactory, backend: str = MEDIA_BACKEND, **limits: int) -> Flask:
    overrides: dict[str, Any] = {"SERVER_ENV": {"MEDIA": {"BACKEND": backend}}}
    if limits:
        overrides["APP"] = {"MEDIA_LIBRARY": {key.upper(): value for key, value in limits.items()}}
    return product_app(make_app, overrides)


def admin_of(app: Flask, name: str = "boss") -> Account:
    return make_staff(app, sign_up(app, name), "admin")


def stored_names(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(name for name in media_storage().names() if name.startswith("library/"))


def items(app: Flask) -> list[MediaItem]:
    with app.app_context():
        found = db.session.scalars(db.select(MediaItem).order_by(MediaItem.id)).all()
        db.session.expunge_all()
        return list(found)


def actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all())


def item_page(staff: Account, item_id: int) -> str:
    response = staff.client.get(f"/admin/media/{item_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("backend", ["local", "database"])
def test_an_image_is_stored_as_upright_renditions_without_exif(make_app: AppFactory, backend: str) -> None:
    app = library_app(make_app, backend)
    boss = admin_of(app)
    response = upload(boss, photo_with_exif(), "holiday.jpg", alt_text="A red wall <in> the sun")
    assert response.status_code == 302, response.get_data(as_text=True)
    [item] = items(app)
    assert item.kind == "image" and item.original_name == "holiday.jpg"
    # Turned upright by the EXIF orientation (1500 wide, 2000 high), fitted in 480, 960 and 1600 boxes.
    sizes = [(r.width, r.height) for r in item.renditions]
    assert sizes == [(360, 480), (720, 960), (1200, 1600)]
    assert (item.width, item.height) == (1200, 1600)
    assert item.bytes_total == sum(r.bytes for r in item.renditions)
    assert stored_names(app) == sorted(r.name for r in item.renditions)
    for rendition in item.renditions:
        served = boss.client.get(f"/media/{rendition.name}")
        assert served.status_code == 200 and served.mimetype == "image/webp"
        assert (
            served.headers["Cache-Control"] == "public, max-age=3600"
        )  # a deleted item goes within the hour
        assert "Content-Disposition" not in served.headers
        picture = Image.open(BytesIO(served.data))
        picture.load()
        assert picture.size == (rendition.width, rendition.height)
        assert not picture.getexif() and b"SpyCam" not in served.data and b"Exif" not in served.data
    page = item_page(boss, item.id)
    assert f"![A red wall \\&lt;in\\&gt; the sun](/media/library/{item.storage_key}-720.webp)" in page
    assert f"/media/library/{item.storage_key}-360.webp 360w" in page
    assert "alt=&#34;A red wall &amp;lt;in&amp;gt; the sun&#34;" in page  # escaped twice: shown as source
    assert actions(app) == ["media.upload"]
    with app.app_context():  # found by its target, as every other action (outside tester: the id was empty)
        targets = db.session.execute(db.select(AuditEntry.target_type, AuditEntry.target_id)).all()
    assert [tuple(target) for target in targets] == [("media_item", str(item.id))]


def test_a_small_image_is_never_upscaled_and_its_title_is_escaped(make_app: AppFactory) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    title = "<script>alert(1)</script>"
    assert upload(boss, png((300, 200)), "icon.png", alt_text="Icon", title=title).status_code == 302
    [item] = items(app)
    assert [(r.width, r.height) for r in item.renditions] == [(300, 200)]
    for page in (boss.client.get("/admin/media").get_data(as_text=True), item_page(boss, item.id)):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_an_image_a_product_may_be_is_accepted_with_a_smaller_largest_rendition(make_app: AppFactory) -> None:
    # A 4000×3000 RGB PNG screenshot: decoding it for a 1600 rendition would pass the 64 MB target, so it
    # is reduced by 3 instead of 2, as for a product image, and its largest rendition is 1333 wide.
    app = library_app(make_app)
    boss = admin_of(app)
    screenshot = png((4000, 3000))
    response = upload(boss, screenshot, "screenshot.png", alt_text="A screenshot")
    assert response.status_code == 302, response.get_data(as_text=True)
    [item] = items(app)
    assert [(r.width, r.height) for r in item.renditions] == [(480, 360), (960, 719), (1333, 999)]


def test_an_image_a_product_may_not_be_is_refused_naming_the_largest_accepted(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conexoos.app.utils import io as io_utils

    app = library_app(make_app)
    boss = admin_of(app)
    monkeypatch.setattr(io_utils, "MAX_PEAK_BYTES", 20 * 1024 * 1024)  # a 2000×1500 PNG is then too costly
    response = upload(boss, png((2000, 1500)), "big.png", alt_text="Big")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "too many pixels to process as PNG" in page
    assert items(app) == [] and stored_names(app) == []


@pytest.mark.parametrize(
    ("data", "filename", "alt", "words"),
    [
        (png((50, 50)), "x.png", "", "Describe the image in the alt text"),
        (b"GIF89a" + b"\x00" * 40, "x.gif", "Alt", "no width or height"),
        (
            b"hello, I am text",
            "notes.txt",
            "Alt",
            "neither an image we can read nor a PDF: the library takes",
        ),
        (b"<?php echo 1; ?>", "x.png", "Alt", "neither an image we can read nor a PDF: the library takes"),
        (png((50, 50))[:60], "cut.png", "Alt", "damaged or truncated"),
        (b"", "empty.png", "Alt", "The file is empty"),
    ],
)
def test_a_bad_image_is_refused_with_words_and_nothing_is_stored(
    make_app: AppFactory, data: bytes, filename: str, alt: str, words: str
) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    response = upload(boss, data, filename, alt_text=alt)
    assert response.status_code in (400, 422)
    assert words in response.get_data(as_text=True)
    assert "Upload a PNG, JPEG, WebP or GIF" not in response.get_data(as_text=True)  # said twice before
    assert items(app) == [] and stored_names(app) == [] and actions(app) == []


@pytest.mark.parametrize(
    ("title", "alt", "words"),
    [
        ("a\x00b", "Alt", "Remove the control characters"),
        ("Title", "a\u202eb", "Remove the bidirectional controls"),
        ("Title", "line\x1bescape", "Remove the control characters"),
    ],
)
def test_control_characters_in_a_title_or_alt_text_are_refused_not_dropped(
    make_app: AppFactory, title: str, alt: str, words: str
) -> None:
    """As every other form refuses them: dropping them silently changed what the person typed."""
    app = library_app(make_app)
    boss = admin_of(app)
    response = upload(boss, png((50, 50)), "x.png", alt_text=alt, title=title)
    assert response.status_code in (400, 422)
    assert words in response.get_data(as_text=True)
    assert items(app) == []
    kept = upload(boss, png((50, 50)), "x.png", alt_text="Two\r\nlines  and 👩\u200d💻", title="T")
    assert kept.status_code == 302  # line breaks become one space; a joiner in an emoji stays
    assert [item.alt_text for item in items(app)] == ["Two lines and 👩\u200d💻"]


HOSTILE_PDFS = {
    "javascript": (
        one_page_pdf(
            b"/Names << /JavaScript 4 0 R >>",
            more=[b"<< /Names [(a) 5 0 R] >>", b"<< /S /JavaScript /JS (app.alert(1)) >>"],
        ),
        "JavaScript",
    ),
    "open action": (one_page_pdf(b"/OpenAction << /S /URI /URI (https://evil.example/) >>"), "/OpenAction"),
    "launch": (
        one_page_pdf(
            page=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Launch "
            b"/F (calc.exe) >> >>]"
        ),
        "Launch action",
    ),
    "hex-escaped name": (one_page_pdf(b"/AcroForm << /Fields [] /X << /S /J#61vaScript >> >>"), "JavaScript"),
    "embedded file": (
        one_page_pdf(
            b"/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
            more=[b"<< /Type /Filespec /F (a.exe) >>"],
        ),
        "embedded file",
    ),
    "encrypted": (
        one_page_pdf().replace(
            b"/Root 1 0 R", b"/Root 1 0 R /Encrypt << /Filter /Standard /V 1 /R 2 /O (x) /U (y) /P -4 >>"
        ),
        "encrypted",
    ),
    "truncated": (one_page_pdf()[:300], "truncated"),
    "fake header": (b"%PDF-1.7\n" + b"<script>alert(1)</script>\n" * 4 + b"%%EOF\n", "cross-reference"),
    "html polyglot": (
        b"<html><script>alert(1)</script>" + one_page_pdf(),
        "does not start with a PDF header",
    ),
    "zip appended": (one_page_pdf() + b"PK\x03\x04" + b"\x00" * 30, "other data after its end"),
    "no page": (
        build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]),
        "no page",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PDFS))
def test_a_hostile_or_broken_pdf_is_refused_with_the_reason(make_app: AppFactory, case: str) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    data, words = HOSTILE_PDFS[case]
    response = upload(boss, data, "terms.pdf")
    assert response.status_code == 422, response.status_code
    assert words in response.get_data(as_text=True)
    assert items(app) == [] and stored_names(app) == []


def test_what_a_file_holds_decides_its_kind_not_its_name(make_app: AppFactory) -> None:
    """A PNG named ``.pdf`` was refused as a broken PDF while a PDF named ``.jpg`` was taken as a PDF: the
    bytes decide both ways now (a file with neither signature is still judged by its name)."""
    app = library_app(make_app)
    boss = admin_of(app)
    assert upload(boss, png((40, 30)), "scan.pdf", alt_text="A blue square").status_code == 302
    assert upload(boss, one_page_pdf(), "terms.jpg").status_code == 302
    kinds = [(item.original_name, item.content_type) for item in items(app)]
    assert kinds == [
        ("scan.pdf", "image/webp"),
        ("terms.jpg.pdf", "application/pdf"),
    ]  # images re-encoded; PDFs end .pdf
    refused = upload(boss, b"plain text, no signature", "notes.pdf")
    assert refused.status_code == 422 and "PDF" in refused.get_data(as_text=True)


def test_a_pdf_is_stored_as_uploaded_and_served_only_as_an_attachment(make_app: AppFactory) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    data = one_page_pdf(b"/OpenAction [3 0 R /Fit]")  # a destination, not an action: accepted
    name = "Prix\u00e9 final; évil <name>\u202e.pdf"
    assert upload(boss, data, name, title="Price list").status_code == 302
    [item] = items(app)
    assert item.kind == "pdf" and item.title == "Price list"
    assert item.original_name == "Prixé final; évil _name_.pdf"
    page = item_page(boss, item.id)
    url = re.search(r'href="(/media/library/\d+/[^"]+)"', page)
    assert url is not None and url.group(1) == f"/media/library/{item.id}/Prixe_final_evil__name_.pdf"
    assert f"[Price list]({url.group(1)})" in page
    served = boss.client.get(url.group(1))
    assert served.status_code == 200 and served.data == data
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"Prixe_final_evil__name_.pdf\"; filename*=UTF-8''")
    assert unquote(disposition.split("UTF-8''", 1)[1]) == item.original_name
    disposition.encode("ascii")  # nothing a header cannot carry
    anonymous = app.test_client().get(url.group(1), headers={"If-None-Match": served.headers["ETag"]})
    assert anonymous.status_code == 304 and anonymous.headers["Cache-Control"] == "public, max-age=3600"
    # The stored file's own address downloads too, never shown inline.
    direct = boss.client.get(f"/media/{item.renditions[0].name}")
    assert direct.status_code == 200 and direct.headers["Content-Disposition"] == "attachment"


def test_an_image_id_or_a_missing_id_is_no_document(make_app: AppFactory) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    upload(boss, png((40, 40)), "a.png", alt_text="A")
    [item] = items(app)
    assert app.test_client().get(f"/media/library/{item.id}/a.pdf").status_code == 404
    assert app.test_client().get(f"/media/library/{item.id + 1}/a.pdf").status_code == 404


def test_a_file_over_the_per_file_limit_is_a_413_with_words(make_app: AppFactory) -> None:
    app = library_app(make_app, max_file_bytes=10_000)
    boss = admin_of(app)
    response = upload(boss, noisy_png((200, 200)), "big.png", alt_text="Noise")
    assert response.status_code == 413
    assert "larger than 9 KB, the most one file may be" in response.get_data(as_text=True)
    assert items(app) == [] and stored_names(app) == []


def test_the_site_limit_refuses_an_upload_that_would_go_over_it(make_app: AppFactory) -> None:
    app = library_app(make_app, max_total_bytes=100_000)
    boss = admin_of(app)
    assert upload(boss, noisy_png((300, 300), seed=1), "one.png", alt_text="One").status_code == 302
    used = items(app)[0].bytes_total
    assert used < 100_000
    response = upload(boss, noisy_png((300, 300), seed=2), "two.png", alt_text="Two")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "The media library is full" in text and "MAX_TOTAL_BYTES" in text
    assert len(items(app)) == 1 and len(stored_names(app)) == 1
    listing = boss.client.get("/admin/media").get_data(as_text=True)
    assert f'value="{used}"' in listing and 'max="100000"' in listing
    overview = boss.client.get("/admin").get_data(as_text=True)
    assert "<dt>Media library</dt><dd>0.1 MB of its 0.1 MB limit" in overview


def test_a_storage_failure_midway_leaves_no_file_behind(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    with app.app_context():
        storage = media_storage()
    real_save = storage.save
    calls: list[str] = []

    def save_then_fill_up(name: str, data: bytes, content_type: str | None = None) -> Any:
        calls.append(name)
        if len(calls) == 3:
            raise StorageFull("no space left on the test device")
        return real_save(name, data, content_type)

    monkeypatch.setattr(storage, "save", save_then_fill_up)
    response = upload(boss, photo_with_exif(), "photo.jpg", alt_text="Photo")
    assert response.status_code == 507
    assert len(calls) == 3 and stored_names(app) == [] and items(app) == []


def used_by_page(app: Flask, slug: str, body: str = "", social_image: str = "") -> int:
    with app.app_context():
        page = SitePage(slug=slug, title=slug.title(), body=body, social_image=social_image)
        db.session.add(page)
        db.session.commit()
        return int(page.id)


def test_where_used_lists_pages_and_deleting_an_item_in_use_needs_confirmation(make_app: AppFactory) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    upload(boss, png((1000, 500)), "banner.png", alt_text="Banner")
    upload(boss, one_page_pdf(), "terms.pdf")
    image, document = items(app)
    used_by_page(app, "about", body=f"Hello\n\n![Banner](/media/{image.renditions[1].name})")
    used_by_page(app, "press", social_image=f"https://site.example/media/{image.renditions[0].name}")
    used_by_page(app, "terms", body=f"[Terms](/media/library/{document.id}/terms.pdf)")
    used_by_page(
        app, "other", body=f"/media/library/{document.id}0/x.pdf and library/{image.storage_key[:8]}"
    )

    page = item_page(boss, image.id)
    assert "/p/about" in page and "/p/press" in page and "/p/terms" not in page and "/p/other" not in page
    assert "/p/terms" in item_page(boss, document.id)

    asked = boss.client.post(f"/admin/media/{image.id}/delete", data={"csrf_token": boss.csrf})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "Delete an item in use?" in text and "/p/about" in text
    token = re.search(r'name="confirm" value="([^"]+)"', text)
    assert token is not None
    # A page that starts using the item after the confirmation was shown: asked again, with it listed.
    used_by_page(app, "later", body=f"![x](/media/{image.renditions[0].name})")
    again = boss.client.post(
        f"/admin/media/{image.id}/delete", data={"csrf_token": boss.csrf, "confirm": token.group(1)}
    )
    assert again.status_code == 409 and "/p/later" in again.get_data(as_text=True)
    assert len(items(app)) == 2 and len(stored_names(app)) == 4

    token = re.search(r'name="confirm" value="([^"]+)"', again.get_data(as_text=True))
    assert token is not None
    done = boss.client.post(
        f"/admin/media/{image.id}/delete", data={"csrf_token": boss.csrf, "confirm": token.group(1)}
    )
    assert done.status_code == 302
    assert [item.id for item in items(app)] == [document.id]
    assert stored_names(app) == [document.renditions[0].name]
    assert boss.client.get(f"/media/{image.renditions[0].name}").status_code == 404
    assert actions(app) == ["media.upload", "media.upload", "media.delete"]
    with app.app_context():
        entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "media.delete")).one()
        assert '"used_by_pages": ["about", "later", "press"]' in (entry.before or "")


def test_an_unused_item_is_deleted_at_once_and_a_storage_error_keeps_it_whole(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    assert upload(boss, png((2000, 1500)), "wide.png", alt_text="Wide").status_code == 302  # renditions
    [item] = items(app)
    stored = stored_names(app)
    assert len(stored) >= 3
    with app.app_context():
        storage = media_storage()
    delete = storage.delete
    deleted: list[str] = []

    def refuse_the_second(name: str) -> None:
        if deleted:
            raise StorageError("cannot delete under /srv/secret/uploads: bucket unreachable")
        delete(name)
        deleted.append(name)

    monkeypatch.setattr(storage, "delete", refuse_the_second)
    failed = boss.client.post(f"/admin/media/{item.id}/delete", data={"csrf_token": boss.csrf})
    page = failed.get_data(as_text=True)
    assert failed.status_code == 503
    assert "; the item is kept whole. Try again once the storage works" in page
    assert "/srv/secret" not in page and "bucket unreachable" not in page  # the storage's words: the log's
    assert len(items(app)) == 1 and deleted and stored_names(app) == stored  # the first one is back
    for name in stored:
        assert boss.client.get(f"/media/{name}").status_code == 200
    monkeypatch.undo()
    done = boss.client.post(f"/admin/media/{item.id}/delete", data={"csrf_token": boss.csrf})
    assert done.status_code == 302 and items(app) == [] and stored_names(app) == []


def test_moderators_use_the_library_and_users_do_not_see_it(make_app: AppFactory) -> None:
    app = library_app(make_app)
    moderator = make_staff(app, sign_up(app, "moddy"), "moderator")
    user = sign_up(app, "plain")
    assert upload(moderator, png((64, 64)), "m.png", alt_text="M").status_code == 302
    listing = moderator.client.get("/admin/media")
    assert listing.status_code == 200 and "m.png" in listing.get_data(as_text=True)
    assert user.client.get("/admin/media").status_code == 404
    assert upload(user, png((64, 64)), "u.png", alt_text="U").status_code == 404
    assert len(items(app)) == 1


def test_the_listing_pages_and_refuses_a_bad_page_number(make_app: AppFactory) -> None:
    app = library_app(make_app)
    boss = admin_of(app)
    assert "The library is empty." in boss.client.get("/admin/media").get_data(as_text=True)
    assert boss.client.get("/admin/media?page=2").status_code == 404
    assert boss.client.get("/admin/media?page=zero").status_code == 400
    assert boss.client.get("/admin/media/999999").status_code == 404
