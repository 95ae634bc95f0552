"""The admin panel's pages and actions: suspension, roles, plans, second factors, deletion, audit log."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime
from email import message_from_string
from email.policy import default as default_policy

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from conexoos.app.controllers import audit, totp
from conexoos.app.models.persistent import AuditEntry, Invite, User, UserSession
from conexoos.framework import db
from conexoos.framework.mail import OutboxMessage
from tests.app.analytics_support import flush_events
from tests.app.staff_support import make_staff, post_as_json_client
from tests.conftest import AppFactory

from .conftest import BROWSER_UA, Account, SignUp, form_token, log_in, product_app, sign_up
from .test_takeover_defences import mail_to
from .two_factor_support import enrol_totp


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def post(staff: Account, path: str, **data: str) -> int:
    return staff.client.post(path, data={"csrf_token": staff.csrf, **data}).status_code


def entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        db.session.expunge_all()
    return found


def sessions_of(app: Flask, user_id: int) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).where(UserSession.user_id == user_id)) or 0)


def test_suspension_hides_the_page_and_links_and_ends_every_session(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Shop", "https://shop.example/")
    assert client.get(f"/{alice.username}").status_code == 200
    assert client.get(f"/go/{link['id']}").status_code == 302
    assert sessions_of(app, alice.id) == 1

    assert post(boss, f"/admin/users/{alice.id}/suspend", reason="Phishing <b>kit</b>") == 302
    assert client.get(f"/{alice.username}").status_code == 404
    assert client.get(f"/go/{link['id']}").status_code == 404
    assert sessions_of(app, alice.id) == 0
    assert alice.client.get("/dashboard").status_code == 302  # logged out at once

    log_in(alice.client, alice.username)  # the owner may still log in, and is told why
    dashboard = alice.client.get("/dashboard").get_data(as_text=True)
    assert "Your page is suspended" in dashboard and "Phishing &lt;b&gt;kit&lt;/b&gt;" in dashboard
    assert (
        alice.client.get(f"/{alice.username}").status_code == 404
    )  # the owner sees the notice, not the page

    [entry] = entries(app, "user.suspend")
    assert (entry.actor_name, entry.target_type, entry.target_id) == ("boss", "user", str(alice.id))
    assert audit.decoded(entry.before) == {"suspended_at": None, "suspension_reason": ""}
    after = audit.decoded(entry.after)
    assert after is not None and after["suspension_reason"] == "Phishing <b>kit</b>" and after["suspended_at"]

    assert post(boss, f"/admin/users/{alice.id}/unsuspend") == 302
    assert client.get(f"/{alice.username}").status_code == 200
    assert client.get(f"/go/{link['id']}").status_code == 302
    [lifted] = entries(app, "user.unsuspend")
    assert audit.decoded(lifted.after) == {"suspended_at": None, "suspension_reason": ""}


def test_the_last_active_administrator_cannot_be_demoted_suspended_or_deleted(
    app: Flask, boss: Account, signed_up: SignUp
) -> None:
    for path, data, status in (
        ("role", {"role": "user"}, 403),  # nobody changes their own role
        ("suspend", {"reason": "t"}, 403),  # nor suspends themself
        ("delete", {"confirm": "boss"}, 409),
    ):
        response = boss.client.post(f"/admin/users/{boss.id}/{path}", data={"csrf_token": boss.csrf, **data})
        assert response.status_code == status, path
        text = response.get_data(as_text=True)
        assert any(why in text for why in ("only active administrator", "own account", "own role")), path
    with app.app_context():
        assert db.session.get(User, boss.id).role == "admin"  # type: ignore[union-attr]

    second = make_staff(app, signed_up("second"), "admin")
    assert post(second, f"/admin/users/{boss.id}/role", role="moderator") == 302  # another admin remains
    log_in(boss.client, "boss")  # the change ended boss's sessions
    assert boss.client.get("/admin/audit").status_code == 404  # a moderator now: no audit log
    assert post(boss, f"/admin/users/{second.id}/role", role="user") == 404  # administrators only
    [entry] = entries(app, "user.role")
    assert (audit.decoded(entry.before), audit.decoded(entry.after)) == (
        {"role": "admin"},
        {"role": "moderator"},
    )


def test_role_plan_second_factor_and_verification_actions_are_logged(
    app: Flask, alice: Account, boss: Account
) -> None:
    enrol_totp(alice)
    shown = boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert "Two-factor</dt><dd>on: authenticator app; 10 recovery codes left</dd>" in shown  # was only "on"
    assert post(boss, f"/admin/users/{alice.id}/reset-2fa") == 302
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and not totp.is_enabled(user)
    [reset] = entries(app, "user.reset_2fa")
    assert (audit.decoded(reset.before), audit.decoded(reset.after)) == (
        {"two_factor": True},
        {"two_factor": False},
    )
    assert "Two-factor</dt><dd>off" in boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    told = [text for subject, text, _ in mail_to(app, alice.email) if "sign-in protection" in subject]
    assert len(told) == 2  # the owner is told, as when they turn it on or off themselves
    assert "staff turned two-factor authentication off" in told[-1]
    assert "someone may be using your account" not in told[-1]  # staff did it: no contradicting advice

    assert post(boss, f"/admin/users/{alice.id}/role", role="moderator") == 302
    assert "alice is now a moderator." in boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert post(boss, f"/admin/users/{alice.id}/role", role="overlord") == 400
    assert post(boss, f"/admin/users/{alice.id}/plan", plan="nonexistent") == 400
    assert post(boss, f"/admin/users/{alice.id}/plan", plan="gratis") == 409  # already: nothing logged
    assert entries(app, "user.plan") == []
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.role == "moderator"
    assert sessions_of(app, alice.id) == 0  # new powers start from a new login
    [role] = entries(app, "user.role")
    assert (role.actor_name, audit.decoded(role.after)) == ("boss", {"role": "moderator"})
    assert post(boss, f"/admin/users/{alice.id}/resend-verification") == 302
    [resent] = entries(app, "user.resend_verification")
    assert audit.decoded(resent.after) == {"email": "alice@example.com"}
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.email_verified_at = user.created_at
        db.session.commit()
    assert post(boss, f"/admin/users/{alice.id}/resend-verification") == 409


def test_delete_needs_the_username_and_removes_the_account(app: Flask, alice: Account, boss: Account) -> None:
    assert post(boss, f"/admin/users/{alice.id}/delete", confirm="wrong") == 400
    assert post(boss, f"/admin/users/{alice.id}/delete", confirm="alice") == 302
    with app.app_context():
        assert db.session.get(User, alice.id) is None
    [entry] = entries(app, "user.delete")
    assert entry.target_id == str(alice.id) and audit.decoded(entry.before)["username"] == "alice"  # type: ignore[index]
    assert boss.client.get(f"/admin/users/{alice.id}").status_code == 404


def test_deleting_the_actor_keeps_the_name_in_the_log(
    app: Flask, alice: Account, boss: Account, signed_up: SignUp
) -> None:
    other = make_staff(app, signed_up("other"), "admin")
    assert post(other, f"/admin/users/{alice.id}/suspend", reason="spam") == 302
    assert post(boss, f"/admin/users/{other.id}/delete", confirm="other") == 302
    [entry] = entries(app, "user.suspend")
    assert (entry.actor_id, entry.actor_name) == (None, "other")


def test_user_search_pages_by_25_in_a_stable_order(app: Flask, boss: Account, signed_up: SignUp) -> None:
    with app.app_context():
        for number in range(30):
            name = f"person{number:02d}"
            person = User(email=f"p{number}@example.com", username=name, password_hash="x")
            person.display_name = f"Person {number}"
            db.session.add(person)
        db.session.commit()
    first = boss.client.get("/admin/users?q=person").get_data(as_text=True)
    second = boss.client.get("/admin/users?q=person&page=2").get_data(as_text=True)
    assert "30 accounts" in first and "Page 1 of 2" in first
    assert first.count("/admin/users/") == 25 and second.count("/admin/users/") == 5
    assert "person00" in first and "person29" in second
    assert "1 account " in boss.client.get("/admin/users?q=Person+7").get_data(as_text=True).replace(".", " ")
    assert (
        boss.client.get("/admin/users?q=%25").get_data(as_text=True).count("/admin/users/") == 0
    )  # literal %
    assert boss.client.get("/admin/users?page=0").status_code == 400
    assert boss.client.get("/admin/users?page=abc").status_code == 400


def test_the_user_list_filters_on_role_and_state_and_its_pages_keep_the_filters(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp
) -> None:
    with app.app_context():
        for number in range(27):
            db.session.add(
                User(email=f"m{number}@example.com", username=f"mod{number:02d}", password_hash="x")
            )
        db.session.flush()
        db.session.execute(update(User).where(User.username.like("mod%")).values(role="moderator"))
        db.session.execute(update(User).where(User.id == alice.id).values(suspended_at=datetime.now(UTC)))
        db.session.commit()

    def listed(query: str) -> str:
        response = boss.client.get(f"/admin/users?{query}")
        assert response.status_code == 200, query
        return response.get_data(as_text=True)

    moderators = listed("role=moderator")
    assert "27 accounts with the role moderator." in moderators and "mod00" in moderators
    assert 'href="/admin/users?role=moderator&amp;page=2"' in moderators
    assert "mod26" in listed("role=moderator&page=2") and ">boss<" not in moderators
    suspended = listed("state=suspended")
    assert "1 account suspended." in suspended and ">alice<" in suspended
    assert ">alice<" not in listed("state=active") and ">boss<" in listed("state=active&role=admin")
    assert "0 accounts matching “mod”, with the role admin." in listed("q=mod&role=admin")
    for refused in ("role=owner", "state=deleted", "role=" + "x" * 30):
        response = boss.client.get(f"/admin/users?{refused}")
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and ("Choose a" in text or "at most 20 characters" in text), (
            refused
        )


def test_names_are_escaped_everywhere_in_the_admin(app: Flask, signed_up: SignUp, boss: Account) -> None:
    victim = signed_up("mallory")
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    settings = victim.client.get("/dashboard/settings")
    victim.client.post(
        "/dashboard/settings",
        data={"csrf_token": form_token(settings), "display_name": payload[:60], "bio": payload},
    )
    victim.add_link(payload[:100], "https://example.com/?q=<script>")
    assert post(boss, f"/admin/users/{victim.id}/suspend", reason=payload) == 302
    for path in ("/admin/users", f"/admin/users/{victim.id}", "/admin/audit"):
        html = boss.client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html, path


def test_audit_log_filters_and_exports_csv_with_formulas_escaped(
    app: Flask, signed_up: SignUp, boss: Account
) -> None:
    evil = signed_up("evil")
    assert post(boss, f"/admin/users/{evil.id}/suspend", reason='=HYPERLINK("http://x")') == 302
    assert post(boss, f"/admin/users/{evil.id}/unsuspend") == 302
    page = boss.client.get("/admin/audit?action=user.suspend").get_data(as_text=True)
    assert "2 entries" not in page and "1 entry" in page
    assert "1 entry" in boss.client.get(
        f"/admin/audit?target_type=user&target_id={evil.id}&action=user.unsuspend"
    ).get_data(as_text=True)
    assert "0 entries" in boss.client.get("/admin/audit?actor=nobody").get_data(as_text=True)
    assert "2 entries" in boss.client.get("/admin/audit?actor=BOSS").get_data(as_text=True)
    assert "0 entries" in boss.client.get("/admin/audit?until=2000-01-01").get_data(as_text=True)
    for bad in ("since=yesterday", "until=9999-12-31", "since=0001-01-01", "actor=%00"):
        assert boss.client.get(f"/admin/audit?{bad}").status_code == 400, bad
        assert boss.client.get(f"/admin/audit.csv?{bad}").status_code == 400, bad
    assert boss.client.get("/admin/audit?page=-1").status_code == 400
    words = boss.client.get("/admin/audit?since=2026-13-01").get_data(as_text=True)
    assert "“From (UTC day)” (since=2026-13-01) is not a day: write it YYYY-MM-DD" in words

    links = boss.client.get("/admin/audit?action=user.suspend&_external=1&_anchor=x").get_data(as_text=True)
    assert 'href="/admin/audit.csv?action=user.suspend"' in links  # only the filters are carried on
    export = boss.client.get("/admin/audit.csv?action=user.suspend")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0][:5] == ["id", "at (UTC)", "actor id", "actor", "action"] and len(rows) == 2
    summary, after = rows[1][7], rows[1][9]
    assert summary.startswith("evil suspended: =HYPERLINK")  # not at a cell's start: harmless
    assert json.loads(after)["suspension_reason"].startswith("=HYPERLINK")
    with app.app_context():  # a cell that starts like a formula is escaped
        audit.record("test.formula", ("user", "=1+1"), None, None, "=cmd|' /C calc'!A0", actor=None)
        db.session.commit()
    rows = list(
        csv.reader(
            io.StringIO(boss.client.get("/admin/audit.csv?action=test.formula").get_data(as_text=True))
        )
    )
    assert rows[1][6] == "'=1+1" and rows[1][7] == "'=cmd|' /C calc'!A0"


def test_audit_log_says_which_filters_apply_and_which_parameters_it_ignored(
    app: Flask, signed_up: SignUp, boss: Account
) -> None:
    evil = signed_up("evil")
    assert post(boss, f"/admin/users/{evil.id}/suspend", reason="Spam") == 302
    whole = boss.client.get("/admin/audit?date_from=2026-13-45").get_data(as_text=True)  # not a filter
    assert "1 entry: the whole log, no filter." in whole
    assert "Not filters of this page, so ignored: date_from." in whole
    assert "ignored" not in boss.client.get("/admin/audit?page=1").get_data(as_text=True)
    filtered = boss.client.get("/admin/audit?action=user.suspend&since=2020-01-01&until=9998-01-01")
    assert "1 entry with action “user.suspend”, from 2020-01-01 to 9998-01-01." in filtered.get_data(
        as_text=True
    )
    assert "0 entries with actor “nobody”, up to 2000-01-01." in boss.client.get(
        "/admin/audit?actor=nobody&until=2000-01-01"
    ).get_data(as_text=True)


def test_audit_log_refuses_days_in_the_wrong_order_and_its_export_a_mistyped_filter(boss: Account) -> None:
    for path in ("/admin/audit", "/admin/audit.csv"):  # was 0 entries without a word
        backwards = boss.client.get(f"{path}?since=2026-02-01&until=2026-01-01")
        assert backwards.status_code == 400, path
        assert "(since=2026-02-01) is after “To (UTC day)” (until=2026-01-01)" in backwards.get_data(
            as_text=True
        )
    for bad in ("since=2026-13-45", "until=notadate"):
        assert boss.client.get(f"/admin/audit.csv?{bad}").status_code == 400, bad
    mistyped = boss.client.get("/admin/audit.csv?date_from=2026-01-01")  # was the whole log
    assert mistyped.status_code == 400
    assert "The audit export has no filter date_from: its filters are actor" in mistyped.get_data(
        as_text=True
    )
    assert boss.client.get("/admin/audit.csv?since=2026-01-01").status_code == 200


def test_overview_counts_accounts_pages_and_clicks_and_shows_health(
    app: Flask, alice: Account, boss: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Shop", "https://shop.example/")
    for _ in range(2):
        assert client.get(f"/go/{link['id']}", headers={"User-Agent": BROWSER_UA}).status_code == 302
    flush_events(boss.client.application)  # as the task analytics-buffer-flush does
    html = boss.client.get("/admin").get_data(as_text=True)
    assert '<strong>2</strong><span class="stat-label">accounts' in html
    assert '<strong>2</strong><span class="stat-label">clicks today' in html
    assert '<strong>0</strong><span class="stat-label">open reports</span>' in html
    assert 'Database</dt><dd class="state-ok">ok' in html
    assert "Mail outbox" in html and "Scheduled tasks" in html and "Media storage" in html


def test_signup_policy_closed_and_invitations(app: Flask, boss: Account, client: FlaskClient) -> None:
    assert post(boss, "/admin/signup-policy", policy="closed") == 302
    assert client.get("/signup").status_code == 403
    refused = boss.client.post("/admin/signup-policy", data={"csrf_token": boss.csrf, "policy": "nonsense"})
    assert refused.status_code == 422
    assert "The sign-up policy was not changed. Choose one of: open, invite, closed." in refused.get_data(
        True
    )
    assert post(boss, "/admin/signup-policy", policy="invite") == 302
    assert client.get("/signup").status_code == 403
    page = boss.client.post(
        "/admin/invites", data={"csrf_token": boss.csrf, "note": "for Zoe"}, follow_redirects=True
    )
    link = page.get_data(as_text=True).split('id="invite-link">')[1].split("<")[0]
    path = link.replace("http://localhost", "").replace("&amp;", "&")
    form = client.get(path)
    assert form.status_code == 200
    data = {
        "csrf_token": form_token(form),
        "email": "zoe@example.com",
        "username": "zoe",
        "password": "correct horse battery staple",
    }
    assert client.post(path, data=data).status_code == 302
    second = app.test_client()
    assert second.get(path).status_code == 410  # single use
    assert [entry.summary for entry in entries(app, "setting.change")] == [
        "Who may sign up: 'open' → 'closed'",
        "Who may sign up: 'closed' → 'invite'",
    ]
    assert len(entries(app, "invite.create")) == 1


def test_an_invitation_is_mailed_to_the_address_given_and_refused_for_a_member_or_a_bad_address(
    app: Flask, boss: Account, alice: Account, client: FlaskClient
) -> None:
    assert post(boss, "/admin/signup-policy", policy="invite") == 302

    def invite(**data: str) -> tuple[int, str]:
        response = boss.client.post(
            "/admin/invites", data={"csrf_token": boss.csrf, **data}, follow_redirects=True
        )
        return response.status_code, response.get_data(as_text=True)

    status, html = invite(email=" Zoe@Example.COM ")
    assert status == 200 and "The invitation is on its way to zoe@example.com." in html
    link = html.split('id="invite-link">')[1].split("<")[0].replace("&amp;", "&")
    with app.app_context():
        [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "zoe@example.com"))
        parsed = message_from_string(mail.message, policy=default_policy)
        text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert mail.subject == "You are invited to Conexoos" and link in text
    assert client.get(link.replace("http://localhost", "")).status_code == 200
    assert [json.loads(entry.after or "{}")["mailed_to"] for entry in entries(app, "invite.create")] == [
        "zoe@example.com"
    ]
    assert "<td>zoe@example.com (mailed)</td>" in html  # the note defaults to the address
    noted = invite(email="yann@example.com", note="Yann, our designer")[1]
    assert "<td>Yann, our designer (mailed to yann@example.com)</td>" in noted

    for address, words in (
        ("ALICE@example.com", "alice has an account with this address already"),
        ("a;b@example.com", "Enter a valid email address"),
        ("a@example.com\r\nBcc: evil@example.com", "Enter a valid email address"),
        ("a\u202e@example.com", "Enter a valid email address"),
        ("a" * 300 + "@example.com", "An email address holds at most 254 characters."),
    ):
        status, html = invite(email=address, note="kept")
        assert status == 422 and words in html and 'aria-invalid="true"' in html, address
        assert 'value="kept"' in html
    for note in ("\u202eevil", "bell\x07", "n" * 101):  # a bare 400 before, the form lost
        status, html = invite(email="kept@example.com", note=note)
        assert status == 422 and 'id="note-error"' in html and "The field note holds at most 100" in html
        assert 'value="kept@example.com"' in html
    assert len(entries(app, "invite.create")) == 2  # the refusals made nothing
    with app.app_context():
        invited = select(OutboxMessage.recipient).where(
            OutboxMessage.subject == "You are invited to Conexoos"
        )
        assert sorted(db.session.scalars(invited)) == [
            "yann@example.com",
            "zoe@example.com",
        ]  # no refused one
        assert not db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient.like("a;b%"))).all()


def test_closed_sign_up_takes_invited_people_only_and_hides_the_calls_to_sign_up(
    app: Flask, boss: Account, client: FlaskClient
) -> None:
    for page in ("/", "/login"):
        assert "/signup" in client.get(page).get_data(as_text=True)
    assert post(boss, "/admin/signup-policy", policy="closed") == 302
    refused = client.get("/signup")
    assert refused.status_code == 403 and "only people its administrators invite" in refused.get_data(True)
    for page in ("/", "/login"):
        html = client.get(page).get_data(as_text=True)
        assert "/signup" not in html and "Create your page" not in html, page
    page = boss.client.post(
        "/admin/invites", data={"csrf_token": boss.csrf, "note": "for Zoe"}, follow_redirects=True
    )
    link = page.get_data(as_text=True).split('id="invite-link">')[1].split("<")[0]
    path = link.replace("http://localhost", "").replace("&amp;", "&")
    secret = path.split("invite=")[1]
    assert f"/signup?invite={secret}" in client.get(f"/login?invite={secret}").get_data(as_text=True)
    form = client.get(path)
    assert form.status_code == 200
    data = {
        "csrf_token": form_token(form),
        "email": "zoe@example.com",
        "username": "zoe",
        "password": "correct horse battery staple",
    }
    assert client.post(path, data=data).status_code == 302
    with app.app_context():
        assert User.get_by_username("zoe") is not None


def test_a_moderator_suspends_users_but_not_staff(
    app: Flask, alice: Account, boss: Account, signed_up: SignUp
) -> None:
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    refused = moderator.client.post(f"/admin/users/{boss.id}/suspend", data={"csrf_token": moderator.csrf})
    assert refused.status_code == 403
    assert "Only an administrator may do this to boss, an admin." in refused.get_data(as_text=True)
    other = make_staff(app, signed_up("other"), "moderator")
    assert "to other, a moderator." in moderator.client.post(
        f"/admin/users/{other.id}/suspend", data={"csrf_token": moderator.csrf}
    ).get_data(as_text=True)
    assert post(moderator, f"/admin/users/{alice.id}/suspend", reason="spam") == 302
    assert post(moderator, f"/admin/users/{alice.id}/unsuspend") == 302
    assert post(moderator, f"/admin/users/{alice.id}/role", role="admin") == 404  # administrators only
    assert [entry.actor_name for entry in entries(app, "user.suspend")] == ["moddy"]
    with app.app_context():
        assert db.session.get(User, boss.id).suspended_at is None  # type: ignore[union-attr]


def test_a_staff_page_offers_only_the_actions_its_reader_may_take(
    app: Flask, alice: Account, boss: Account, signed_up: SignUp
) -> None:
    """A moderator was shown Suspend on an administrator's page (a 403 when pressed), and everyone was
    shown Reset two-factor for accounts without it (a 409)."""
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    on_admin = moderator.client.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert f'action="/admin/users/{boss.id}/suspend"' not in on_admin
    assert "Only an administrator may do this to boss, an admin." in on_admin
    on_user = moderator.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert f'action="/admin/users/{alice.id}/suspend"' in on_user

    reset = f'action="/admin/users/{alice.id}/reset-2fa"'
    assert reset not in boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    enrol_totp(alice)
    assert reset in boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)


def test_admin_free_text_refuses_bidi_overrides(app: Flask, alice: Account, boss: Account) -> None:
    refused = boss.client.post(
        f"/admin/users/{alice.id}/suspend",
        data={"csrf_token": boss.csrf, "reason": "spam \u2066hidden\u2069"},
    )
    assert refused.status_code == 422 and "right-to-left overrides" in refused.get_data(as_text=True)
    assert post(boss, f"/admin/users/{alice.id}/suspend", reason="spam") == 302


@pytest.mark.parametrize("page", ["\u0663", "\uff11", "1.5", "0", "100001", "9" * 5000, "0" * 9 + "100001"])
@pytest.mark.parametrize(
    "path", ["/admin/users", "/admin/audit", "/admin/reports", "/admin/blocklist", "/admin/media"]
)
def test_every_paged_admin_list_takes_only_small_ascii_page_numbers(
    boss: Account, path: str, page: str
) -> None:
    refused = boss.client.get(path, query_string={"page": page})
    assert refused.status_code == 400 and "page is a whole number from 1 to 100000" in refused.get_data(
        as_text=True
    )


def test_a_page_past_the_last_is_a_404(boss: Account) -> None:
    assert boss.client.get("/admin/users?page=1").status_code == 200
    assert boss.client.get("/admin/users?page=" + "0" * 20 + "1").status_code == 200
    past = boss.client.get("/admin/users?page=2")
    assert past.status_code == 404 and "There is no page 2: the list has 1 page." in past.get_data(
        as_text=True
    )
    assert boss.client.get("/admin/audit?page=2").status_code == 404


def test_invitations_show_their_state_and_can_be_revoked(
    app: Flask, boss: Account, client: FlaskClient
) -> None:
    assert post(boss, "/admin/signup-policy", policy="invite") == 302
    links = []
    for note in ("used", "revoked", "expired"):
        page = boss.client.post(
            "/admin/invites", data={"csrf_token": boss.csrf, "note": note}, follow_redirects=True
        )
        link = page.get_data(as_text=True).split('id="invite-link">')[1].split("<")[0]
        links.append(link.replace("http://localhost", "").replace("&amp;", "&"))
    form = client.get(links[0])
    data = {
        "csrf_token": form_token(form),
        "email": "zoe@example.com",
        "username": "zoe",
        "password": "correct horse battery staple",
    }
    assert client.post(links[0], data=data).status_code == 302
    with app.app_context():
        invite_ids = {row.note: row.id for row in db.session.scalars(select(Invite))}
        expired = db.session.get(Invite, invite_ids["expired"])
        assert expired is not None
        expired.expires_at = expired.created_at
        db.session.commit()
    assert post(boss, f"/admin/invites/{invite_ids['revoked']}/revoke") == 302
    assert client.get(links[1]).status_code == 410
    assert post(boss, f"/admin/invites/{invite_ids['revoked']}/revoke") == 302  # refused: already ended
    again = boss.client.get("/admin/invites").get_data(as_text=True)
    assert f"Invitation {invite_ids['revoked']} has already been revoked." in again
    assert post(boss, f"/admin/invites/{invite_ids['expired']}/revoke") == 302
    assert f"Invitation {invite_ids['expired']} has already expired." in boss.client.get(
        "/admin/invites"
    ).get_data(as_text=True)
    assert post(boss, "/admin/invites/9999/revoke") == 404
    html = boss.client.get("/admin/invites").get_data(as_text=True)
    assert "by zoe" in html and "open until" not in html
    assert html.count("expired ") == 1 and html.count("revoked ") == 1
    assert "revoked by the site" in client.get(links[1]).get_data(as_text=True)
    assert [entry.summary for entry in entries(app, "invite.revoke")] == [
        f"invitation {invite_ids['revoked']} revoked"
    ]
    [used] = entries(app, "invite.use")
    assert used.summary == f"invitation {invite_ids['used']} used by zoe"


def test_no_op_changes_are_refused_or_ignored_and_not_logged(
    app: Flask, alice: Account, boss: Account
) -> None:
    assert post(boss, "/admin/signup-policy", policy="open") == 302  # already open
    assert entries(app, "setting.change") == []
    refused = boss.client.post(f"/admin/users/{alice.id}/reset-2fa", data={"csrf_token": boss.csrf})
    assert refused.status_code == 409 and "nothing to reset" in refused.get_data(as_text=True)
    assert entries(app, "user.reset_2fa") == []


def test_resending_verification_is_limited_per_account(make_app: AppFactory, signed_up: SignUp) -> None:
    limited = product_app(make_app, {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}})
    alice = sign_up(limited, "alice")
    carol = sign_up(limited, "carol")
    boss = make_staff(limited, sign_up(limited, "boss"), "admin")
    assert post(boss, f"/admin/users/{alice.id}/resend-verification") == 302
    again = boss.client.post(f"/admin/users/{alice.id}/resend-verification", data={"csrf_token": boss.csrf})
    assert again.status_code == 429 and "less than a minute ago" in again.get_data(as_text=True)
    assert post(boss, f"/admin/users/{carol.id}/resend-verification") == 302
    assert len(entries(limited, "user.resend_verification")) == 2


def test_the_invitations_not_shown_are_counted_in_words(app: Flask, boss: Account) -> None:
    with app.app_context():
        now = datetime.now(UTC)
        for number in range(51):
            db.session.add(Invite(token_hash=f"{number:064d}", note="", created_at=now, expires_at=now))
        db.session.commit()
    html = boss.client.get("/admin/invites").get_data(as_text=True)
    assert "1 older invitation is not shown." in html


def test_an_address_stored_before_it_was_refused_is_not_a_500_when_mailed_again(
    app: Flask, alice: Account, boss: Account
) -> None:
    """Such addresses (``a;b@…``) can no longer be typed; one stored earlier gets words, not a 500."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == alice.id).values(email="a;b@example.net"))
        db.session.commit()
    refused = boss.client.post(f"/admin/users/{alice.id}/resend-verification", data={"csrf_token": boss.csrf})
    assert refused.status_code == 409 and "cannot be mailed" in refused.get_data(as_text=True)
    assert entries(app, "user.resend_verification") == []
    own = alice.client.post("/settings/email/resend", data={"csrf_token": alice.csrf}, follow_redirects=True)
    assert own.status_code == 200 and "cannot be mailed: change your address" in own.get_data(as_text=True)


