"""The admin's hooks for features that come later (SSO's linked identities) and the invitation rules."""

from __future__ import annotations

import pytest
from flask import Flask

from conexoos.app.controllers import invites
from conexoos.app.models.persistent import ExternalIdentity, User
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def test_linked_identities_are_shown_escaped(app: Flask, alice: Account, boss: Account) -> None:
    with app.app_context():
        db.session.add(
            ExternalIdentity(
                user_id=alice.id,
                backend="oidc",
                provider="keycloak",
                subject="s-1",
                email="<b>x</b>@example.org",
            )
        )
        db.session.commit()
    page = boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert "keycloak (&lt;b&gt;x&lt;/b&gt;@example.org); linked " in page and "last used never" in page
    assert "<b>x</b>" not in page


def test_without_linked_sign_ins_the_page_says_none(app: Flask, alice: Account, boss: Account) -> None:
    page = boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert 'id="identities">Linked identities</h2>\n  <p class="empty">None.</p>' in page


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
