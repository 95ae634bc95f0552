"""A flask-framework OpenID project (``LOGINS: OpenID``, a client_secrets.json, ``Process.openid``'s
``login``/``logout``/``user``) signs a person in through Conexoos's OIDC backend and the real provider."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from flask import Flask

from conexoos.framework import create_app
from tests.support.oidc_login import ACCOUNTS, ALICE, CLIENT_SECRET, ProviderBrowser, client
from tests.support.oidc_server import OidcProvider, run_oidc_provider

from .helpers import write_files, write_project

PUBLIC_URL = "http://rp.test"
OPENID_PROJECT = {
    "server/__init__.py": "from . import web\n",
    "server/web.py": """
        class Route(object):
            def __init__(self, server):
                import controllers
                server.add_url_rule("/test", "test", controllers.web.login.Controller.test, methods=["GET"])
                controllers.web.openid.Controller.setup(server)
    """,
    "controllers/__init__.py": "from . import web\n",
    "controllers/web/__init__.py": "from . import login, openid\n",
    "controllers/web/login.py": """
        from flask_login import current_user, login_required


        class Controller(object):
            @staticmethod
            @login_required
            def test():
                return "Welcome " + current_user.mail
    """,
    "controllers/web/openid.py": """
        from flask import redirect, url_for
        from flask_login import LoginManager, login_required

        from flask_framework.Server import Process


        class Controller(object):
            @classmethod
            def setup(cls, app):
                cls._lm = LoginManager()
                cls._lm.init_app(app=app)
                cls._lm.unauthorized_handler(cls.redirect_login)
                cls._lm.user_loader(Process.openid.user)
                cls._openid = Process.openid
                app.add_url_rule("/openid/login/", "openid.login", cls.index, methods=["GET"])
                app.add_url_rule("/openid/logout/", "openid.logout", cls.logout, methods=["GET"])

            @classmethod
            def redirect_login(cls):
                return redirect(url_for("openid.login"))

            @classmethod
            @login_required
            def logout(cls):
                return cls._openid.logout()

            @classmethod
            def index(cls):
                return cls._openid.login()
    """,
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    clients = [client("ff-openid", [f"{PUBLIC_URL}/login/oidc/openid/callback"], PUBLIC_URL)]
    with run_oidc_provider(tmp_path_factory.mktemp("oidc-provider"), clients, ACCOUNTS) as running:
        yield running


@pytest.fixture(scope="module")
def app(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder = tmp_path_factory.mktemp("ff-openid")
    project = write_project(folder / "openid", OPENID_PROJECT)
    secret = {"issuer": provider.issuer, "client_id": "ff-openid", "client_secret": CLIENT_SECRET}
    write_files(project, {"config/secret.json": json.dumps(secret)})
    config = {
        "SERVER_ENV": {
            "APP_NAME": "Flask",
            "APP_KEY": "o" * 48,
            "PUBLIC_URL": PUBLIC_URL,
            "INSTANCE_PATH": str(folder / "instance"),
        },
        "DATABASE": {},
        "LOGINS": "OpenID",
        "FLASK": {"CONFIG": {"OIDC_CLIENT_SECRETS": "secret.json", "OIDC-SCOPES": ["openid", "email"]}},
    }
    path = project / "config" / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return create_app(project, path)


def test_openid_login_through_process_openid_signs_in_and_out(app: Flask) -> None:
    http = app.test_client()
    assert http.get("/test").headers["Location"] == "/openid/login/"
    start = http.get("/openid/login/")
    assert start.status_code == 302 and start.headers["Location"] == "/login/oidc/openid"
    authorization = http.get(start.headers["Location"]).headers["Location"]
    callback = ProviderBrowser(PUBLIC_URL).log_in(authorization, ALICE["username"], ALICE["password"])
    back = http.get(callback[len(PUBLIC_URL) :])
    assert back.status_code == 302 and back.headers["Location"] == "/"
    assert http.get("/test").get_data(as_text=True) == "Welcome alice@example.org"
    assert http.get("/openid/logout/").headers["Location"] == "/"
    assert http.get("/test").status_code == 302


def test_an_unprovided_method_of_process_openid_names_the_equivalent(app: Flask) -> None:
    with app.app_context():
        from flask_framework.Server import Process

        with pytest.raises(
            AttributeError, match=r"Process\.openid\.introspect is not provided .*LOGINS\.oidc"
        ):
            Process.openid.introspect  # noqa: B018
