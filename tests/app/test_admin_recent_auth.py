"""Sudo mode: the administrators' actions that grant power (a role, a second factor reset, a deletion, a
plugin switch) need a login, or a confirmation of the password, less than 15 minutes old."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update
from werkzeug.test import TestResponse

from conexoos.app.blueprints import recent_auth as guard
from conexoos.app.controllers import accounts, recent_auth, reentered_password, second_factor_throttle, totp
from conexoos.app.models.persistent import User, UserSession
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from conexoos.framework.plugins import PluginState, installed_plugins
from tests.conftest import AppFactory

from .conftest import QUIET, Account, SignUp, form_token, log_in, sign_up
from .plugin_support import CONTACT
from .staff_support import make_staff, post_as_json_client
from .test_moderation import file
from .test_takeover_defences import mail_to
from .two_factor_support import code_at, enrol_totp

HEADING = "Confirm it's you"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ACTION = re.compile(r'<form method="post" action="([^"]+)">')


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def age_logins(app: Flask, account: Account, minutes: int = 16) -> None:
    """Make every login session of ``account`` ``minutes`` old (older than the window by default)."""
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == account.id)
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def role_of(app: Flask, account: Account) -> str:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        return user.role


def make_admin(staff: Account, target: Account) -> TestResponse:
    return staff.client.post(
        f"/admin/users/{target.id}/role", data={"csrf_token": staff.csrf, "role": "admin"}
    )


def assert_make_admin_waits(app: Flask, staff: Account, target: Account) -> None:
    """``staff`` making ``target`` an administrator gets the "Confirm it's you" page, and nothing changes."""
    assert make_admin(staff, target).status_code == 403
    assert role_of(app, target) == "user"


def confirm_on(staff: Account, page: TestResponse, **fields: str) -> TestResponse:
    """Submit the "Confirm it's you" ``page``'s form as a browser would, with ``fields`` typed in."""
    text = page.get_data(as_text=True)
    action = _ACTION.search(text)
    assert action, text
    hidden = [(html.unescape(name), html.unescape(value)) for name, value in _HIDDEN.findall(text)]
    data = dict(hidden) | fields
    return staff.client.post(html.unescape(action.group(1)), data=data)


def test_a_login_younger_than_the_window_acts_at_once_an_older_one_waits(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp
) -> None:
    age_logins(app, boss, minutes=14)
    assert make_admin(boss, alice).status_code == 302
    assert role_of(app, alice) == "admin"
    bob = signed_up("bob")
    age_logins(app, boss, minutes=16)
    assert_make_admin_waits(app, boss, bob)


def test_an_old_login_gets_the_confirm_page_and_nothing_is_done(
    app: Flask, boss: Account, alice: Account
) -> None:
    age_logins(app, boss)
    page = make_admin(boss, alice)
    text = page.get_data(as_text=True)
    assert page.status_code == 403
    assert f"<h1>{HEADING}</h1>" in text
    assert "Confirm your password to make alice an administrator." in text
    assert ("role", "admin") in _HIDDEN.findall(text)
    assert form_token(page)  # a fresh token of its own
    assert 'name="confirm_access_code"' not in text  # no two-factor on this account
    assert f'<a href="/admin/users/{alice.id}">Cancel</a>' in text  # back to the page it came from
    assert role_of(app, alice) == "user"


def test_the_page_s_form_with_the_password_completes_the_action_and_opens_the_window(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp
) -> None:
    age_logins(app, boss)
    done = confirm_on(boss, make_admin(boss, alice), confirm_access_password=boss.password)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/admin/users/{alice.id}")
    assert role_of(app, alice) == "admin"
    assert boss.password not in boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)

    bob = signed_up("bob")  # the next power action within the window needs nothing more
    assert make_admin(boss, bob).status_code == 302
    assert role_of(app, bob) == "admin"


