"""A project in flask-cms's style runs unchanged: ``LOGINS`` as flask-framework's list (``.copy()``,
``.remove()``), a local login through ``Process.login_manager(LoginManager())``, admin views behind
``admin_login_required`` with CSRF (one view exempted by dotted name), and public pages rendered by the 404
handler from the database."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.framework.database import db
from tests.conftest import AppFactory

from .compat_cms_project import ADMIN_PASSWORD, admin_password_digest, site_cms_project


def seed(app: Flask) -> None:
    with app.app_context():
        site = importlib.import_module("sitecms.models.persistent.site")
        for email, admin in (("ada@example.org", True), ("bob@example.org", False)):
            db.session.add(
                site.Users(email=email, password=admin_password_digest(), is_active=True, is_admin=admin)
            )
        db.session.add(site.Contents(url="/about", title="About", body="<p>About us</p>", activated=True))
        db.session.add(site.Contents(url="/draft", title="Draft", body="<p>Not yet</p>", activated=False))
        db.session.commit()


def log_in(client: FlaskClient, email: str, next_path: str = "/admin/") -> str:
    form = client.get(f"/base/login/?next={next_path}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None, form
    answer = client.post(
        f"/base/login/?next={next_path}",
        data={"csrf_token": token.group(1), "email": email, "password": ADMIN_PASSWORD},
    )
    assert answer.status_code == 302
    return token.group(1)


def test_logins_written_as_a_list_stay_flask_frameworks_list(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = site_cms_project(tmp_path, ["BASE"])
    app = make_app(project, config=config)
    # the project removed BASE from a copy of Environment.Logins, as flask-cms does, and went on
    assert app.config["SITE_OTHER_LOGINS"] == []
    assert {"/base/login/", "/admin/"} <= {rule.rule for rule in app.url_map.iter_rules()}
    with app.app_context():
        from flask_framework.Config import Environment

        assert Environment.Logins == ["BASE"]  # the copy was changed, not the configuration
        assert "local" in Environment.Logins and "LDAP" not in Environment.Logins


def test_logins_written_as_a_mapping_stay_a_mapping(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = site_cms_project(tmp_path, {"local": {"ENABLED": True}})
    # LOGINS is kept as written, as flask-framework did: ``.remove`` on a mapping failed there too
    with pytest.raises(AttributeError, match="'dict' object has no attribute 'remove'"):
        make_app(project, config=config)


def test_public_pages_render_from_the_database(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = site_cms_project(tmp_path, ["BASE"])
    app = make_app(project, config=config)
    seed(app)
    client = app.test_client()

    about = client.get("/about")
    assert about.status_code == 200 and "<h1>About</h1><p>About us</p>" in about.get_data(as_text=True)
    assert client.get("/draft").status_code == 404
    welcome = client.get("/")
    assert welcome.status_code == 200 and "runs on Conexoos" in welcome.get_data(as_text=True)


def test_admin_works_with_the_local_login_and_csrf(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = site_cms_project(tmp_path, ["BASE"])
    app = make_app(project, config=config)
    seed(app)
    client = app.test_client()

    anonymous = client.get("/admin/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/base/login/")
    token = log_in(client, "ada@example.org")
    assert client.get("/admin/").get_data(as_text=True) == "pages: /about, /draft"

    assert client.post("/admin/pages/", data={"url": "/new", "title": "New", "body": "x"}).status_code == 400
    saved = client.post(
        "/admin/pages/",
        data={"csrf_token": token, "url": "/new", "title": "New", "body": "<p>Fresh</p>", "publish": "y"},
    )
    assert saved.status_code == 302
    assert "<p>Fresh</p>" in client.get("/new").get_data(as_text=True)
    assert client.get("/draft").status_code == 200  # an admin previews a draft
    exempted = client.post("/admin/preview/", data={"body": "preview"})
    assert exempted.status_code == 200 and exempted.get_data(as_text=True) == "preview"

    client.post("/base/logout/", data={"csrf_token": token})
    assert client.get("/admin/").status_code == 302


def test_admin_refuses_a_signed_in_person_who_is_not_admin(tmp_path: Path, make_app: AppFactory) -> None:
    project, config = site_cms_project(tmp_path, ["BASE"])
    app = make_app(project, config=config)
    seed(app)
    client = app.test_client()
    log_in(client, "bob@example.org")
    refused = client.get("/admin/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/base/login/")
