"""Settings → Account → Export: one zip with account.json, statistics CSV and every image, behind a signed,
expiring link that only its owner may use."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import UTC, datetime, timedelta

import itsdangerous
import pytest
from flask import Flask

from conexoos.app.controllers import account_export
from conexoos.app.controllers.blocks.registry import KINDS
from conexoos.app.models.persistent import ExportJob, User
from conexoos.app.server import tasks
from conexoos.framework import db

from .conftest import Account, SignUp
from .leaving_support import account_page, ask_for_export, read_json, seed_account, uploads
from .test_appearance import VALID as APPEARANCE

pytestmark = pytest.mark.database_matrix
DOWNLOAD = re.compile(r'href="(/settings/account/export/[^"]+)"')


def download_path(account: Account) -> str | None:
    """The download link the account page shows, if any."""
    match = DOWNLOAD.search(account_page(account).get_data(as_text=True))
    return match.group(1) if match else None


def export_zip(account: Account) -> zipfile.ZipFile:
    """Ask for an export, follow the page's link, and open the zip it answers with."""
    assert ask_for_export(account).status_code == 302
    path = download_path(account)
    assert path, "no download link after a small account's export"
    response = account.client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_the_zip_holds_the_account_its_statistics_and_its_images(app: Flask, alice: Account) -> None:
    seeded = seed_account(app, alice)
    [shop] = [link for link in alice.links() if link["title"] == "Shop"]
    locked = alice.api("PUT", f"/api/edit/link/{shop['id']}", {"sensitive": True, "passcode": "open sesame"})
    assert locked.status_code == 200, locked.get_data(as_text=True)
    archive = export_zip(alice)
    data = read_json(archive.read("account.json"))
    profile = data["profile"]
    assert isinstance(profile, dict)
    assert profile["username"] == "alice" and profile["email"] == "alice@example.com"
    assert profile["display_name"] == "Alice Example" and profile["bio"] == "Links & things <b>"
    assert profile["avatar"] == f"images/{seeded.images[0]}"
    assert data["settings"] == {
        "plan": "gratis",
        "plan_name": "Gratis",
        "subscription_status": "",
        "plan_ends_at": None,
        "period_ends_at": None,
    }
    links = data["links"]
    assert isinstance(links, list)
    assert [(link["title"], link["url"], link["icon"]) for link in links] == [
        ("Blog", "https://blog.example/", f"images/{seeded.images[2]}"),
        ("Shop", "https://shop.example/", None),
    ]
    assert [(link["sensitive"], link["has_passcode"]) for link in links] == [(False, False), (True, True)]
    [product] = data["products"]  # type: ignore[misc]
    assert (product["title"], product["price"], product["currency"]) == ("E-book", 1250, "EUR")
    assert product["image"] == f"images/{seeded.images[1]}"
    text = archive.read("account.json").decode()
    for secret in ("password", "argon2", "stripe", "csrf"):
        assert secret not in text.lower()

    # Every uploaded image, byte for byte.
    for name in seeded.images:
        assert archive.read(f"images/{name}") == (uploads(app) / name).read_bytes()
    assert sorted(data["images"]) == sorted(f"images/{name}" for name in seeded.images)  # type: ignore[arg-type]

    # The statistics as /api/stats.csv gives them: 2 views, 1 click, 1 product click, 2 visitors.
    [statistics] = data["statistics"]  # type: ignore[misc]
    rows = list(csv.reader(io.StringIO(archive.read(statistics).decode())))
    assert rows[0] == ["section", "name", "metric", "value"]
    totals = {row[2]: row[3] for row in rows if row[0] == "totals"}
    assert (totals["views"], totals["clicks"], totals["product_clicks"]) == ("2", "1", "1")
    assert totals["unique_visitors"] == "2"
    assert ["links", f"{seeded.link_ids[0]} Blog", "clicks", "1"] in rows
    assert set(archive.namelist()) == {"account.json", statistics, *data["images"]}  # type: ignore[misc]


