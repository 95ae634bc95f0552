"""Staff accounts for the tests of the operator's side: signed up through the real form, then given a role."""

from __future__ import annotations

from flask import Flask
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import User
from conexoos.framework import db

from .conftest import Account


def make_staff(app: Flask, account: Account, role: str) -> Account:
    """Give ``account`` the ``role`` (as ``conexoos user set-role`` does) and return it, still logged in."""
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        user.role = role
        db.session.commit()
    return account


def post_as_json_client(staff: Account, path: str, **fields: str) -> TestResponse:
    """``staff`` posting ``fields`` to ``path`` as a JSON client does: the token in its header, JSON asked."""
    return staff.client.post(
        path, data=fields, headers={"X-CSRFToken": staff.csrf, "Accept": "application/json"}
    )
