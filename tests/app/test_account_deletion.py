"""Settings → Account → Delete: the password is asked for, Stripe is cancelled first (nothing is deleted
when it cannot be), then every row, image and analytics record of the user goes; the name is held 30 days."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import account_deletion, account_export, username_holds
from conexoos.app.models.persistent import HeldUsername, User
from conexoos.app.server import tasks
from conexoos.framework import db
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from .billing_support import billing_app, billing_state, running_standin, subscribe_to_pro
from .conftest import PASSWORD, QUIET, Account, SignUp, post_signup, sign_up
from .leaving_support import account_page, delete_account, rows_per_table, seed_account, uploads
from .two_factor_support import code_at, enrol_totp

pytestmark = pytest.mark.database_matrix
SEEDED_TABLES = (
    "user_link.owner_id",
    "product.owner_id",
    "analytics_event.owner_id",
    "stats_rollup.owner_id",
    "stats_visitor.owner_id",
    "event_quarantine.owner_id",
    "export_job.user_id",
)
"""Tables the seeded account has rows in: the deletion test is only meaningful if they were full before."""


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with running_standin() as server:
        yield server


@pytest.fixture
def app(make_app: AppFactory, standin: StripeStandIn) -> Flask:
    """The product with the test plans and Stripe pointed at the stand-in."""
    return billing_app(make_app, standin)


def test_deletion_removes_every_row_image_and_file_of_the_user_and_only_theirs(
    app: Flask, alice: Account, signed_up: SignUp
) -> None:
    seeded = seed_account(app, alice)
    bob = seed_account(app, signed_up("bob"))
    before = rows_per_table(app, alice.id)
    assert all(before[name] > 0 for name in SEEDED_TABLES), before
    bob_before = rows_per_table(app, bob.account.id)
    with app.app_context():
        exports = sorted(account_export.exports_folder().iterdir())
    assert len(exports) == 2

    response = delete_account(alice, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"

    after = rows_per_table(app, alice.id)
    assert after == dict.fromkeys(after, 0), {name: n for name, n in after.items() if n}
    assert rows_per_table(app, bob.account.id) == bob_before
    for name in seeded.images:
        assert not (uploads(app) / name).exists()
    for name in bob.images:
        assert (uploads(app) / name).is_file()
    with app.app_context():
        assert len(list(account_export.exports_folder().iterdir())) == 1


def test_after_deletion_the_page_links_images_and_session_are_gone(
    app: Flask, client: FlaskClient, alice: Account
) -> None:
    seeded = seed_account(app, alice)
    assert client.get("/alice").status_code == 200
    assert client.get(f"/go/{seeded.link_ids[0]}").status_code == 302
    assert client.get(f"/go/product/{seeded.product_ids[0]}").status_code == 302
    assert client.get(f"/media/{seeded.images[0]}").status_code == 200

    assert delete_account(alice, PASSWORD).status_code == 302

    assert client.get("/alice").status_code == 404
    for link_id in seeded.link_ids:
        assert client.get(f"/go/{link_id}").status_code == 404
    assert client.get(f"/go/product/{seeded.product_ids[0]}").status_code == 404
    assert client.get(f"/media/{seeded.images[0]}").status_code == 404
    # The browser that deleted the account is logged out.
    dashboard = alice.client.get("/dashboard")
    assert dashboard.status_code == 302 and "/login" in dashboard.headers["Location"]
    assert "deleted" in alice.client.get("/").get_data(as_text=True)


def test_a_wrong_or_missing_password_deletes_nothing(app: Flask, alice: Account) -> None:
    alice.add_link()
    before = rows_per_table(app, alice.id)
    wrong = delete_account(alice, "not my password")
    assert wrong.status_code == 403
    assert "password is not correct" in wrong.get_data(as_text=True)
    missing = delete_account(alice, "")
    assert missing.status_code == 422
    assert rows_per_table(app, alice.id) == before
    assert account_page(alice).status_code == 200


def test_with_two_factor_on_the_password_alone_deletes_nothing(app: Flask, alice: Account) -> None:
    secret, recovery = enrol_totp(alice)
    page = account_page(alice).get_data(as_text=True)
    assert "Code from your authenticator app, or a recovery code" in page
    alone = delete_account(alice, PASSWORD)
    assert alone.status_code == 403
    assert "the password alone cannot delete the account" in alone.get_data(as_text=True)
    assert (
        delete_account(alice, PASSWORD, "000000" if code_at(secret) != "000000" else "111111").status_code
        == 403
    )
    assert account_page(alice).status_code == 200
    assert delete_account(alice, PASSWORD, recovery[0]).status_code == 302
    with app.app_context():
        assert User.get_by_username(alice.username) is None


def test_a_subscription_is_cancelled_at_stripe_before_the_account_goes(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription = subscribe_to_pro(client, alice, standin)
    assert billing_state(app, alice.id).plan == "pro"
    assert delete_account(alice, PASSWORD).status_code == 302
    assert len(standin.requests_to("DELETE", f"/v1/subscriptions/{subscription['id']}")) == 1
    assert standin.subscription(subscription["id"])["status"] == "canceled"
    assert rows_per_table(app, alice.id)["user"] == 0


def test_when_stripe_cannot_cancel_nothing_is_deleted_and_the_person_is_told(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    seeded = seed_account(app, alice)
    subscription = subscribe_to_pro(client, alice, standin)
    before = rows_per_table(app, alice.id)
    standin.fail_next("DELETE", f"/v1/subscriptions/{subscription['id']}", status=500)
    response = delete_account(alice, PASSWORD)
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "could not cancel your subscription" in text and "delete your account" in text
    assert re.search(r"role=\"alert\">The payment provider could not cancel", text)
    assert rows_per_table(app, alice.id) == before
    assert standin.subscription(subscription["id"])["status"] == "active"
    for name in seeded.images:
        assert (uploads(app) / name).is_file()
    assert client.get("/alice").status_code == 200
    assert alice.client.get("/dashboard").status_code == 200  # still logged in
    # Once Stripe answers again, the same form deletes the account.
    assert delete_account(alice, PASSWORD).status_code == 302
    assert standin.subscription(subscription["id"])["status"] == "canceled"


def test_the_username_is_held_for_30_days_then_released(app: Flask, alice: Account) -> None:
    assert delete_account(alice, PASSWORD).status_code == 302
    status, page = post_signup(app.test_client(), "alice")
    assert status == 422
    with app.app_context():
        until = username_holds.held_until("alice")
        assert until is not None
        expected = datetime.now(UTC) + timedelta(days=30)
        assert abs((until - expected).total_seconds()) < 60
        [row] = db.session.scalars(db.select(HeldUsername)).all()
        assert row.username_hash != "alice" and "alice" not in row.username_hash
    assert f"released recently and is held until {until:%Y-%m-%d}" in page
    assert post_signup(app.test_client(), "alice2")[0] == 302  # other names are free

    with app.app_context():
        just_before = until - timedelta(minutes=1)
        assert username_holds.held_until("ALICE", now=just_before) == until
        assert username_holds.prune(now=just_before) == 0
        assert username_holds.held_until("alice", now=until) is None
        # The task forgets holds that have run out; here, by moving the hold into the past.
        row = db.session.get(HeldUsername, username_holds.username_hash("alice"))
        assert row is not None
        row.held_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        tasks.release_held_usernames()
        assert db.session.scalars(db.select(HeldUsername)).all() == []
    assert post_signup(app.test_client(), "alice")[0] == 302


def test_the_product_finds_every_table_that_names_a_user(app: Flask) -> None:
    """The deletion's own list of tables covers every user-owned table of the database."""
    from .leaving_support import owned_tables

    with app.app_context():
        found = {(table.name, column.name) for table, column in account_deletion.owned_tables()}
    expected = {(table.name, column) for table, column in owned_tables(app)}
    assert found == expected and ("stats_visitor", "owner_id") in found


