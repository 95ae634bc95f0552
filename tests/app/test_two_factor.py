"""Authenticator apps (TOTP) and recovery codes: enrolment, the login's second step, replays, disabling.

Every step goes through the real forms with their CSRF tokens; codes are computed with pyotp as a phone
would. Marked ``database_matrix``: the atomic "use once" updates must hold on every database.
"""

from __future__ import annotations

import logging
import time

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from conexoos.app.controllers import pending_login, totp
from conexoos.app.controllers.second_factor import (
    disable_second_factors,
    has_second_factor,
    verify_second_factor,
)
from conexoos.app.models.persistent import RecoveryCode, TotpSecret, User
from conexoos.app.server.commands import user_commands
from conexoos.framework import db

from .conftest import PASSWORD, Account, form_token
from .test_takeover_defences import mail_to
from .two_factor_support import (
    code_at,
    enrol_totp,
    password_step,
    post_code,
    session_id,
    shown_codes,
    start_totp,
)

pytestmark = pytest.mark.database_matrix


def test_enrolment_needs_a_matching_code_then_shows_ten_codes_once(app: Flask, alice: Account) -> None:
    settings = alice.client.get("/dashboard/settings").get_data(as_text=True)
    assert 'href="/settings/two-factor"' in settings
    secret = start_totp(alice)
    page = alice.client.get("/settings/two-factor/totp").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page and secret in page
    wrong = alice.client.post("/settings/two-factor/totp", data={"csrf_token": alice.csrf, "code": "000000"})
    assert wrong.status_code == 422 and "does not match" in wrong.get_data(as_text=True)
    with app.app_context():
        user = User.get_by_id(alice.id)
        assert user is not None and not has_second_factor(user)
    confirmed = alice.client.post(
        "/settings/two-factor/totp", data={"csrf_token": alice.csrf, "code": code_at(secret)}
    )
    assert confirmed.status_code == 302
    codes = shown_codes(alice.client)
    assert len(set(codes)) == 10
    again = alice.client.get("/settings/two-factor/recovery-codes")
    assert again.status_code == 302 and again.headers["Location"].endswith("/settings/two-factor")
    with app.app_context():
        user = User.get_by_id(alice.id)
        assert user is not None and has_second_factor(user)
        stored = db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == alice.id)
        ).all()
        row = TotpSecret.of(alice.id)
        assert row is not None and secret not in row.secret  # encrypted at rest
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept


