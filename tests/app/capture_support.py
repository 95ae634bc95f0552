"""Helpers of the email sign-up (capture) tests: add a form, post to it as a visitor, read the entries."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import CaptureEntry
from conexoos.framework import db

from .conftest import BROWSER_UA, Account

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost", "User-Agent": BROWSER_UA}
"""What a browser sends with the form of a page of this site (the tests' PUBLIC_URL is http://localhost)."""


def add_form(account: Account, title: str = "Get my newsletter", **fields: Any) -> dict[str, Any]:
    """Add a capture block through the generic blocks API; its JSON."""
    response = account.api("POST", "/api/blocks", {"kind": "capture", "title": title, **fields})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def post(
    client: FlaskClient,
    block_id: int,
    headers: dict[str, str] | None = None,
    remote: str = "203.0.113.5",
    **form: str,
) -> TestResponse:
    """Post the sign-up form of ``block_id`` as a visitor's browser would."""
    return client.post(
        f"/capture/{block_id}",
        data=form,
        headers=SAME_ORIGIN if headers is None else headers,
        environ_base={"REMOTE_ADDR": remote},
    )


def entries(app: Flask, owner_id: int) -> list[tuple[str, str, bool]]:
    """The owner's entries as (name, email, confirmed), by id."""
    with app.app_context():
        rows = db.session.scalars(
            select(CaptureEntry).where(CaptureEntry.owner_id == owner_id).order_by(CaptureEntry.id)
        ).all()
        found = [(row.name, row.email, row.confirmed_at is not None) for row in rows]
        db.session.rollback()
    return found
