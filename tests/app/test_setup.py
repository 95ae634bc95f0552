"""``/setup``: the first administrator, from the server itself or with a one-time token, exactly once."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from conexoos.app.blueprints import setup as setup_blueprint
from conexoos.app.controllers import email_addresses, site_settings
from conexoos.app.controllers import setup as setup_controller
from conexoos.app.controllers.accounts import create_account
from conexoos.app.controllers.mail import render_mail
from conexoos.app.models.persistent import AuditEntry, User
from conexoos.framework import db
from tests.conftest import AppFactory

from .conftest import PASSWORD, form_token, log_in, meta_token, product_app
from .test_takeover_defences import mail_to

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
"""A client on the internet (TEST-NET-3)."""


def setup_form(client: FlaskClient, path: str = "/setup", **fields: str) -> dict[str, str]:
    token = form_token(client.get(path))
    return {
        "csrf_token": token,
        "site_name": "Linkhaus",
        "email": "owner@example.com",
        "username": "owner",
        "password": PASSWORD,
        "signup_policy": "open",
        **fields,
    }


def admins(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.username).where(User.role == "admin")))


def test_setup_from_the_server_itself_makes_the_first_admin_then_is_gone(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get("/setup")
    assert page.status_code == 200 and "Set up your site" in page.get_data(as_text=True)
    response = client.post("/setup", data=setup_form(client, signup_policy="invite"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/login" in response.headers["Location"]
    assert admins(app) == ["owner"]
    with app.app_context():
        assert site_settings.value("site_name") == "Linkhaus"
        assert site_settings.signup_policy() == "invite"
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.actor_name, entry.target_id) == (
            "setup.complete",
            "owner",
            str(entry.actor_id),
        )
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data={"csrf_token": form_token(client.get("/login"))}).status_code == 404
    log_in(client, "owner")
    assert client.get("/admin").status_code == 200


def test_the_first_administrator_is_mailed_the_link_that_verifies_their_address(
    app: Flask, client: FlaskClient
) -> None:
    """The address typed at setup was never proved, and nothing offered to prove it."""
    assert client.post("/setup", data=setup_form(client)).status_code == 302
    [(subject, text, _)] = mail_to(app, "owner@example.com")
    link = re.search(r"http://localhost(/verify/\S+)", text)
    assert link is not None, text
    opened = client.get(link.group(1))
    assert opened.status_code == 200
    assert client.post(link.group(1), data={"csrf_token": form_token(opened)}).status_code == 200
    with app.app_context():
        owner = db.session.scalars(select(User).where(User.username == "owner")).one()
        assert owner.email_verified


def test_setup_checks_the_password_policy_and_the_fields(app: Flask, client: FlaskClient) -> None:
    response = client.post("/setup", data=setup_form(client, password="password123", username="x"))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "3 to 30 characters" in text and "common password" in text
    assert admins(app) == []


def test_a_remote_client_is_refused_without_the_token_and_admitted_with_it(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    remote = app.test_client()
    remote.environ_base.update(REMOTE)
    with caplog.at_level(logging.WARNING, "conexoos.setup"):
        setup_controller._logged["at"] = -1e9  # the once-a-minute limit of an earlier test
        refused = remote.get("/setup")
    assert refused.status_code == 403
    assert "setup-token" in refused.get_data(as_text=True)
    assert "`conexoos setup-token`" in caplog.text  # the refused visit says again how to get a link
    assert "token=" not in caplog.text
    assert remote.get("/setup?token=forged").status_code == 403

    with app.app_context():
        token = setup_controller.make_token()  # what `conexoos setup-token` prints
    assert remote.get(f"/setup?token={token}").status_code == 200
    data = setup_form(remote, f"/setup?token={token}", token=token)
    response = remote.post("/setup", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert admins(app) == ["owner"]
    assert remote.get(f"/setup?token={token}").status_code == 404  # spent: setup ran
    with app.app_context():
        assert setup_controller.token_valid(token)  # still a good signature, but setup is over
        assert db.session.scalars(select(AuditEntry.remote_address)).one() == "203.0.113.9"


@pytest.mark.parametrize(
    "header",
    [
        "X-Real-IP",
        "Forwarded",
        "Via",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "X-Forwarded-Port",
        "CF-Connecting-IP",
        "True-Client-IP",
        "X-Client-IP",
        "X-Cluster-Client-IP",
    ],
)
def test_a_loopback_peer_behind_an_untrusted_proxy_is_not_local(client: FlaskClient, header: str) -> None:
    assert client.get("/setup", headers={header: "203.0.113.9"}).status_code == 403


@pytest.mark.parametrize(
    "host",
    ["rebind.attacker.example:46033", "attacker.example", "localhost.attacker.example", "127.0.0.1.nip.io"],
)
def test_a_host_name_pointed_at_this_machine_is_not_local(app: Flask, client: FlaskClient, host: str) -> None:
    """DNS rebinding: a web page whose host name its attacker re-points at 127.0.0.1 makes the browser of
    someone on the server read the form and post it from a loopback address, as that page's own origin.
    Such a request names the attacker's host: it made the attacker the first administrator."""
    headers = {"Host": host}
    assert client.get("/setup", headers=headers).status_code == 403
    token = form_token(client.get("/setup"))
    posted = client.post(
        "/setup",
        headers={**headers, "Origin": f"http://{host}"},
        data={**setup_form(client), "csrf_token": token, "username": "attacker"},
    )
    assert posted.status_code in (400, 403)
    assert admins(app) == []


