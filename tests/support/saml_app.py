"""A small project that logs in with ``LOGINS.saml`` only, for the SAML tests (framework and browser).

The framework installs the backend from the configuration; the project only registers its login handler,
which keeps the identity in the session and shows it at ``/me`` (JSON) and ``/`` (HTML). ``POST /logout``
ends the session and goes on to the IdP's single logout.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from conexoos.framework import create_app
from tests.framework.helpers import write_project
from tests.support.live_server import STOP_POLL

PROJECT_FILES = {
    "server/__init__.py": "",
    "server/web.py": """
        from flask import g, jsonify, redirect, session
        from markupsafe import escape

        from conexoos.framework.app import runtime
        from conexoos.framework.logins import LoginFailed
        from conexoos.framework.urls import public_url


        class Route:
            def __init__(self, app):
                runtime().logins.on_login(logged_in)
                app.add_url_rule("/", "home", home)
                app.add_url_rule("/me", "me", me)
                app.add_url_rule("/logout", "logout", logout, methods=["POST"])


        def logged_in(identity):
            if identity.username == "bob" and identity.admin is False and g.login_next == "/refuse-bob":
                raise LoginFailed("Bob may not log in here.", status=403)
            session.clear()  # as a project regenerating the session at login
            session["user"] = {
                "subject": identity.subject, "username": identity.username, "email": identity.email,
                "email_verified": identity.email_verified, "name": identity.name, "admin": identity.admin,
                "backend": identity.backend, "provider": identity.provider,
            }
            session["logout_state"] = dict(identity.logout_state)
            return redirect(g.login_next or "/", code=303)


        def me():
            return jsonify(user=session.get("user"), logout_state=session.get("logout_state"))


        def home():
            user = session.get("user")
            if not user:
                return '<p>Not logged in</p><p><a href="/saml/login?next=/">Log in with SSO</a></p>'
            return (
                f"<p id=who>Logged in as {escape(user['name'])} ({escape(user['email'])})</p>"
                '<form method=post action=/logout><button>Log out</button></form>'
            )


        def logout():
            state = session.get("logout_state") or {}
            session.clear()
            url = runtime().logins.logout_url("saml", "saml", state, public_url() + "/")
            return redirect(url or "/", code=303)
    """,
}


def saml_project(root: Path) -> Path:
    """Write the project under ``root``."""
    return write_project(root, PROJECT_FILES)


def saml_section(idp_metadata: str, sp_key: Path, sp_cert: Path, **extra: Any) -> dict[str, Any]:
    """A ``LOGINS.saml`` section for the test IdP, with the admin mapping on ``groups``."""
    return {
        "IDP_METADATA": idp_metadata,
        "SP_CERT": str(sp_cert),
        "SP_KEY": str(sp_key),
        "ADMIN_ATTRIBUTE": "groups",
        "ADMIN_VALUES": ["conexoos-admins", "root"],
        "EMAIL_VERIFIED": True,
        "LABEL": "Company SSO",
        **extra,
    }


@dataclass(frozen=True)
class RunningApp:
    """The project on a real HTTP server at ``url``."""

    url: str
    app: Flask


@contextmanager
def run_saml_app(
    project: Path, folder: Path, section: dict[str, Any], host: str = "127.0.0.1"
) -> Iterator[RunningApp]:
    """Serve the project with ``section`` on a free port (its PUBLIC_URL) until the block ends."""
    server = make_server("127.0.0.1", 0, _starting, threaded=True)
    url = f"http://{host}:{server.server_port}"
    overrides = {
        "SERVER_ENV": {
            "ENV": "DEV",
            "INSTANCE_PATH": str(folder / "instance"),
            "APP_KEY": "saml-test-key-" + "s" * 40,
            "PUBLIC_URL": url,
        },
        "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{folder / 'app.db'}"}},
        "LOGINS": {"saml": section},
    }
    try:
        app = create_app(project, overrides=overrides)
    except BaseException:
        server.server_close()
        raise
    server.app = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL}, daemon=True)
    thread.start()
    try:
        _wait_for(server.server_port)
        yield RunningApp(url=url, app=app)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def _starting(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.05)
    raise RuntimeError(f"the SAML test app on port {port} did not answer")
