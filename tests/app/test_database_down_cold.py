"""The database down in a process that has not read the site settings yet (a worker just started or
respawned) or read them more than 30 s ago: every page that needs the database gets the 503 page, never a
500, and the log holds one line, not a traceback per request."""

from __future__ import annotations

import logging
import time

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from conexoos.app.controllers import site_settings
from conexoos.framework import db

from .conftest import Account, SignUp
from .test_database_down_signed_in import DATABASE_DOWN, database_down

VISITOR_PATHS = ["/nosuchuser", "/go/999999", "/login", "/signup", "/"]


def _forget_settings(app: Flask) -> None:
    with app.app_context():
        site_settings.forget_cached()


def _expire_settings(app: Flask) -> None:
    with app.app_context():
        app.extensions["conexoos.site_settings"]["until"] = time.monotonic() - 1


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [record for record in caplog.records if record.exc_info], [
        record.getMessage() for record in caplog.records
    ]


@pytest.mark.parametrize("path", VISITOR_PATHS)
def test_a_process_that_never_read_the_settings_answers_503_with_the_default_name(
    app: Flask, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    _forget_settings(app)
    with database_down(app), caplog.at_level(logging.WARNING):
        response = app.test_client().get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:2000]
    assert DATABASE_DOWN in page and f"<title>503 Service Unavailable · {app.config['APP_NAME']}" in page
    assert response.headers["Retry-After"] == "30"
    _no_tracebacks(caplog)


def test_settings_read_before_the_outage_are_shown_after_their_30_seconds(
    app: Flask, signed_up: SignUp, caplog: pytest.LogCaptureFixture
) -> None:
    """A process keeps the values it read last while the database does not answer (the site's name on
    the 503 page, the sign-up link), and asks again a few seconds later."""
    owner: Account = signed_up("alice")
    with app.app_context():
        site_settings.store("site_name", "Linkhaus")
        site_settings.store("signup_policy", site_settings.CLOSED)
        db.session.commit()
        site_settings.cached()
    _expire_settings(app)
    with database_down(app), caplog.at_level(logging.WARNING):
        for path in VISITOR_PATHS:
            response = app.test_client().get(path)
            page = response.get_data(as_text=True)
            assert response.status_code == 503 and "· Linkhaus</title>" in page, page[:2000]
            assert ">Sign up</a>" not in page  # closed, as read before the outage
        assert owner.client.get("/dashboard").status_code == 503
    _no_tracebacks(caplog)
    with app.app_context():
        assert app.extensions["conexoos.site_settings"]["until"] <= time.monotonic() + 5
    assert "Linkhaus" in app.test_client().get("/login").get_data(as_text=True)  # the database is back


def test_an_error_template_that_reads_the_database_gets_the_plain_page(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A project's error template that asks the database without checking ``database_failed`` (here: the
    site's menus) cannot turn the 503 into a 500: the framework draws its plain page instead."""
    app.jinja_env.globals["menus_from_the_database"] = lambda: db.session.execute(select(1)).all()
    template = (
        "{% extends 'errors/error.html' %}{% block title %}{{ menus_from_the_database() }}{% endblock %}"
    )
    original = app.jinja_env.loader
    assert original is not None
    app.jinja_env.loader = ChoiceLoader([DictLoader({"errors/503.html": template}), original])
    with database_down(app), caplog.at_level(logging.WARNING):
        response = app.test_client().get("/nosuchuser")
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:2000]
    assert "<h1>503 Service Unavailable</h1>" in page and DATABASE_DOWN in page
    _no_tracebacks(caplog)
