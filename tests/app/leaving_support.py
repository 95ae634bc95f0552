"""What the export, deletion and operator-command tests share: an account with something in every table,
rows counted per user across every table, and the Settings → Account forms."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from PIL import Image
from sqlalchemy import Table, func, inspect, select
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import Product, User, UserLink
from conexoos.app.models.persistent.event import BUY, CLICK, VIEW, EventQuarantine
from conexoos.framework import db

from .analytics_support import insert_event, roll_up
from .conftest import Account, form_token

OWNER_COLUMNS = ("owner_id", "user_id")
ABOUT_A_USER = {("report", "user_id")}
"""Columns naming the user a row is about, not its owner: the row outlives the account (set to NULL)."""


@dataclass
class Seeded:
    """What :func:`seed_account` made: ids of the items and the names of the stored images."""

    account: Account
    link_ids: list[int]
    product_ids: list[int]
    images: list[str]


def png_bytes(colour: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    """A real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def uploads(app: Flask) -> Path:
    """The uploads folder of ``app``."""
    return Path(app.extensions["conexoos"].settings.instance_path) / "uploads"


def seed_account(app: Flask, account: Account) -> Seeded:
    """Give ``account`` a profile with an avatar, two links (the first with a thumbnail), a product with an
    image, raw and rolled-up analytics (with visitors), a quarantined event and an export job: a row in
    every table of a user."""
    settings = account.client.post(
        "/dashboard/settings",
        data={
            "csrf_token": account.csrf,
            "display_name": f"{account.username.title()} Example",
            "bio": "Links & things <b>",
            "avatar": (io.BytesIO(png_bytes("blue")), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert settings.status_code == 302, settings.get_data(as_text=True)
    links = [
        account.add_link("Blog", "https://blog.example/"),
        account.add_link("Shop", "https://shop.example/"),
    ]
    product = account.api(
        "POST",
        "/api/add/product",
        {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/book"},
    )
    assert product.status_code == 201, product.get_data(as_text=True)
    product_id = product.get_json()["id"]
    image = account.client.post(
        f"/api/product/{product_id}/image",
        data={"image": (io.BytesIO(png_bytes("green")), "p.png")},
        headers={"X-CSRFToken": account.csrf},
        content_type="multipart/form-data",
    )
    assert image.status_code == 200, image.get_data(as_text=True)
    icon = account.client.post(
        f"/api/link/{links[0]['id']}/icon",
        data={"icon": (io.BytesIO(png_bytes("yellow")), "i.png")},
        headers={"X-CSRFToken": account.csrf},
        content_type="multipart/form-data",
    )
    assert icon.status_code == 200, icon.get_data(as_text=True)
    now = datetime.now(UTC)
    insert_event(app, account.id, now, VIEW, visitor="v1")
    insert_event(app, account.id, now, VIEW, visitor="v2")
    insert_event(app, account.id, now, CLICK, link_id=links[0]["id"], visitor="v1")
    roll_up(app, now=datetime(2100, 1, 1, tzinfo=UTC))  # every event settled: rollups and visitors
    insert_event(app, account.id, now, BUY, link_id=product_id, visitor="v2")  # one left raw
    with app.app_context():
        db.session.add(EventQuarantine(event_id=999, owner_id=account.id, data="{}", error="test"))
        db.session.commit()
    assert ask_for_export(account).status_code == 302  # a built zip in the exports folder, and its row
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None and user.avatar
        stored = db.session.get(Product, product_id)
        thumbnail = db.session.get(UserLink, links[0]["id"])
        assert stored is not None and thumbnail is not None and thumbnail.icon
        images = [user.avatar, stored.image, thumbnail.icon]
    return Seeded(account, [link["id"] for link in links], [product_id], images)


def owned_tables(app: Flask) -> list[tuple[Table, str]]:
    """Every table of the shared metadata that exists in ``app``'s database and names a user, with that
    column: found afresh here, independently of the code under test."""
    with app.app_context():
        existing = set(inspect(db.engine).get_table_names())
    found = []
    for table in db.Model.metadata.sorted_tables:
        if table.name in existing:
            found += [
                (table, name)
                for name in OWNER_COLUMNS
                if name in table.c and (table.name, name) not in ABOUT_A_USER
            ]
    return found


def rows_per_table(app: Flask, user_id: int) -> dict[str, int]:
    """How many rows each user-owned table holds for ``user_id`` (and ``user`` itself)."""
    counts = {}
    with app.app_context():
        for table, column in owned_tables(app):
            counts[f"{table.name}.{column}"] = int(
                db.session.scalar(select(func.count()).select_from(table).where(table.c[column] == user_id))
                or 0
            )
        counts["user"] = int(db.session.scalar(select(func.count()).where(User.id == user_id)) or 0)
    return counts


def account_page(account: Account) -> TestResponse:
    """GET /settings/account (200 expected)."""
    response = account.client.get("/settings/account")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def delete_account(account: Account, password: str, code: str = "") -> TestResponse:
    """Post the deletion form with the page's own CSRF token."""
    token = form_token(account_page(account))
    return account.client.post(
        "/settings/account/delete",
        data={"csrf_token": token, "password": password, "second_factor_code": code},
    )


def ask_for_export(account: Account) -> TestResponse:
    """Post the export form with the page's own CSRF token."""
    token = form_token(account_page(account))
    return account.client.post("/settings/account/export", data={"csrf_token": token})


def read_json(data: bytes) -> dict[str, object]:
    """JSON bytes as a dict."""
    loaded = json.loads(data)
    assert isinstance(loaded, dict)
    return loaded