def test_the_export_says_when_a_plan_set_to_end_ends_and_when_its_period_does(
    app: Flask, alice: Account
) -> None:
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.subscription_plan, user.subscription_status = "pro", "active"
        user.stripe_customer_id, user.stripe_subscription_id = "cus_alice", "sub_alice"
        user.plan_ends_at = datetime(2027, 1, 4, 10, tzinfo=UTC)
        user.period_ends_at = datetime(2027, 1, 4, 10, 0, 30, tzinfo=UTC)
        db.session.commit()
    text = export_zip(alice).read("account.json").decode()
    assert read_json(text.encode())["settings"] == {
        "plan": "pro",
        "plan_name": "Pro",
        "subscription_status": "active",
        "plan_ends_at": "2027-01-04T10:00:00Z",
        "period_ends_at": "2027-01-04T10:00:30Z",
    }
    assert "cus_alice" not in text and "sub_alice" not in text  # no payment provider ids


BLOCKS: dict[str, dict[str, object]] = {
    "header": {"title": "Music <b>"},
    "text": {"text": "Line one\nLine two"},
    "divider": {},
    "embed": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=90", "title": "Talk"},
    "social": {"items": [{"network": "instagram", "handle": "@ana.makes"}]},
    "capture": {"title": "My letter", "button": "Join"},
}


def test_the_export_holds_the_appearance_and_every_kind_of_block_in_page_order(
    app: Flask, alice: Account
) -> None:
    seeded = seed_account(app, alice)  # two links and a product
    for kind, fields in BLOCKS.items():
        assert alice.api("POST", "/api/blocks", {"kind": kind, **fields}).status_code == 201, kind
    chosen = {**APPEARANCE, "csrf_token": alice.csrf}
    assert alice.client.post("/settings/appearance", data=chosen).status_code == 302
    data = read_json(export_zip(alice).read("account.json"))
    page = data["page"]
    assert isinstance(page, list)
    assert {block["kind"] for block in page} == set(KINDS)  # a new kind needs its blocks here too
    assert [block["kind"] for block in page] == ["link", "link", "product", *BLOCKS]
    assert [block["item_id"] for block in page[:3]] == [*seeded.link_ids, *seeded.product_ids]
    assert page[0] == {"kind": "link", "item_id": seeded.link_ids[0]}  # the link itself is in "links"
    for block in page[3:]:
        expected = BLOCKS[block["kind"]]
        assert {name: block[name] for name in expected if name != "items"} == {
            name: value for name, value in expected.items() if name != "items"
        }, block
        assert block["enabled"] is True and block["item_id"] is None
    assert page[6]["provider"] == "YouTube"
    assert page[7]["items"] == [
        {"network": "instagram", "handle": "@ana.makes", "url": "https://www.instagram.com/ana.makes/"}
    ]
    appearance = data["appearance"]
    assert isinstance(appearance, dict)
    named = ("background", "background_color", "font", "button_style", "corner_radius", "button_color")
    assert [appearance[name] for name in named] == ["solid", "#fdf6e3", "serif", "shadow", 4, "#6c2bd9"]
    assert appearance["background_image"] is None