def test_the_confirmation_lasts_the_window_only(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    age_logins(app, boss)
    assert confirm_on(boss, make_admin(boss, alice), confirm_access_password=boss.password).status_code == 302
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(recent_auth, "utcnow", lambda: later)
    bob = signed_up("bob")
    assert_make_admin_waits(app, boss, bob)


def test_a_wrong_password_shows_the_page_again_and_does_nothing(
    app: Flask, boss: Account, alice: Account
) -> None:
    age_logins(app, boss)
    again = confirm_on(boss, make_admin(boss, alice), confirm_access_password="not the password")
    text = again.get_data(as_text=True)
    assert again.status_code == 403 and f"<h1>{HEADING}</h1>" in text
    assert "That password is not correct. Nothing was done." in text
    assert "not the password" not in text  # never echoed
    assert ("role", "admin") in _HIDDEN.findall(text)
    assert role_of(app, alice) == "user"
    # The page drawn again still works.
    assert confirm_on(boss, again, confirm_access_password=boss.password).status_code == 302
    assert role_of(app, alice) == "admin"


def test_with_two_factor_on_a_code_is_needed_too(app: Flask, boss: Account, alice: Account) -> None:
    secret, _codes = enrol_totp(boss)
    enrol_totp_on(app, alice)  # without it, there is nothing to reset: refused at once
    age_logins(app, boss)
    page = boss.client.post(f"/admin/users/{alice.id}/reset-2fa", data={"csrf_token": boss.csrf})
    assert page.status_code == 403
    assert 'name="confirm_access_code"' in page.get_data(as_text=True)

    refused = confirm_on(boss, page, confirm_access_password=boss.password)
    assert refused.status_code == 403
    assert recent_auth.WRONG_PASSWORD_OR_CODE in refused.get_data(as_text=True)
    wrong_password = confirm_on(
        boss, page, confirm_access_password="not it", confirm_access_code=code_at(secret, 1)
    )  # the same words: which one was wrong is not told
    assert recent_auth.WRONG_PASSWORD_OR_CODE in wrong_password.get_data(as_text=True)
    assert has_totp(app, alice)

    done = confirm_on(
        boss, refused, confirm_access_password=boss.password, confirm_access_code=code_at(secret, 1)
    )
    assert done.status_code == 302
    assert not has_totp(app, alice)


def enrol_totp_on(app: Flask, account: Account) -> None:
    enrol_totp(account)
    assert has_totp(app, account)


def has_totp(app: Flask, account: Account) -> bool:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        return totp.is_enabled(user)


def test_hidden_fields_added_by_hand_do_not_skip_the_confirmation(
    app: Flask, boss: Account, alice: Account
) -> None:
    age_logins(app, boss)
    for forged in (
        {"confirm_access": "1"},
        {"confirm_access": "1", "confirm_access_password": ""},
        {"confirm_access": "1", "recent_auth": "2099-01-01T00:00:00+00:00"},
    ):
        answer = boss.client.post(
            f"/admin/users/{alice.id}/role", data={"csrf_token": boss.csrf, "role": "admin", **forged}
        )
        assert answer.status_code == 403, forged
        assert role_of(app, alice) == "user"


def test_deleting_an_account_waits_for_the_confirmation(app: Flask, boss: Account, alice: Account) -> None:
    age_logins(app, boss)
    page = boss.client.post(
        f"/admin/users/{alice.id}/delete", data={"csrf_token": boss.csrf, "confirm": "alice"}
    )
    assert page.status_code == 403
    assert "Confirm your password to delete the account alice for good." in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, alice.id) is not None
    assert confirm_on(boss, page, confirm_access_password=boss.password).status_code == 302
    with app.app_context():
        assert db.session.get(User, alice.id) is None


def test_an_admin_without_a_password_is_told_to_log_in_again(
    app: Flask, boss: Account, alice: Account
) -> None:
    with app.app_context():
        user = db.session.get(User, boss.id)
        assert user is not None
        accounts.disable_password(user)
        db.session.commit()
    age_logins(app, boss)
    page = make_admin(boss, alice)
    text = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "needs a fresh login: log out, log in again" in text
    assert 'type="password"' not in text
    assert role_of(app, alice) == "user"
    age_logins(app, boss, minutes=1)  # the fresh login counts
    assert make_admin(boss, alice).status_code == 302


def test_json_clients_get_403_confirm_access(app: Flask, boss: Account, alice: Account) -> None:
    age_logins(app, boss)
    answer = post_as_json_client(boss, f"/admin/users/{alice.id}/role", role="admin")
    assert answer.status_code == 403
    error = answer.get_json()["error"]
    assert error["code"] == "confirm_access" and "make alice an administrator" in error["message"]
    assert role_of(app, alice) == "user"


