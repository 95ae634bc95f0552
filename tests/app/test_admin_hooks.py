"""The admin's hooks for features that come later (moderation's reports, SSO's linked identities) and the
invitation rules, exercised with stand-ins for those features' tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Column, ForeignKey, Integer, String, Table, text

from conexoos.app.controllers import invites, site_overview, user_admin
from conexoos.app.models.persistent import User
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def test_open_reports_are_counted_once_a_report_table_exists(app: Flask, boss: Account) -> None:
    with app.app_context():
        assert site_overview.open_reports() is None
        db.session.execute(text("CREATE TABLE report (id INTEGER PRIMARY KEY, status VARCHAR(16) NOT NULL)"))
        db.session.execute(
            text("INSERT INTO report (id, status) VALUES (1, 'open'), (2, 'open'), (3, 'closed')")
        )
        db.session.commit()
    html = boss.client.get("/admin").get_data(as_text=True)
    assert '<strong>2</strong><span class="stat-label">open reports</span>' in html
    assert "moderation comes later" not in html
    with app.app_context():
        db.session.execute(text("DROP TABLE report"))
        db.session.commit()


@pytest.fixture
def identity_table(app: Flask) -> Iterator[Table]:
    """A stand-in for SSO's ``external_identity`` table (revision 0011), removed from the metadata after."""
    metadata = db.Model.metadata
    table = Table(
        "external_identity",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        Column("backend", String(16)),
        Column("provider", String(64)),
        Column("subject", String(255)),
    )
    with app.app_context():
        table.create(db.engine)
    yield table
    with app.app_context():
        table.drop(db.engine)
    metadata.remove(table)


def test_linked_identities_are_shown_when_sso_is_there(
    app: Flask, alice: Account, boss: Account, identity_table: Table
) -> None:
    with app.app_context():
        db.session.execute(
            identity_table.insert().values(
                user_id=alice.id, backend="oidc", provider="keycloak", subject="<b>sub-1</b>"
            )
        )
        db.session.commit()
        user = db.session.get(User, alice.id)
        assert user is not None
        assert user_admin.linked_identities(user) == [
            {"backend": "oidc", "provider": "keycloak", "subject": "<b>sub-1</b>"}
        ]
    page = boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert "provider: keycloak" in page and "&lt;b&gt;sub-1&lt;/b&gt;" in page


def test_without_sso_the_page_says_so(app: Flask, alice: Account, boss: Account) -> None:
    assert "Single sign-on is not part of this version" in boss.client.get(
        f"/admin/users/{alice.id}"
    ).get_data(as_text=True)


def test_an_invitation_is_spent_once(app: Flask, boss: Account, alice: Account) -> None:
    with app.app_context():
        creator = db.session.get(User, boss.id)
        assert creator is not None
        secret = invites.create(creator).url.split("invite=")[1]
        assert invites.usable(secret).used_at is None
        user = db.session.get(User, alice.id)
        assert user is not None
        invites.spend(secret, user)
        db.session.commit()
        with pytest.raises(invites.InviteError, match="already used"):
            invites.spend(secret, user)
        with pytest.raises(invites.InviteError, match="already used"):
            invites.usable(secret)
        with pytest.raises(invites.InviteError, match="not valid"):
            invites.usable("made-up")