def test_a_kind_adds_its_own_sections_to_the_export(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [{"email": "fan@example.com"}]

    class WithEntries(type(KINDS["text"])):  # type: ignore[misc]
        def exported_data(self, user: object) -> dict[str, object]:
            return {"signups": entries}

    kind = WithEntries("entries", "entry", "entries", (), limit=1, summary="A kind with entries.")
    monkeypatch.setitem(KINDS, "entries", kind)
    data = read_json(export_zip(alice).read("account.json"))
    assert data["signups"] == entries


def test_a_large_account_is_built_by_the_task_then_downloaded(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(account_export, "INLINE_ITEMS", 0)
    assert 'href="/settings/account"' in alice.client.get("/dashboard/settings").get_data(as_text=True)
    alice.add_link("Blog", "https://blog.example/")
    assert ask_for_export(alice).status_code == 302
    page = account_page(alice).get_data(as_text=True)
    assert "being prepared" in page and download_path(alice) is None
    with app.app_context():
        tasks.build_account_exports()
        [job] = db.session.scalars(db.select(ExportJob)).all()
        assert job.status == "ready"
    path = download_path(alice)
    assert path is not None
    archive = zipfile.ZipFile(io.BytesIO(alice.client.get(path).get_data()))
    assert read_json(archive.read("account.json"))["links"][0]["title"] == "Blog"  # type: ignore[index]


def test_asking_twice_while_pending_queues_one_export(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(account_export, "INLINE_ITEMS", -1)  # even an empty account goes to the task
    ask_for_export(alice)
    ask_for_export(alice)
    with app.app_context():
        assert len(db.session.scalars(db.select(ExportJob)).all()) == 1


def test_a_link_is_refused_to_another_account_forged_or_tampered(
    app: Flask, alice: Account, signed_up: SignUp
) -> None:
    alice.add_link()
    ask_for_export(alice)
    path = download_path(alice)
    assert path is not None
    bob = signed_up("bob")
    assert bob.client.get(path).status_code == 403
    token = path.rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert alice.client.get(f"/settings/account/export/{tampered}").status_code == 404
    assert alice.client.get("/settings/account/export/not-a-token").status_code == 404
    anonymous = app.test_client().get(path)
    assert anonymous.status_code in (302, 401) and "/login" in anonymous.headers.get("Location", "/login")
    assert alice.client.get(path).status_code == 200  # control: the owner still may


def test_an_old_link_and_an_expired_export_are_gone(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice.add_link()
    ask_for_export(alice)
    path = download_path(alice)
    assert path is not None
    with app.test_request_context(), app.app_context():
        job = ExportJob.latest_for(alice.id)
        assert job is not None
        real = itsdangerous.TimestampSigner.get_timestamp
        monkeypatch.setattr(
            itsdangerous.TimestampSigner, "get_timestamp", lambda self: real(self) - 25 * 3600
        )
        old_token = account_export.download_token(job)
        monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", real)
    old = alice.client.get(f"/settings/account/export/{old_token}")
    assert old.status_code == 410 and "expired" in old.get_data(as_text=True)

    with app.app_context():
        job = ExportJob.latest_for(alice.id)
        assert job is not None and job.file_name
        zip_path = account_export.exports_folder() / job.file_name
        assert zip_path.is_file()
        assert account_export.prune_expired() == 0  # not yet
        tasks.prune_account_exports()
        assert zip_path.is_file()
        later = datetime.now(UTC) + timedelta(hours=account_export.LINK_HOURS, minutes=1)
        assert account_export.prune_expired(later) == 1
        assert not zip_path.exists()
        assert ExportJob.latest_for(alice.id) is None
    assert alice.client.get(path).status_code == 410
    assert download_path(alice) is None


def test_a_failed_build_is_shown_and_can_be_asked_again(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(account_export, "write_zip", broken)
    ask_for_export(alice)
    assert "could not be built" in account_page(alice).get_data(as_text=True)
    assert download_path(alice) is None
    monkeypatch.undo()
    alice.add_link()
    ask_for_export(alice)
    assert download_path(alice) is not None


def test_a_new_export_replaces_the_previous_zip(app: Flask, alice: Account) -> None:
    alice.add_link()
    ask_for_export(alice)
    first = download_path(alice)
    ask_for_export(alice)
    second = download_path(alice)
    assert first and second and first != second
    assert alice.client.get(first).status_code == 410
    assert alice.client.get(second).status_code == 200
    with app.app_context():
        assert len(list(account_export.exports_folder().iterdir())) == 1
        assert len(ExportJob.of_user(alice.id)) == 1


def test_a_job_is_built_once_and_orphan_zips_are_swept(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(account_export, "INLINE_ITEMS", -1)
    ask_for_export(alice)
    with app.app_context():
        job = ExportJob.latest_for(alice.id)
        assert job is not None and job.status == "pending"
        account_export.build_export(job)
        account_export.build_export(job)  # a second process arriving late finds it claimed
        assert account_export.build_pending() == 0
        folder = account_export.exports_folder()
        assert len(list(folder.glob("*.zip"))) == 1
        old, fresh = folder / "old-orphan.zip", folder / "fresh-orphan.zip"
        old.write_bytes(b"left by a crash")
        fresh.write_bytes(b"being written")
        a_day_ago = (datetime.now(UTC) - timedelta(hours=account_export.LINK_HOURS + 1)).timestamp()
        os.utime(old, (a_day_ago, a_day_ago))
        account_export.prune_expired()
        assert not old.exists() and fresh.exists()
        assert len(list(folder.glob("*.zip"))) == 2  # the job's own zip is kept


def test_many_images_send_the_export_to_the_task(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_account(app, alice)  # an avatar and a product image
    monkeypatch.setattr(account_export, "INLINE_IMAGES", 1)
    ask_for_export(alice)
    assert download_path(alice) is None
    monkeypatch.setattr(account_export, "INLINE_IMAGES", 2)
    with app.app_context():
        assert account_export.build_pending() == 1
    assert download_path(alice) is not None