def test_a_confirmation_does_not_carry_over_to_another_login_on_the_same_browser(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp
) -> None:
    carol = make_staff(app, signed_up("carol"), "admin")
    age_logins(app, boss)
    assert confirm_on(boss, make_admin(boss, alice), confirm_access_password=boss.password).status_code == 302

    token = form_token(boss.client.get("/dashboard"))
    assert boss.client.post("/logout", data={"csrf_token": token}).status_code == 302
    log_in(boss.client, carol.username, carol.password)
    carol_here = Account(boss.client, form_token(boss.client.get("/dashboard")), *_credentials(carol))
    age_logins(app, carol)
    bob = signed_up("bob")
    assert_make_admin_waits(app, carol_here, bob)


def _credentials(account: Account) -> tuple[str, str, str, int]:
    return account.username, account.email, account.password, account.id


@pytest.mark.skipif(CONTACT not in installed_plugins(), reason="the sample plugin is not installed")
def test_switching_a_plugin_waits_for_the_confirmation(app: Flask, boss: Account) -> None:
    age_logins(app, boss)
    token = form_token(boss.client.get("/admin/plugins"))
    page = boss.client.post(f"/admin/plugins/{CONTACT}/enable", data={"csrf_token": token})
    assert page.status_code == 403
    assert f"Confirm your password to enable the plugin {CONTACT}" in page.get_data(as_text=True)
    assert '<a href="/admin/plugins">Cancel</a>' in page.get_data(as_text=True)
    assert "enabled at next restart" not in boss.client.get("/admin/plugins").get_data(as_text=True)
    assert confirm_on(boss, page, confirm_access_password=boss.password).status_code == 302
    assert "enabled at next restart" in boss.client.get("/admin/plugins").get_data(as_text=True)
    assert (
        boss.client.post("/admin/plugins/nonexistent/enable", data={"csrf_token": token}).status_code == 404
    )


def test_switching_a_plugin_to_the_state_it_has_asks_for_nothing(app: Flask, boss: Account) -> None:
    """Disabling a plugin that is disabled grants nothing: it asked for the password all the same."""
    age_logins(app, boss)
    token = form_token(boss.client.get("/admin/plugins"))
    again = boss.client.post(f"/admin/plugins/{CONTACT}/disable", data={"csrf_token": token})
    assert again.status_code == 302 and HEADING not in again.get_data(as_text=True)
    assert boss.client.post(f"/admin/plugins/{CONTACT}/enable", data={"csrf_token": token}).status_code == 403


