"""``/admin/settings``: one form with every editable site setting, validated, kept on error, audit-logged."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conexoos.app.controllers import audit, mail, site_settings
from conexoos.app.models.persistent import AuditEntry, User
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp

pytestmark = pytest.mark.database_matrix

DEFAULTS = {
    "site_name": "Linkhaus",
    "signup_policy": "open",
    "home_text": "Hello",
    "default_plan": "gratis",
    "default_theme": "classic",
    "maintenance_message": "Back soon.",
}


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def save(staff: Account, **changes: str | None) -> tuple[int, str]:
    """Post the settings form with DEFAULTS and ``changes`` (None leaves a field out: an unticked box)."""
    form = {"csrf_token": staff.csrf, **DEFAULTS, **changes}
    data = {key: value for key, value in form.items() if value is not None}
    response = staff.client.post("/admin/settings", data=data)
    return response.status_code, response.get_data(as_text=True)


def changes(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "setting.change")))
        db.session.expunge_all()
    return found


def test_the_form_shows_every_editable_setting_and_no_internal_one(boss: Account) -> None:
    page = boss.client.get("/admin/settings").get_data(as_text=True)
    for key in (
        "site_name",
        "signup_policy",
        "home_text",
        "default_plan",
        "default_theme",
        "maintenance_mode",
        "maintenance_message",
    ):
        assert f'name="{key}"' in page, key
    assert "setup_completed_at" not in page
    assert '<option value="pro"' in page and '<option value="gratis" selected' in page  # the configured plans
    assert "footer menu" in page  # the footer links are the footer menu
    assert 'href="/admin/settings"' in boss.client.get("/admin").get_data(as_text=True)  # the nav line


def test_saving_changes_each_setting_with_an_audit_entry_and_shows_it(
    app: Flask, boss: Account, client: FlaskClient
) -> None:
    status, _ = save(boss, home_text="First line\nsecond line\n\n<b>Second</b> paragraph")
    assert status == 302
    home = client.get("/").get_data(as_text=True)
    assert "<title>Linkhaus</title>" in home and ">Linkhaus</a>" in home
    assert "<p>First line<br>second line</p>" in home
    assert "<p>&lt;b&gt;Second&lt;/b&gt; paragraph</p>" in home  # plain text, escaped
    assert "· Linkhaus</title>" in client.get("/login").get_data(as_text=True)
    with app.app_context():
        subject, text, _ = mail.render_mail("welcome", user=User.get_by_username("boss"))
    assert subject == "Welcome to Linkhaus"
    entries = {entry.target_id: entry for entry in changes(app)}
    assert set(entries) == {"site_name", "home_text", "maintenance_message"}  # the unchanged ones log nothing
    assert audit.decoded(entries["site_name"].after) == {"site_name": "Linkhaus"}
    assert entries["site_name"].actor_name == "boss"
    assert save(boss, home_text="First line\nsecond line\n\n<b>Second</b> paragraph")[0] == 302
    assert len(changes(app)) == 3  # saving the same values again logs nothing


def test_a_refused_field_stores_nothing_and_is_shown_next_to_its_field_with_every_value_kept(
    app: Flask, boss: Account
) -> None:
    status, page = save(boss, site_name="", home_text="Kept <text>", default_plan="platinum")
    assert status == 422
    assert re.search(r'id="site_name-error">Site name may not be empty', page)
    assert re.search(r'id="default_plan-error">Choose one of: gratis, pro', page)
    assert 'aria-invalid="true"' in page
    assert ">Kept &lt;text&gt;</textarea>" in page  # the value typed is kept, escaped
    assert changes(app) == []  # nothing was stored, not even the valid fields
    with app.app_context():
        assert site_settings.value("home_text") == site_settings.HOME_TEXT


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("site_name", "Evil\u202eemoh", "right-to-left overrides"),
        ("site_name", "x" * 61, "At most 60 characters"),
        ("home_text", "x" * 2001, "At most 2000 characters"),
        ("home_text", "x" * 600_000, "At most 2000 characters"),  # pasted by mistake: was a bare 400
        ("maintenance_message", "y" * 20_000, "At most 500 characters"),
        ("home_text", "bell\x07", "control characters"),
        ("signup_policy", "everyone", "Choose one of: open, invite, closed"),
        ("site_name", "\u200b", "may not be empty (or invisible characters only)"),  # was the site's name
        ("site_name", " \u2060\ufeff ", "may not be empty (or invisible characters only)"),
    ],
)
def test_values_a_setting_refuses(app: Flask, boss: Account, field: str, value: str, message: str) -> None:
    status, page = save(boss, **{field: value})
    assert status == 422 and message in page
    assert changes(app) == []


def test_an_empty_maintenance_message_while_maintenance_is_off_is_the_built_in_one_again(
    app: Flask, boss: Account
) -> None:
    # an operator who cleared the message could save no other setting (422 "may not be empty")
    status, _ = save(boss, site_name="Renamed", maintenance_message=" \u200b ")
    assert status == 302
    with app.app_context():
        assert site_settings.value("site_name") == "Renamed"
        assert site_settings.value("maintenance_message") == site_settings.MAINTENANCE_MESSAGE
    page = boss.client.get("/admin/settings").get_data(as_text=True)
    assert f">{site_settings.MAINTENANCE_MESSAGE}</textarea>" in page
    assert "Required while maintenance mode is on" in page


@pytest.mark.parametrize("already_on", [False, True])
def test_an_empty_maintenance_message_is_refused_while_maintenance_is_on(
    app: Flask, boss: Account, already_on: bool
) -> None:
    if already_on:
        assert save(boss, maintenance_mode="on")[0] == 302
    before = len(changes(app))
    status, page = save(boss, site_name="Renamed", maintenance_mode="on", maintenance_message="  ")
    assert status == 422
    assert re.search(
        r'id="maintenance_message-error">Maintenance message may not be empty while maintenance mode is on',
        page,
    )
    assert len(changes(app)) == before  # nothing stored
    if already_on:  # the same rule for a single change
        with (
            app.app_context(),
            pytest.raises(site_settings.SettingError, match="while maintenance mode is on"),
        ):
            site_settings.change("maintenance_message", "")


def test_a_form_missing_a_field_is_a_400_not_a_500(boss: Account) -> None:
    response = boss.client.post("/admin/settings", data={"csrf_token": boss.csrf, "site_name": "X"})
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)


def test_moderators_and_users_get_404(app: Flask, signed_up: SignUp) -> None:
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    for account in (moderator, signed_up("plain")):
        assert account.client.get("/admin/settings").status_code == 404
        assert save(account, site_name="Taken")[0] == 404
    assert changes(app) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=2100))
def test_home_text_is_stored_as_typed_or_refused_with_a_sentence(app: Flask, text: str) -> None:
    """Any text either passes (line breaks normalised, trimmed) or is refused with a SettingError."""
    setting = site_settings.SETTINGS["home_text"]
    with app.app_context():
        try:
            checked = setting.check(text)
        except site_settings.SettingError as error:
            assert error.key == "home_text" and error.message
            return
    assert "\r" not in checked and len(checked) <= 2000
    assert checked == checked.strip()
