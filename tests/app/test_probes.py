"""The product keeps the framework's probes: not a page view, not a session, not a username."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.framework import db

from .conftest import post_signup


def test_probes_answer_without_cookie_or_page_view(app: Flask, client: FlaskClient) -> None:
    for path, status in (("/healthz", 200), ("/readyz", 200)):
        response = client.get(path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"})
        assert response.status_code == status
        assert "Set-Cookie" not in response.headers
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AnalyticsEvent)) == 0


def test_probe_paths_cannot_be_usernames(client: FlaskClient) -> None:
    for name in ("healthz", "readyz"):
        status, _page = post_signup(client, name)
        assert status == 422, name
