"""The site's default theme: chosen in /admin/settings, worn by every public page, read in the page's
first query (the page still runs two)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import site_settings
from conexoos.app.controllers.themes import THEMES
from conexoos.app.models.persistent import SiteSetting
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp
from .test_public_page import selects, statements_of
from .test_site_settings_admin import DEFAULTS

pytestmark = pytest.mark.database_matrix


def body_class(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return html.split("<body", 1)[1].split(">", 1)[0]


def test_a_page_wears_classic_until_the_operator_chooses_another(
    app: Flask, alice: Account, signed_up: SignUp, client: FlaskClient
) -> None:
    assert body_class(client, "/alice") == ' class="theme-classic"'
    boss = make_staff(app, signed_up("boss"), "admin")
    form = {"csrf_token": boss.csrf, **DEFAULTS, "default_theme": "midnight"}
    assert boss.client.post("/admin/settings", data=form).status_code == 302
    assert body_class(client, "/alice") == ' class="theme-midnight"'
    assert len(selects(statements_of(app, client, "/alice"))) <= 2
    refused = boss.client.post("/admin/settings", data={**form, "default_theme": "neon"})
    assert refused.status_code == 422 and "Choose one of: " + ", ".join(THEMES) in refused.get_data(
        as_text=True
    )


def test_a_stored_theme_that_no_longer_exists_shows_classic(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    with app.app_context():
        db.session.add(SiteSetting(key="default_theme", value=json.dumps("retired")))
        db.session.commit()
        site_settings.forget_cached()
    assert body_class(client, "/alice") == ' class="theme-classic"'
