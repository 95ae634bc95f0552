"""``/setup`` on a site without its own password login (``LOGINS.local.ENABLED: false``): it makes no
password account (one that could never log in); it stores the site's name and sign-up policy, says how the
operator makes the first administrator (``conexoos user set-role <username> admin`` after that person's
first sign-in through the provider), and stays until an administrator exists."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.controllers import site_settings
from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from conexoos.framework.logins import logins
from tests.conftest import AppFactory, base_overrides

from .conftest import RATE_LIMITS_OFF, form_token
from .sso_support import Provider, user_named
from .test_role_commands import conexoos
from .test_setup import admins


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A YAML configuration with its own SQLite file and local login off."""
    path = tmp_path / "config.yml"
    settings = deep_merge(base_overrides(tmp_path), RATE_LIMITS_OFF)
    corp = {"ISSUER": "http://127.0.0.1:9", "CLIENT_ID": "conexoos", "CLIENT_SECRET": "s", "LABEL": "Corp"}
    logins_section = {"LOGINS": {"local": {"ENABLED": False}, "oidc": {"corp": corp}}}
    path.write_text(yaml.safe_dump(deep_merge(settings, logins_section)))
    return path


@pytest.fixture
def no_local(make_app: AppFactory, config_file: Path) -> Provider:
    """The product without its own password login, and a stand-in provider's button (the configured
    OpenID provider is never asked)."""
    app = make_app(config=str(config_file))
    with app.app_context():
        assert not logins().local_enabled
    return Provider(app, name="standin", label="Log in with Corp ID").install()


def post_setup(client: FlaskClient, **fields: str) -> TestResponse:
    data = {"csrf_token": form_token(client.get("/setup")), "site_name": "Linkhaus", "signup_policy": "open"}
    return client.post("/setup", data={**data, **fields})


def test_setup_without_local_login_makes_no_account_and_says_how_to_make_the_admin(
    no_local: Provider, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, app = no_local, no_local.app
    client = app.test_client()
    page = client.get("/setup").get_data(as_text=True)
    assert 'name="password"' not in page and 'name="username"' not in page
    assert "conexoos user set-role &lt;username&gt; admin" in page and "Log in with Corp ID" in page
    saved = post_setup(client, password="x", username="owner", email="owner@example.com")
    assert saved.status_code == 200
    assert "name and sign-up policy are saved" in saved.get_data(as_text=True)
    with app.app_context():
        assert site_settings.value("site_name") == "Linkhaus"
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert client.get("/setup").status_code == 200  # open until an administrator exists
    # The operator's way: the first sign-in through the provider, then set-role on the command line.
    response = provider.sign_in(app.test_client(), "boss-1", username="boss", email="boss@example.com")
    assert response.status_code == 302
    result = conexoos(config_file, monkeypatch, "user", "set-role", "boss", "admin")
    assert result.exit_code == 0, result.output
    assert admins(app) == ["boss"] and user_named(app, "boss").is_admin
    assert client.get("/setup").status_code == 404


def test_a_bad_site_name_is_refused_with_nothing_stored(no_local: Provider) -> None:
    app = no_local.app
    client = app.test_client()
    refused = post_setup(client, site_name="")
    assert refused.status_code == 422
    with app.app_context():
        assert site_settings.value("site_name") != ""