def test_login_asks_for_the_code_and_regenerates_the_session_each_step(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    browser = app.test_client()
    browser.get("/login")
    anonymous = session_id(app, browser)
    token = form_token(browser.get("/login"))
    answer = browser.post(
        "/login?next=/dashboard/settings", data={"csrf_token": token, "login": "alice", "password": PASSWORD}
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/two-factor")
    half = session_id(app, browser)
    assert half and half != anonymous
    assert browser.get("/dashboard").status_code == 302  # not logged in yet
    wrong = post_code(browser, "123456" if code_at(secret, 1) != "123456" else "654321")
    assert wrong.status_code == 401 and "4 tries left" in wrong.get_data(as_text=True)
    used = post_code(browser, code_at(secret, -1))  # the step before now: used up by the enrolment
    assert used.status_code == 401 and "was used already" in used.get_data(as_text=True)
    done = post_code(browser, code_at(secret, 1))  # the enrolment used the current step
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard/settings")
    assert session_id(app, browser) not in (half, anonymous)
    assert browser.get("/dashboard").status_code == 200


def test_a_code_is_accepted_once(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    first, _ = password_step(app, "alice", PASSWORD)
    code = code_at(secret, 1)
    assert post_code(first, code).status_code == 302
    second, _ = password_step(app, "alice", PASSWORD)
    replayed = post_code(second, code)
    assert replayed.status_code == 401
    assert second.get("/dashboard").status_code == 302
    with app.app_context():
        user = User.get_by_id(alice.id)
        assert user is not None
        assert not verify_second_factor(user, code_at(secret, 0))  # an earlier step is refused too


def test_recovery_codes_work_once_and_regenerating_replaces_them(app: Flask, alice: Account) -> None:
    _, codes = enrol_totp(alice)
    browser, _ = password_step(app, "alice", PASSWORD)
    assert post_code(browser, codes[0].upper().replace("-", " ")).status_code == 302  # typed loosely
    again, _ = password_step(app, "alice", PASSWORD)
    assert post_code(again, codes[0]).status_code == 401
    page = alice.client.get("/settings/two-factor").get_data(as_text=True)
    assert "9 unused recovery codes left" in page
    refused = alice.client.post(
        "/settings/two-factor/recovery-codes",
        data={"csrf_token": alice.csrf, "regenerate-confirmation": "not my password"},
    )
    assert refused.status_code == 401
    regenerated = alice.client.post(
        "/settings/two-factor/recovery-codes",
        data={"csrf_token": alice.csrf, "regenerate-confirmation": PASSWORD},
    )
    assert regenerated.status_code == 302
    fresh = shown_codes(alice.client)
    old, _ = password_step(app, "alice", PASSWORD)
    assert post_code(old, codes[1]).status_code == 401
    new, _ = password_step(app, "alice", PASSWORD)
    assert post_code(new, fresh[1]).status_code == 302


def test_turning_the_app_off_needs_the_password_or_a_code(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    refused = alice.client.post(
        "/settings/two-factor/totp/disable", data={"csrf_token": alice.csrf, "disable-confirmation": "999999"}
    )
    assert refused.status_code == 401 and "neither your password" in refused.get_data(as_text=True)
    by_code = alice.client.post(
        "/settings/two-factor/totp/disable",
        data={"csrf_token": alice.csrf, "disable-confirmation": code_at(secret, 1)},
    )
    assert by_code.status_code == 302
    with app.app_context():
        assert TotpSecret.of(alice.id) is None
        assert RecoveryCode.unused_count(alice.id) == 0  # nothing left to recover
    browser, answer = password_step(app, "alice", PASSWORD)
    assert answer.headers["Location"].endswith("/dashboard")
    # And with the password, after enrolling again:
    enrol_totp(alice)
    by_password = alice.client.post(
        "/settings/two-factor/totp/disable", data={"csrf_token": alice.csrf, "disable-confirmation": PASSWORD}
    )
    assert by_password.status_code == 302


def test_five_wrong_codes_end_the_half_login(app: Flask, alice: Account) -> None:
    enrol_totp(alice)
    browser, _ = password_step(app, "alice", PASSWORD)
    for _ in range(4):
        assert post_code(browser, "abc").status_code == 401
    last = post_code(browser, "abc")
    assert last.status_code == 302 and last.headers["Location"].endswith("/login")
    assert browser.get("/login/two-factor").status_code == 302


def test_the_half_login_expires(app: Flask, alice: Account) -> None:
    secret, _ = enrol_totp(alice)
    browser, _ = password_step(app, "alice", PASSWORD)
    with browser.session_transaction() as state:
        state[pending_login.KEY] = {**state[pending_login.KEY], "expires": time.time() - 1}
    expired = browser.get("/login/two-factor")
    assert expired.status_code == 302 and expired.headers["Location"].endswith("/login")
    assert browser.get("/dashboard").status_code == 302


def test_the_second_step_is_rate_limited_per_account(make_app: object, tmp_path: object) -> None:
    from .conftest import QUIET, sign_up

    limited = make_app(overrides=QUIET)  # type: ignore[operator]
    account = sign_up(limited, "carol")
    enrol_totp(account)
    browsers = [password_step(limited, "carol", PASSWORD)[0] for _ in range(2)]
    statuses = [post_code(browsers[index % 2], "000000").status_code for index in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429  # across sessions: the account is counted


def test_the_secret_is_unreadable_under_another_app_key(
    app: Flask, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    secret, _ = enrol_totp(alice)
    app.config["SECRET_KEY"] = "another-key-" + "y" * 40
    with app.app_context(), caplog.at_level(logging.ERROR, logger="conexoos.totp"):
        user = User.get_by_id(alice.id)
        assert user is not None and not totp.verify(user, code_at(secret, 1))
    assert "APP_KEY" in caplog.text


def test_the_seams_for_other_features(app: Flask, alice: Account) -> None:
    secret, codes = enrol_totp(alice)
    with app.app_context():
        user = User.get_by_id(alice.id)
        assert user is not None and has_second_factor(user)
        assert not verify_second_factor(user, "")
        assert not verify_second_factor(user, "not a code")
        assert verify_second_factor(user, code_at(secret, 1))
        assert verify_second_factor(user, codes[3])
        assert not verify_second_factor(user, codes[3])
        disable_second_factors(user)
        assert not has_second_factor(user)
        assert not verify_second_factor(user, codes[4])


def test_deleting_the_user_deletes_the_second_factors(app: Flask, alice: Account) -> None:
    enrol_totp(alice)
    with app.app_context():
        user = User.get_by_id(alice.id)
        assert user is not None
        db.session.execute(User.__table__.delete().where(User.id == alice.id))
        db.session.commit()
        db.session.expire_all()
        assert TotpSecret.of(alice.id) is None and RecoveryCode.unused_count(alice.id) == 0


def test_operators_turn_two_factor_off(app: Flask, alice: Account) -> None:
    enrol_totp(alice)
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(user_commands(), ["disable-2fa", "alice"])
        assert result.exit_code == 0, result.output
        assert "alice" in result.output and "turned off" in result.output
        user = User.get_by_id(alice.id)
        assert user is not None and not has_second_factor(user)
        missing = runner.invoke(user_commands(), ["disable-2fa", "nobody"])
    assert missing.exit_code != 0 and "no account" in missing.output.lower()
    told = [text for subject, text, _ in mail_to(app, alice.email) if "sign-in protection" in subject]
    assert "staff turned two-factor authentication off" in told[-1]  # the owner is told