@pytest.mark.parametrize(
    "host", ["localhost:4200", "127.0.0.1:4200", "127.1.2.3", "[::1]:4200", "site.localhost"]
)
def test_a_loopback_host_is_local(client: FlaskClient, host: str) -> None:
    assert client.get("/setup", headers={"Host": host}).status_code == 200


def test_the_public_urls_host_is_local(make_app: AppFactory) -> None:
    """Under DEV the public URL may name the machine (a LAN name): the server itself opens setup there."""
    app = product_app(make_app, {"SERVER_ENV": {"PUBLIC_URL": "http://devbox.lan:4399"}})
    assert app.test_client().get("/setup", headers={"Host": "devbox.lan:4399"}).status_code == 200


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_outside_dev_only_the_link_opens_setup(
    make_app: AppFactory, env: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy on the same host that adds no forwarding header makes every visitor a loopback peer with
    no proxy header: outside DEV the server itself is not enough, only the link `conexoos setup-token`
    prints is."""
    overrides = {"SERVER_ENV": {"ENV": env, "PUBLIC_URL": "https://links.example.org"}}
    app = product_app(make_app, overrides)
    browser = app.test_client()
    base = "https://links.example.org"
    with caplog.at_level(logging.WARNING, "conexoos.setup"):
        setup_controller._logged["at"] = -1e9  # the once-a-minute limit of an earlier test
        refused = browser.get("/setup", base_url=base)
    assert refused.status_code == 403 and "setup-token" in refused.get_data(as_text=True)
    # Neither the page nor the log offers the server-itself way, which is closed here.
    assert "development server" not in refused.get_data(as_text=True)
    assert "No administrator yet: run `conexoos setup-token` on the server" in caplog.text
    assert "token=" not in caplog.text  # a link in the logs would open setup to whoever reads them
    assert "from this machine" not in caplog.text
    with app.app_context():
        token = setup_controller.make_token()
    assert browser.get(f"/setup?token={token}", base_url=base).status_code == 200


def test_under_dev_the_refusal_and_the_log_name_the_local_address_with_its_port(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The server-itself way is told with the address the server answers on (its port included), not a
    bare http://127.0.0.1/setup."""
    app = product_app(make_app, {"SERVER_ENV": {"PUBLIC_URL": "http://127.0.0.1:4399"}})
    remote = app.test_client()
    remote.environ_base.update(REMOTE)
    with caplog.at_level(logging.WARNING, "conexoos.setup"):
        setup_controller._logged["at"] = -1e9
        refused = remote.get("/setup")
    assert refused.status_code == 403
    assert "http://127.0.0.1:4399/setup opens it from the server itself" in refused.get_data(as_text=True)
    assert "or open http://127.0.0.1:4399/setup from this machine" in caplog.text


def test_trusted_proxies_give_the_real_client_address(make_app: AppFactory) -> None:
    app = product_app(make_app, {"SERVER_ENV": {"TRUSTED_PROXIES": "127.0.0.1"}})
    browser = app.test_client()
    assert browser.get("/setup", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    # Even a trusted proxy saying "the client is 127.0.0.1" does not make the visit local: use the token.
    assert browser.get("/setup", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
    assert browser.get("/setup").status_code == 200
    untrusted = app.test_client()
    untrusted.environ_base.update(REMOTE)  # not a trusted proxy: its X-Forwarded-For is ignored
    assert untrusted.get("/setup", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_the_first_request_of_a_process_logs_how_to_open_setup(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(setup_blueprint._announced, "done", False)
    with caplog.at_level(logging.WARNING, "conexoos.setup"):
        client.get("/robots.txt")
    assert "No administrator yet: run `conexoos setup-token` on the server" in caplog.text
    assert "token=" not in caplog.text


def test_concurrent_setups_make_one_administrator(app: Flask) -> None:
    barrier = threading.Barrier(4)
    outcomes: list[Any] = []

    def attempt(number: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                setup_controller.complete(
                    "Site", f"a{number}@example.com", f"admin{number}", PASSWORD, "open"
                )
            except setup_controller.SetupUnavailable as refused:
                outcomes.append(refused)
            else:
                outcomes.append("made")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("made") == 1, outcomes
    assert len(admins(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_an_admin_made_on_the_command_line_closes_setup(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        from conexoos.app.controllers.accounts import create_account

        create_account("op@example.com", "operator", PASSWORD, role="admin")
    assert client.get("/setup").status_code == 404
    stranger = app.test_client()  # no session, so no CSRF token: still the README's 404, not a 400
    assert stranger.post("/setup", data={"site_name": "Mine"}).status_code == 404


def test_the_first_administrators_mail_speaks_of_setting_up_the_site_not_of_signing_up(
    app: Flask, client: FlaskClient
) -> None:
    """It said "If you did not sign up for Linkhaus, ignore this message" to the person who set it up."""
    assert client.post("/setup", data=setup_form(client)).status_code == 302
    [(_subject, text, html)] = mail_to(app, "owner@example.com")
    for part in (text, html):
        said = " ".join(part.split())
        assert "did not sign up" not in said
        assert "this address was given for the first administrator when Linkhaus was set up" in said
        assert "If that was not you, ignore it: the address stays unconfirmed." in said
    with app.test_request_context():
        owner = db.session.scalars(select(User).where(User.username == "owner")).one()
        _subject, signed_up, signed_up_html = render_mail("verify_email", user=owner, link="LINK", made_at="")
    assert "LINK\n\nIf you did not sign up for Linkhaus, ignore this message.\n" in signed_up  # as before
    assert "<p>If you did not sign up for Linkhaus, ignore this message.</p>" in signed_up_html


def test_a_link_sent_again_to_the_first_administrator_still_speaks_of_setting_up_the_site(
    app: Flask, client: FlaskClient
) -> None:
    """Sent again (from Settings → Email, or by another administrator), it said "If you did not sign up"."""
    assert client.post("/setup", data=setup_form(client)).status_code == 302
    log_in(client, "owner")
    settings = client.get("/settings/email")
    assert settings.status_code == 200
    assert client.post("/settings/email/resend", data={"csrf_token": meta_token(settings)}).status_code == 302
    with app.app_context():
        owner = db.session.scalars(select(User).where(User.username == "owner")).one()
        email_addresses.resend_verification(owner)
        other = create_account("other@example.com", "other", PASSWORD)
        email_addresses.resend_verification(other)
    mails = mail_to(app, "owner@example.com")
    assert len(mails) == 3, [subject for subject, _text, _html in mails]
    for _subject, text, _html in mails:
        said = " ".join(text.split())
        assert "did not sign up" not in said and "the first administrator when Linkhaus was set up" in said
    [(_subject, text, _html)] = mail_to(app, "other@example.com")
    assert "If you did not sign up for Linkhaus" in " ".join(text.split())  # anyone else's: as before


def test_the_home_page_of_a_site_not_set_up_tells_its_operator_how(app: Flask, client: FlaskClient) -> None:
    """The log said how; a fresh site's visitors (its operator first) saw nothing of it."""
    home = client.get("/").get_data(as_text=True)
    assert "This site is not set up yet." in home
    assert "run <code>conexoos setup-token</code> on the server for a one-time link" in home
    assert (
        'open\n    <a href="http://localhost/setup">http://localhost/setup</a> from the server itself' in home
    )
    assert "token=" not in home
    assert client.post("/setup", data=setup_form(client)).status_code == 302
    assert "not set up" not in client.get("/").get_data(as_text=True)


def test_outside_dev_the_home_notice_names_only_the_command(make_app: AppFactory) -> None:
    app = product_app(make_app, {"SERVER_ENV": {"ENV": "PROD", "PUBLIC_URL": "https://links.example.org"}})
    home = app.test_client().get("/", base_url="https://links.example.org").get_data(as_text=True)
    assert "This site is not set up yet." in home and "conexoos setup-token" in home
    assert "from the server itself" not in home and "token=" not in home