def test_a_user_without_rows_elsewhere_is_deleted_too(app: Flask, alice: Account) -> None:
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        deleted = account_deletion.delete_account(user)
        assert deleted.username == "alice" and User.get_by_username("alice") is None


def test_password_guesses_on_the_deletion_form_are_rate_limited(make_app: AppFactory) -> None:
    app = make_app(overrides=QUIET)  # rate limits on
    alice = sign_up(app, "alice")
    statuses = [delete_account(alice, f"guess {n}").status_code for n in range(6)]
    assert statuses == [403] * 5 + [429]
    assert rows_per_table(app, alice.id)["user"] == 1


def set_role(app: Flask, account: Account, role: str) -> None:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        user.role = role
        db.session.commit()


def test_the_last_active_administrator_cannot_delete_their_account(
    app: Flask, alice: Account, bob: Account
) -> None:
    set_role(app, alice, "admin")
    page = account_page(alice).get_data(as_text=True)
    assert "only active administrator" in page  # said before the password is asked
    assert "Delete my account for good" not in page
    refused = delete_account(alice, "not the password")  # no password check is spent on it
    assert refused.status_code == 409
    assert "only active administrator" in refused.get_data(as_text=True)
    assert "make another account an administrator first" in refused.get_data(as_text=True)
    assert account_page(alice).status_code == 200
    set_role(app, bob, "admin")
    assert delete_account(alice, PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.get(User, alice.id) is None