def test_a_suspension_needs_a_reason_and_a_refused_one_is_told_on_the_accounts_page(
    app: Flask, alice: Account, boss: Account
) -> None:
    """An empty reason suspended the account, and one over 300 characters was a bare 400 page (outside
    tester): each is a 422 on the account's page, the form keeping what was typed."""
    form = f'action="/admin/users/{alice.id}/suspend"'
    for reason, said in (
        ("", "Give the reason for the suspension: its owner reads it on their dashboard."),
        ("   ", "Give the reason for the suspension"),
        ("x" * 301, "The reason holds at most 300 characters; this one has 301."),
    ):
        refused = boss.client.post(
            f"/admin/users/{alice.id}/suspend", data={"csrf_token": boss.csrf, "reason": reason}
        )
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422 and said in html and form in html, reason
        assert f'name="reason" maxlength="300" required value="{reason}"' in html
    assert (
        'name="reason" maxlength="300" required value=""' in boss.client.get(f"/admin/users/{alice.id}").text
    )
    assert entries(app, "user.suspend") == []
    assert post(boss, f"/admin/users/{alice.id}/suspend", reason="x" * 300) == 302
    [entry] = entries(app, "user.suspend")
    assert audit.decoded(entry.after)["suspension_reason"] == "x" * 300  # type: ignore[index]