def test_a_recorded_confirmation_counts_for_its_user_and_login_session_only(
    app: Flask, boss: Account, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Logging out deletes the session's data, so no browser flow reaches another login with it: the
    # binding is checked here, on the session data a confirmation leaves.
    monkeypatch.setattr(recent_auth, "current_login_age", lambda: timedelta(hours=1))
    row = {"id": 7}
    monkeypatch.setattr(recent_auth, "current_row_id", lambda: row["id"])
    with app.test_request_context("/admin"):
        boss_user, alice_user = db.session.get(User, boss.id), db.session.get(User, alice.id)
        assert boss_user is not None and alice_user is not None
        assert not recent_auth.is_recent(boss_user)
        recent_auth.confirm(boss_user, boss.password, "", "203.0.113.0/24")
        assert recent_auth.is_recent(boss_user)
        assert not recent_auth.is_recent(alice_user)  # another user in the same session data
        row["id"] = 8
        assert not recent_auth.is_recent(boss_user)  # another login session of the same user


@pytest.fixture
def limited(make_app: AppFactory) -> tuple[Flask, Account, Account]:
    """The product with its rate limits on (in memory): an administrator whose login is old, and alice."""
    limits = {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    app = make_app(overrides={**QUIET, **limits})
    boss = make_staff(app, sign_up(app, "boss"), "admin")
    age_logins(app, boss)
    return app, boss, sign_up(app, "alice")


def test_with_two_factor_on_a_wrong_code_counts_towards_the_owners_alert(
    limited: tuple[Flask, Account, Account],
) -> None:
    """Wrong codes here mailed the owner no alert, as five at the login's second step do: four counted
    there (within the hour) and one here now send it."""
    app, boss, alice = limited
    enrol_totp(boss)
    with app.test_request_context("/"):
        user = db.session.get(User, boss.id)
        assert user is not None
        for _ in range(4):
            second_factor_throttle.record_failure(user, "198.51.100.0/24")
    assert not [subject for subject, _text, _html in mail_to(app, boss.email) if "codes" in subject]
    page = make_admin(boss, alice)
    wrong_code = confirm_on(boss, page, confirm_access_password=boss.password, confirm_access_code="000000")
    assert wrong_code.status_code == 403
    assert recent_auth.WRONG_PASSWORD_OR_CODE in wrong_code.get_data(as_text=True)
    assert role_of(app, alice) == "user"
    subjects = [subject for subject, _text, _html in mail_to(app, boss.email)]
    assert "Wrong codes after your password was entered" in subjects, subjects


def test_past_the_password_checks_budget_the_page_says_when_to_try_again(
    limited: tuple[Flask, Account, Account],
) -> None:
    app, boss, alice = limited
    page = make_admin(boss, alice)
    answers = [confirm_on(boss, page, confirm_access_password="not it") for _ in range(6)]
    assert [answer.status_code for answer in answers] == [403] * 5 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert role_of(app, alice) == "user"


def test_only_the_fields_the_action_reads_are_carried(app: Flask, boss: Account, alice: Account) -> None:
    """Every posted field was written back into the page (a password typed in a field of its own too)."""
    age_logins(app, boss)
    page = boss.client.post(
        f"/admin/users/{alice.id}/role",
        data={
            "csrf_token": boss.csrf,
            "role": "moderator",
            "password": "SECRET",
            **{f"junk{n}": "x" for n in range(50)},
        },
    )
    carried = {name for name, _value in _HIDDEN.findall(page.get_data(as_text=True))} - {"csrf_token"}
    assert carried == {"confirm_access", "role"}
    assert "SECRET" not in page.get_data(as_text=True)


def test_suspending_or_reinstating_a_staff_account_waits_for_the_confirmation(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Suspending another administrator takes their power away, and lifting it gives it back: an old
    session did both at once. Suspending an account without a role is everyday moderation: no wait."""
    other = make_staff(app, signed_up("other"), "admin")
    age_logins(app, boss)
    suspend = f"/admin/users/{other.id}/suspend"
    page = boss.client.post(suspend, data={"csrf_token": boss.csrf, "reason": "spam"})
    assert page.status_code == 403
    assert "Confirm your password to suspend other, an administrator." in page.get_data(as_text=True)
    assert not suspended(app, other)
    assert confirm_on(boss, page, confirm_access_password=boss.password).status_code == 302
    assert suspended(app, other)

    later = utcnow() + timedelta(minutes=16)  # the confirmation is older than the window now
    monkeypatch.setattr(recent_auth, "utcnow", lambda: later)
    page = boss.client.post(f"/admin/users/{other.id}/unsuspend", data={"csrf_token": boss.csrf})
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "Confirm your password to lift the suspension of other, an administrator." in text, text[-2500:]
    assert suspended(app, other)
    plain = boss.client.post(
        f"/admin/users/{alice.id}/suspend", data={"csrf_token": boss.csrf, "reason": "spam"}
    )
    assert plain.status_code == 302 and suspended(app, alice)


def test_suspending_a_staff_account_through_a_report_waits_for_the_confirmation(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp
) -> None:
    """The report queue's Suspend reached the same suspension by another route, and an old session
    suspended another administrator through it at once (outside tester): a stolen session could lock
    every other administrator out by reporting them first."""
    other = make_staff(app, signed_up("other"), "admin")
    age_logins(app, boss)
    about_other, about_alice = file(other, app), file(alice, app)
    suspend = f"/admin/reports/{about_other}/suspend"
    page = boss.client.post(suspend, data={"csrf_token": boss.csrf, "reason": "taking over"})
    assert page.status_code == 403
    assert "Confirm your password to suspend other, an administrator." in page.get_data(as_text=True)
    assert f'<a href="/admin/reports/{about_other}">Cancel</a>' in page.get_data(as_text=True)
    assert not suspended(app, other)
    blank = boss.client.post(suspend, data={"csrf_token": boss.csrf, "reason": " "})  # refused anyway
    assert blank.status_code == 422 and HEADING not in blank.get_data(as_text=True)
    assert confirm_on(boss, page, confirm_access_password=boss.password).status_code == 302
    assert suspended(app, other)
    plain = boss.client.post(
        f"/admin/reports/{about_alice}/suspend", data={"csrf_token": boss.csrf, "reason": "spam"}
    )
    assert plain.status_code == 302 and suspended(app, alice)  # no role: everyday moderation


def suspended(app: Flask, account: Account) -> bool:
    with app.app_context():
        user = db.session.get(User, account.id)
        assert user is not None
        return user.suspended_at is not None


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the accounts whose password the "Confirm it's you" page checked, or counted towards the
    budget of checks, in the test."""
    checked: list[int] = []
    budget, verify = guard.password_check_refused, reentered_password.verify

    def counted(user: User) -> object:
        checked.append(user.id)
        return budget(user)

    def verified(user: User, password: str) -> bool:
        checked.append(user.id)
        return verify(user, password)

    monkeypatch.setattr(guard, "password_check_refused", counted)
    monkeypatch.setattr(reentered_password, "verify", verified)
    return checked


def test_a_request_the_action_refuses_is_refused_at_once_without_a_password_check(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp, password_checks: list[int]
) -> None:
    """A mistyped deletion name, one's own role, a role held already... first showed "Confirm it's you"
    and spent a password check, to be refused only after (outside tester): a request the action refuses
    grants no power, so it gets that refusal at once, even posted with the right password."""
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    age_logins(app, boss)
    for path, fields, status, said in (
        (f"{alice.id}/delete", {"confirm": "alise"}, 400, "Type the account's username to confirm"),
        (f"{boss.id}/delete", {"confirm": "boss"}, 409, "Delete your own account from Settings"),
        (f"{boss.id}/role", {"role": "moderator"}, 403, "You cannot change your own role"),
        (f"{alice.id}/role", {"role": "user"}, 409, "alice already has the role user."),
        (f"{alice.id}/role", {"role": "overlord"}, 400, "Choose one of the roles"),
        (f"{alice.id}/role", {"role": "x" * 40}, 400, "The field role holds at most 16 characters"),
        (f"{alice.id}/reset-2fa", {}, 409, "alice has no two-factor authentication: nothing to reset."),
        (f"{moderator.id}/suspend", {"reason": " "}, 422, "Give the reason for the suspension"),
        (f"{moderator.id}/unsuspend", {}, 409, "moddy is not suspended."),
    ):
        for confirming in ({}, {"confirm_access": "1", "confirm_access_password": boss.password}):
            answer = boss.client.post(
                f"/admin/users/{path}", data={"csrf_token": boss.csrf, **fields, **confirming}
            )
            text = answer.get_data(as_text=True)
            assert (answer.status_code, HEADING in text) == (status, False), (path, fields, confirming)
            assert said in html.unescape(text), (path, fields)
    assert password_checks == []
    assert [role_of(app, account) for account in (boss, alice, moderator)] == ["admin", "user", "moderator"]
    with app.app_context():
        assert db.session.get(User, alice.id) is not None and db.session.get(User, boss.id) is not None
    assert not suspended(app, moderator)

    # A request the action takes still waits for the confirmation (none of the above opened the window).
    page = boss.client.post(
        f"/admin/users/{alice.id}/delete", data={"csrf_token": boss.csrf, "confirm": "alice"}
    )
    assert page.status_code == 403 and HEADING in page.get_data(as_text=True)
    assert_make_admin_waits(app, boss, alice)
    with app.app_context():
        assert db.session.get(User, alice.id) is not None


def test_a_json_client_gets_the_refusal_at_once_naming_the_field(
    app: Flask, boss: Account, alice: Account, password_checks: list[int]
) -> None:
    age_logins(app, boss)
    answer = post_as_json_client(boss, f"/admin/users/{alice.id}/role", role="user")
    assert answer.status_code == 409
    assert answer.get_json()["error"] == {
        "code": "conflict",
        "message": "alice already has the role user.",
        "field": "role",
    }
    assert password_checks == []


def test_enabling_a_plugin_not_installed_any_more_is_refused_at_once(
    app: Flask, boss: Account, password_checks: list[int]
) -> None:
    """A plugin with a saved state but no package was listed, and enabling it asked for the password to
    answer 404 after: it is the 404 at once. Disabling it is allowed, so that still waits."""
    with app.app_context():
        db.session.add(PluginState(name="retired", enabled=True, changed_by="boss"))
        db.session.commit()
    age_logins(app, boss)
    token = form_token(boss.client.get("/admin/plugins"))
    for confirming in ({}, {"confirm_access": "1", "confirm_access_password": boss.password}):
        refused = boss.client.post("/admin/plugins/retired/enable", data={"csrf_token": token, **confirming})
        assert refused.status_code == 404
        assert "no plugin named &#39;retired&#39; is installed" in refused.get_data(as_text=True)
    assert password_checks == []
    page = boss.client.post("/admin/plugins/retired/disable", data={"csrf_token": token})
    assert page.status_code == 403 and HEADING in page.get_data(as_text=True)
