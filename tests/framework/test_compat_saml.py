"""A flask-framework SAML project (its own LoginManager with ``Process.saml.user`` as user loader,
``Process.saml.saml_login()``, a ``/test`` page showing ``current_user.subject``) signs a person in at the
real test IdP through Conexoos's SAML backend: the AuthnRequest is accepted, the response consumed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from flask import Flask

from conexoos.framework import create_app
from tests.support.saml_idp import SamlIdp, run_saml_idp, write_key_pair

from .helpers import write_project

SAML_PROJECT = {
    "server/__init__.py": "from . import web\n",
    "server/web.py": """
        class Route(object):
            def __init__(self, server):
                import controllers
                server.add_url_rule('/test', 'test', controllers.web.login.Controller.test, methods=['GET'])
                controllers.web.saml.Controller().setup(server)
    """,
    "controllers/__init__.py": "from . import web\n",
    "controllers/web/__init__.py": "from . import login, saml\n",
    "controllers/web/login.py": """
        from flask_login import current_user, login_required


        class Controller(object):
            @staticmethod
            @login_required
            def test():
                return 'subject=' + current_user.subject + ' id=' + current_user.get_id()
    """,
    "controllers/web/saml.py": """
        from flask import redirect, url_for
        from flask_framework.Server import Process
        from flask_login import LoginManager


        class Controller(object):
            @classmethod
            def setup(cls, app):
                cls._lm = LoginManager()
                cls._lm.init_app(app=app)
                cls._lm.unauthorized_handler(cls.redirect_login)
                cls._lm.user_loader(Process.saml.user)
                cls._saml = Process.saml
                app.add_url_rule('/saml/login/', 'saml.login', cls.index, methods=['GET'])
                app.add_url_rule('/saml/logout/', 'saml.logout', cls.logout, methods=['POST'])
                Process._csrf.exempt('{}.logout'.format(__name__))

            @classmethod
            def redirect_login(cls):
                return redirect(url_for('saml.login'))

            @classmethod
            def logout(cls):
                return cls._saml.saml_logout()

            @classmethod
            def index(cls):
                return cls._saml.saml_login()
    """,
}


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdp]:
    with run_saml_idp(tmp_path_factory.mktemp("idp")) as running:
        yield running


def saml_app(folder: Path, idp: SamlIdp, site: str, email_attribute: str) -> Flask:
    project = write_project(folder / "saml", SAML_PROJECT)
    key, cert = write_key_pair(folder / "sp", "sp", site.removeprefix("https://"))
    config = {
        "SERVER_ENV": {
            "APP_NAME": "Flask",
            "APP_KEY": "m" * 48,
            "PUBLIC_URL": site,
            "SESSION": "filesystem",
            "INSTANCE_PATH": str(folder / "instance"),
        },
        "DATABASE": {},
        "LOGINS": {
            "saml": {
                "IDP_METADATA": idp.metadata_url,
                "SP_CERT": str(cert),
                "SP_KEY": str(key),
                "EMAIL_ATTRIBUTE": email_attribute,
            }
        },
        "SERVICES": {"filesystem": {"PATH": "sessions"}},
    }
    path = folder / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    app = create_app(project, path)
    idp.register_sp(app.test_client().get("/saml/metadata", base_url=site).data)
    return app


@pytest.mark.parametrize(
    ("site", "email_attribute", "login_id"),
    [("https://sp.test", "mail", "ada@example.org"), ("https://no-mail.test", "nomail", "")],
)
def test_saml_login_through_process_saml_signs_in_with_the_subject(
    tmp_path: Path, idp: SamlIdp, site: str, email_attribute: str, login_id: str
) -> None:
    app = saml_app(tmp_path, idp, site, email_attribute)
    http = app.test_client()
    assert http.get("/test", base_url=site).headers["Location"] == "/saml/login/"
    start = http.get("/saml/login/", base_url=site)
    assert start.status_code == 302 and start.headers["Location"] == "/saml/login"
    authn_request = http.get("/saml/login", base_url=site).headers["Location"]
    assert authn_request.startswith(f"{idp.url}/sso/redirect?SAMLRequest=")
    browser = requests.Session()
    fields = idp.log_in(browser, browser.get(authn_request, timeout=10))

    consumed = http.post("/saml/acs", data=fields, base_url=site)
    assert consumed.status_code == 302 and consumed.headers["Location"] == "/"
    # without an address from the IdP, the person is known by the NameID, as flask-login-saml knew them
    expected_id = login_id or "ada-persistent-7f3c"
    assert http.get("/test", base_url=site).get_data(as_text=True) == (
        f"subject=ada-persistent-7f3c id={expected_id}"
    )
    assert http.post("/saml/logout/", base_url=site).headers["Location"] == "/"
    assert http.get("/test", base_url=site).status_code == 302