def test_a_suspension_reason_that_shows_nothing_is_refused(app: Flask, alice: Account, boss: Account) -> None:
    """A zero-width space, a Hangul filler, a Braille blank, a lone accent... suspended with a reason the
    owner could not see (outside tester): each is refused as no reason at all."""
    for reason in ("\u200b", "\u3164", "\u2800", "\u0301", "\u200d\u2060", "\ufeff", " \u200b "):
        refused = boss.client.post(
            f"/admin/users/{alice.id}/suspend", data={"csrf_token": boss.csrf, "reason": reason}
        )
        assert refused.status_code == 422, repr(reason)
        assert "Give the reason for the suspension" in refused.get_data(as_text=True), repr(reason)
    assert entries(app, "user.suspend") == []


@pytest.mark.parametrize(
    ("reason", "notice"),
    [
        ("Phishing kit", "staff: Phishing kit. Visitors"),
        ("Phishing kit.", "staff: Phishing kit. Visitors"),  # it read 'Phishing kit.. Visitors'
        ("Is this yours?", "staff: Is this yours? Visitors"),
        # A stop then something that shows nothing read 'Spam links.. Visitors' (outside tester).
        ("Spam links.\u200b", "staff: Spam links. Visitors"),
        ("Spam links.\u3164", "staff: Spam links. Visitors"),
        ("\u2800Spam links.\u2800", "staff: Spam links. Visitors"),
        ("Spam links!\ufeff \u200d", "staff: Spam links! Visitors"),
        ("迷惑リンク。", "staff: 迷惑リンク。 Visitors"),
        ('He said "spam."', "staff: He said &#34;spam.&#34; Visitors"),
        ("Spam (see the report.)\u200b", "staff: Spam (see the report.) Visitors"),
        ("\u00ab Spam ? \u00bb", "staff: \u00ab Spam ? \u00bb Visitors"),
        ("Kein \u00bbSpam.\u00ab", "staff: Kein \u00bbSpam.\u00ab Visitors"),  # German closes with \u00ab
        ("Spam (see the report)", "staff: Spam (see the report). Visitors"),
        ("Pas de cafe\u0301", "staff: Pas de cafe\u0301. Visitors"),  # the accent is the letter's
    ],
)
def test_the_owner_reads_the_reason_as_one_sentence(
    app: Flask, alice: Account, boss: Account, reason: str, notice: str
) -> None:
    assert post(boss, f"/admin/users/{alice.id}/suspend", reason=reason) == 302
    log_in(alice.client, alice.username)
    assert notice in alice.client.get("/dashboard").get_data(as_text=True)


