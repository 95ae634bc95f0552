"""A full disk is a 507 a person understands, and nothing is half-written: the instance's media folder on
a 1 MB tmpfs of the test's own, and a SQLite database that can grow no more."""

from __future__ import annotations

import errno
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from conexoos.app.models.persistent import MediaFile, Product, User, UserLink
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from conexoos.framework.storage import OUT_OF_SPACE_MESSAGE
from tests.conftest import TEST_DATABASE, AppFactory
from tests.support.services import REQUIRE_SERVICES

from .conftest import QUIET, RATE_LIMITS_OFF, Account, sign_up
from .media_support import noisy_png
from .test_uploads import files_under, upload

UNLIMITED = {"APP": {"PLANS": {"gratis": {"MAX_LINKS": None, "MAX_PRODUCTS": None}}}}
LEFT_FREE = 8 * 1024
"""Bytes left free on the full disk: less than any stored image, so a write starts and cannot finish."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted for this test (we run as root), unmounted afterwards."""
    folder = tmp_path / "media"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs: {mounted.stderr.strip() or mounted.returncode}"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path, leave: int = LEFT_FREE) -> Path:
    """Fill ``folder``'s file system with one file, then give back ``leave`` bytes; return the file."""
    filler = folder / "filler.bin"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.fixture
def app(make_app: AppFactory, small_disk: Path) -> Flask:
    """The product whose media folder is the small disk."""
    overrides = deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), UNLIMITED)
    return make_app(overrides=deep_merge(overrides, {"SERVER_ENV": {"MEDIA": {"PATH": str(small_disk)}}}))


def add_product(account: Account) -> int:
    response = account.api(
        "POST",
        "/api/add/product",
        {"title": "Book", "price": 100, "currency": "EUR", "buy_url": "https://e.x/b"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def post_product_image(account: Account, product_id: int, seed: int) -> Any:
    return account.client.post(
        f"/api/product/{product_id}/image",
        data={"image": (io.BytesIO(noisy_png(seed=seed)), "book.png")},
        headers={"X-CSRFToken": account.csrf, "Accept": "application/json"},
        content_type="multipart/form-data",
    )


def profile(app: Flask, user_id: int) -> tuple[str | None, str]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user.avatar, user.display_name


def product_image(app: Flask, product_id: int) -> str:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        return product.image


def test_an_upload_to_a_full_disk_is_a_507_that_writes_nothing_then_works_once_space_is_freed(
    app: Flask, small_disk: Path
) -> None:
    alice = sign_up(app, "alice")
    product_id = add_product(alice)
    before_avatar, before_name = profile(app, alice.id)
    filler = fill(small_disk)
    before_files = files_under(small_disk)

    page = upload(alice, noisy_png(seed=1), "me.png", display_name="Changed")
    assert page.status_code == 507
    assert page.mimetype == "text/html"
    assert OUT_OF_SPACE_MESSAGE in page.get_data(as_text=True).replace("&#39;", "'")
    api = post_product_image(alice, product_id, seed=2)
    assert api.status_code == 507
    assert api.get_json() == {
        "error": {"code": "insufficient_storage", "message": OUT_OF_SPACE_MESSAGE, "field": None}
    }
    assert files_under(small_disk) == before_files  # no partial file, no temporary file left
    assert profile(app, alice.id) == (before_avatar, before_name)  # the row names no missing file
    assert product_image(app, product_id) == "default_product.jpg"

    filler.unlink()
    assert upload(alice, noisy_png(seed=1), "me.png", display_name="Changed").status_code == 302
    assert post_product_image(alice, product_id, seed=2).status_code == 200
    avatar, name = profile(app, alice.id)
    assert name == "Changed" and avatar is not None
    for stored in (avatar, product_image(app, product_id)):
        assert (small_disk / stored).is_file()
        assert alice.client.get(f"/media/{stored}").status_code == 200


def limit_growth(app: Flask) -> None:
    """From now on, the SQLite database cannot grow by a page: SQLite's own "database or disk is full"."""
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar_one())

        @event.listens_for(engine, "connect")
        def _cap(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        engine.dispose()


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="SQLite's page cap stands in for a full disk")
def test_a_full_sqlite_database_is_a_507_and_keeps_what_it_had(make_app: AppFactory) -> None:
    app = make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), UNLIMITED))
    alice = sign_up(app, "alice")
    limit_growth(app)
    created, status, body = 0, 201, None
    while status == 201 and created < 200:
        response = alice.api(
            "POST", "/api/add/link", {"title": f"L{created}", "url": "https://e.x/" + "a" * 480}
        )
        status, body = response.status_code, response.get_json()
        created += status == 201
    assert status == 507, body
    assert body["error"]["code"] == "insufficient_storage"
    assert body["error"]["message"] == OUT_OF_SPACE_MESSAGE
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserLink)) == created


@pytest.mark.skipif(TEST_DATABASE != "sqlite", reason="SQLite's page cap stands in for a full disk")
def test_a_full_database_backend_is_a_507_and_stores_no_row(make_app: AppFactory) -> None:
    overrides = deep_merge(
        deep_merge(RATE_LIMITS_OFF, QUIET), {"SERVER_ENV": {"MEDIA": {"BACKEND": "database"}}}
    )
    app = make_app(overrides=overrides)
    alice = sign_up(app, "alice")
    limit_growth(app)
    page = upload(alice, noisy_png(seed=4), "me.png")
    assert page.status_code == 507
    assert OUT_OF_SPACE_MESSAGE in page.get_data(as_text=True).replace("&#39;", "'")
    assert profile(app, alice.id)[0] is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MediaFile)) == 0
