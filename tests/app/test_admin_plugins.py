"""``/admin/plugins`` (administrators only) and the sample contact plugin, end to end.

The plugin is installed in CI (scripts/test) and disabled: every other test runs without it. Here it is
enabled explicitly, through the admin page, and the app restarted on the same database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, table

from conexoos.app.models.persistent import AuditEntry, User
from conexoos.framework import db
from conexoos.framework.mail import OutboxMessage
from conexoos.framework.plugins import PluginState, installed_plugins
from tests.conftest import AppFactory
from tests.support.plugins import plugin_modules_forgotten

from .conftest import Account, SignUp, form_token, log_in, sign_up
from .leaving_support import delete_account
from .plugin_support import CONTACT, CONTACT_PACKAGE, restart, with_contact_plugin
from .staff_support import make_staff

SUBJECT = "New message from your contact form"

pytestmark = pytest.mark.skipif(
    CONTACT not in installed_plugins(), reason="the sample plugin is not installed (scripts/test installs it)"
)


@pytest.fixture(autouse=True)
def forget_the_plugin() -> Iterator[None]:
    with plugin_modules_forgotten(CONTACT_PACKAGE):
        yield


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def plugin_row(page: str, name: str) -> str:
    match = re.search(rf"<tr>\s*<td>{name}</td>.*?</tr>", page, re.S)
    assert match, page
    return re.sub(r"\s+", " ", match.group(0))


def test_administrators_see_the_installed_plugins_with_version_description_and_state(
    boss: Account, signed_up: SignUp, app: Flask
) -> None:
    page = boss.client.get("/admin/plugins")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    row = plugin_row(text, CONTACT)
    assert (
        "<td>0.1.0</td>" in row and "Contact me" in row and "<td>disabled</td>" in row and ">Enable<" in row
    )
    assert "next restart" in text and 'href="/admin/plugins" aria-current="page"' in text
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    assert moderator.client.get("/admin/plugins").status_code == 404
    assert "/admin/plugins" not in moderator.client.get("/admin").get_data(as_text=True)


def test_enabling_is_a_csrf_post_audit_logged_and_said_to_apply_at_the_next_restart(
    boss: Account, app: Flask
) -> None:
    assert boss.client.post("/admin/plugins/contact/enable", data={}).status_code == 400
    token = form_token(boss.client.get("/admin/plugins"))
    response = boss.client.post(
        "/admin/plugins/contact/enable", data={"csrf_token": token}, follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "contact is enabled. This applies at the next restart of the server." in text
    assert "<td>enabled at next restart</td>" in plugin_row(text, CONTACT)
    assert boss.client.post("/admin/plugins/nosuch/enable", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        state = db.session.get(PluginState, CONTACT)
        assert state is not None and state.enabled and state.changed_by == "boss"
        [entry] = db.session.execute(select(AuditEntry).where(AuditEntry.action == "plugin.enable")).scalars()
        assert (entry.actor_name, entry.target_type, entry.target_id) == ("boss", "plugin", CONTACT)
        assert "applies at the next restart" in entry.summary


def test_after_the_restart_the_plugin_is_active_and_can_be_disabled_for_the_next(
    boss: Account, app: Flask, make_app: AppFactory
) -> None:
    restarted = with_contact_plugin(make_app, app)
    admin = restarted.test_client()
    log_in(admin, "boss")  # the same database: boss is still an administrator
    page = admin.get("/admin/plugins").get_data(as_text=True)
    assert "<td>enabled, active</td>" in plugin_row(page, CONTACT)
    token = form_token(admin.get("/admin/plugins"))
    text = admin.post("/admin/plugins/contact/disable", data={"csrf_token": token}, follow_redirects=True)
    assert "<td>disabled at next restart</td>" in plugin_row(text.get_data(as_text=True), CONTACT)
    assert restart(make_app, restarted).test_client().get("/dashboard/contact").status_code == 404
    with restarted.app_context():
        actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[-1] == "plugin.disable"


@pytest.fixture
def contact_app(app: Flask, make_app: AppFactory) -> Flask:
    return with_contact_plugin(make_app, app)


def verified_owner(app: Flask, username: str = "alice") -> Account:
    owner = sign_up(app, username)
    with app.app_context():  # as the link of the verification mail would
        user = db.session.get(User, owner.id)
        assert user is not None
        user.email_verified_at = datetime.now(UTC)
        db.session.commit()
    return owner


def post_contact(client: FlaskClient, username: str, **fields: str) -> tuple[int, str]:
    token = form_token(client.get(f"/{username}/contact"))
    data = {
        "csrf_token": token,
        "name": "Bob",
        "email": "bob@example.org",
        "message": "Hello Alice",
        **fields,
    }
    response = client.post(f"/{username}/contact", data=data)
    return response.status_code, response.get_data(as_text=True)


def test_a_visitor_writes_the_owner_reads_and_is_mailed(contact_app: Flask) -> None:
    owner = verified_owner(contact_app)
    visitor = contact_app.test_client()
    form = visitor.get("/alice/contact")
    assert form.status_code == 200 and "<h1>Contact @alice</h1>" in form.get_data(as_text=True)
    stylesheet = re.search(r"/plugins/contact/static/contact\.[0-9a-f]{12}\.css", form.get_data(as_text=True))
    assert stylesheet is not None, "the form links no content-hashed contact.css"
    css = visitor.get(stylesheet[0])
    assert css.status_code == 200 and b"textarea" in css.data
    css.close()
    status, _ = post_contact(visitor, "alice", message="Hello Alice,\nhow much for the print?")
    assert status == 302
    assert "Message sent" in visitor.get("/alice/contact/sent").get_data(as_text=True)

    inbox = owner.client.get("/dashboard/contact").get_data(as_text=True)
    assert "Bob &lt;" in inbox and "bob@example.org" in inbox and "how much for the print?" in inbox
    assert visitor.get("/dashboard/contact").status_code == 302  # log in first
    other = sign_up(contact_app, "carol")
    assert "how much for the print?" not in other.client.get("/dashboard/contact").get_data(as_text=True)
    with contact_app.app_context():
        [mail] = db.session.execute(select(OutboxMessage).where(OutboxMessage.subject == SUBJECT)).scalars()
    assert mail.recipient == "alice@example.com" and mail.subject == "New message from your contact form"
    assert "bob@example.org" in mail.message and "http://localhost/dashboard/contact" in mail.message


def test_the_plugins_pages_have_no_inline_style_the_csp_blocks(contact_app: Flask) -> None:
    """The owner's list set each message's line breaks with a style attribute, which the site's
    Content-Security-Policy (style-src 'self') blocks: the lines ran together. Its stylesheet does it."""
    owner = verified_owner(contact_app)
    assert post_contact(contact_app.test_client(), "alice", message="Hello Alice,\nhow much?")[0] == 302
    for client, path in ((owner.client, "/dashboard/contact"), (contact_app.test_client(), "/alice/contact")):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert "style-src 'self';" in response.headers["Content-Security-Policy"], path
        assert "<style" not in page and not re.search(r"\sstyle=", page), path
    inbox = owner.client.get("/dashboard/contact").get_data(as_text=True)
    body = re.search(r'<p class="([\w-]+)">Hello Alice,\nhow much\?</p>', inbox)
    stylesheet = re.search(r"/plugins/contact/static/contact\.[0-9a-f]{12}\.css", inbox)
    assert body is not None and stylesheet is not None, inbox
    css = owner.client.get(stylesheet[0])
    rule = re.search(rf"\.{body[1]}\s*{{([^}}]*)}}", css.get_data(as_text=True))
    css.close()
    assert rule is not None and "white-space: pre-line" in rule[1]


def test_an_unverified_owner_is_not_mailed_but_keeps_the_message(contact_app: Flask) -> None:
    owner = sign_up(contact_app, "alice")
    assert post_contact(contact_app.test_client(), "alice")[0] == 302
    assert "Hello Alice" in owner.client.get("/dashboard/contact").get_data(as_text=True)
    with contact_app.app_context():
        assert (
            db.session.execute(select(OutboxMessage).where(OutboxMessage.subject == SUBJECT)).first() is None
        )


def test_mistakes_are_422_with_a_sentence_and_unknown_pages_404(contact_app: Flask) -> None:
    verified_owner(contact_app)
    client = contact_app.test_client()
    cases = {
        "name": ("", "Enter your name."),
        "email": ("not an address", "Enter a valid email address."),
        "message": ("x" * 5001, "Keep the message under 5000 characters."),
    }
    for field, (value, sentence) in cases.items():
        status, page = post_contact(client, "alice", **{field: value})
        assert (status, sentence in page) == (422, True), field
    assert (
        client.post(
            "/alice/contact", data={"name": "a", "email": "a@example.org", "message": "m"}
        ).status_code
        == 400
    )
    assert client.get("/nobody/contact").status_code == 404
    with contact_app.app_context():
        assert (
            db.session.execute(select(OutboxMessage).where(OutboxMessage.subject == SUBJECT)).first() is None
        )


def test_what_a_visitor_types_is_escaped_in_the_owners_list(contact_app: Flask) -> None:
    owner = verified_owner(contact_app)
    attack = "<script>alert(1)</script>"
    assert post_contact(contact_app.test_client(), "alice", name=attack, message=attack)[0] == 302
    inbox = owner.client.get("/dashboard/contact").get_data(as_text=True)
    assert attack not in inbox and "&lt;script&gt;alert(1)&lt;/script&gt;" in inbox


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=200), email=st.text(max_size=300), message=st.text(max_size=300))
def test_hostile_input_never_gives_a_server_error(
    contact_app: Flask, name: str, email: str, message: str
) -> None:
    client = contact_app.test_client()
    with contact_app.app_context():
        if db.session.execute(select(User).where(User.username == "hyp")).first() is None:
            sign_up(contact_app, "hyp")
    status, _ = post_contact(client, "hyp", name=name, email=email, message=message)
    assert status in (302, 422)


def test_messages_are_rate_limited_per_network(app: Flask, make_app: AppFactory) -> None:
    limited = with_contact_plugin(
        make_app,
        app,
        {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}},
    )
    sign_up(limited, "alice")
    client = limited.test_client()
    assert [post_contact(client, "alice", email="bad")[0] for _ in range(6)] == [422] * 6
    assert [post_contact(client, "alice")[0] for _ in range(6)] == [302] * 5 + [429]


def test_an_owners_messages_go_with_their_account(contact_app: Flask) -> None:
    owner = verified_owner(contact_app)
    assert post_contact(contact_app.test_client(), "alice")[0] == 302
    with contact_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(table("contact_message"))) == 1
    assert delete_account(owner, owner.password).status_code in (200, 302)
    with contact_app.app_context():
        assert db.session.execute(select(User).where(User.id == owner.id)).first() is None
        assert db.session.scalar(select(func.count()).select_from(table("contact_message"))) == 0  # cascade