def test_a_reason_is_stored_without_what_shows_nothing_at_its_ends(
    app: Flask, alice: Account, boss: Account
) -> None:
    """The invisible character after "Spam links." was stored and shown to staff (outside tester)."""
    reason = "\u3164 Spam\u200blinks.\u200b\u2800"
    assert post(boss, f"/admin/users/{alice.id}/suspend", reason=reason) == 302
    [entry] = entries(app, "user.suspend")
    assert audit.decoded(entry.after)["suspension_reason"] == "Spam\u200blinks."  # type: ignore[index]
    shown = boss.client.get(f"/admin/users/{alice.id}").get_data(as_text=True)
    assert "UTC: Spam\u200blinks.</dd>" in shown


def test_an_administrator_cannot_change_their_own_role(app: Flask, boss: Account, signed_up: SignUp) -> None:
    """An administrator demoted themself in one step, losing the panel (outside tester): as Wagtail's user
    form leaves out one's own superuser status, the own page offers no role form and a POST is a 403."""
    make_staff(app, signed_up("second"), "admin")  # so that boss is not the last administrator
    own = boss.client.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert f'action="/admin/users/{boss.id}/role"' not in own
    assert "Another administrator can change it; you cannot." in own
    for role in ("moderator", "user"):
        refused = boss.client.post(
            f"/admin/users/{boss.id}/role", data={"csrf_token": boss.csrf, "role": role}
        )
        assert refused.status_code == 403
        assert "You cannot change your own role: another administrator must" in refused.get_data(as_text=True)
    assert boss.client.get("/admin/audit").status_code == 200  # still an administrator
    assert entries(app, "user.role") == []


def test_an_administrator_cannot_suspend_themself(app: Flask, boss: Account, signed_up: SignUp) -> None:
    """An administrator could suspend their own account, though not change their own role (outside
    tester): their own page offers no Suspend form, and the POST is a 403 saying another must."""
    make_staff(app, signed_up("second"), "admin")  # so that boss is not the last administrator
    own = boss.client.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert f'action="/admin/users/{boss.id}/suspend"' not in own
    assert "Another administrator can suspend your account; you cannot." in own
    refused = boss.client.post(
        f"/admin/users/{boss.id}/suspend", data={"csrf_token": boss.csrf, "reason": "Testing"}
    )
    assert refused.status_code == 403
    assert "You cannot suspend your own account: another administrator must." in refused.get_data(
        as_text=True
    )
    assert boss.client.get("/admin/audit").status_code == 200  # still logged in, not suspended
    assert entries(app, "user.suspend") == []


def test_making_an_invitation_redirects_so_a_reload_mails_no_other(app: Flask, boss: Account) -> None:
    """The POST answered with the page itself, so reloading it made and mailed another invitation
    (outside tester): it redirects (Post/Redirect/Get), and the page after shows the link once."""
    made = boss.client.post("/admin/invites", data={"csrf_token": boss.csrf, "email": "zoe@example.com"})
    assert made.status_code == 302 and made.headers["Location"] == "/admin/invites"
    page = boss.client.get("/admin/invites").get_data(as_text=True)
    assert '<p class="notice" role="status">The invitation is on its way to zoe@example.com.</p>' in page
    assert 'id="invite-link">http://localhost/signup?invite=' in page
    reloaded = boss.client.get("/admin/invites").get_data(as_text=True)
    assert 'id="invite-link"' not in reloaded and "on its way" not in reloaded  # shown once
    assert len(entries(app, "invite.create")) == 1
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(OutboxMessage.recipient == "zoe@example.com")) == 1
        )
    unmailed = boss.client.post("/admin/invites", data={"csrf_token": boss.csrf}, follow_redirects=True)
    html = unmailed.get_data(as_text=True)
    assert "The invitation is made." in html and "Send this link to the person you invite." in html


def field_said(page: str, name: str) -> str:
    """The error said under the account page's field ``name`` ("" for none), checking the field is marked
    invalid and described by it, and has the page's only focus."""
    found = re.search(rf'<div id="{name}-errors" class="errors">(?:<p>(.*?)</p>)?</div>', page)
    assert found, page
    said = html.unescape(found.group(1) or "")
    marked = f'aria-invalid="{"true" if said else "false"}" aria-describedby="{name}-errors"'
    assert re.search(
        rf'id="{name}" name="{name}"[^>]*{re.escape(marked)}{" autofocus" if said else ">"}', page
    )
    return said


def test_a_refused_action_is_said_under_its_field_with_what_was_typed_kept(
    app: Flask, alice: Account, boss: Account
) -> None:
    """A wrong deletion name, an empty reason... were an alert at the top of the account's page, tied to no
    field, and what was typed was lost (outside tester): each is said under its field, which is marked
    invalid, described by it and focused, with what was typed in it kept."""
    page = f"/admin/users/{alice.id}"
    for path, fields, status, name, said in (
        ("delete", {"confirm": "alise <b>"}, 400, "confirm", "Type the account's username to confirm"),
        ("delete", {"confirm": "a" * 500}, 400, "confirm", "Type the account's username to confirm"),
        ("suspend", {"reason": "\u200b"}, 422, "reason", "Give the reason for the suspension"),
        ("role", {"role": "user"}, 409, "role", "alice already has the role user."),
        ("plan", {"plan": "gratis"}, 409, "plan", "alice is already on the plan gratis."),
    ):
        refused = boss.client.post(f"{page}/{path}", data={"csrf_token": boss.csrf, **fields})
        text = refused.get_data(as_text=True)
        assert refused.status_code == status, path
        assert said in field_said(text, name), path
        assert 'class="error-box"' not in text and text.count("autofocus") == 1, path
        for other in {"confirm", "reason", "role", "plan"} - {name}:
            assert field_said(text, other) == "", (path, other)
    typed = boss.client.post(f"{page}/delete", data={"csrf_token": boss.csrf, "confirm": "alise <b>"}).text
    assert 'name="confirm" autocomplete="off" maxlength="30" value="alise &lt;b&gt;"' in typed
    reason = boss.client.post(f"{page}/suspend", data={"csrf_token": boss.csrf, "reason": "x" * 301}).text
    assert f'value="{"x" * 301}"' in reason
    chosen = boss.client.post(f"{page}/plan", data={"csrf_token": boss.csrf, "plan": "pro"})
    assert chosen.status_code == 302  # done: Post/Redirect/Get, as before
    assert '<option value="pro" selected>' in boss.client.get(page).text
    with app.app_context():
        assert db.session.get(User, alice.id) is not None


def test_a_refusal_about_no_field_on_the_page_is_said_at_its_top(
    app: Flask, alice: Account, boss: Account, signed_up: SignUp
) -> None:
    """A refusal about no field (a mail to an address verified already), or about a field the page does
    not draw (one's own role), stays the alert at the top, focusing no field."""
    make_staff(app, signed_up("second"), "admin")
    with app.app_context():
        db.session.execute(update(User).where(User.id == alice.id).values(email_verified_at=func.now()))
        db.session.commit()
    for path in (f"{alice.id}/resend-verification", f"{boss.id}/role"):
        refused = boss.client.post(f"/admin/users/{path}", data={"csrf_token": boss.csrf, "role": "user"})
        text = refused.get_data(as_text=True)
        assert '<p class="error-box" role="alert">' in text and "autofocus" not in text, path
        assert 'aria-invalid="true"' not in text, path


def test_a_json_client_gets_a_refused_action_as_json_naming_its_field(alice: Account, boss: Account) -> None:
    refused = post_as_json_client(boss, f"/admin/users/{alice.id}/suspend", reason="")
    assert refused.status_code == 422
    assert refused.get_json()["error"] == {
        "code": "unprocessable_entity",
        "message": "Give the reason for the suspension: its owner reads it on their dashboard.",
        "field": "reason",
    }
