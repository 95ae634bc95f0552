"""The page cache in Redis: two hosts of one site (one database, one Redis) share pages and see each
other's changes; with Redis down, pages are rendered as without a cache."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conexoos.app.controllers import page_cache
from conexoos.framework.config import deep_merge
from conexoos.framework.logs import EveryFewSeconds
from tests.conftest import AppFactory
from tests.support.redis_server import RedisServer
from tests.support.services import require_redis

from .conftest import QUIET, RATE_LIMITS_OFF, sign_up
from .test_page_cache import cached_view, rendered_view, view
from .test_public_page import shown_links

CLOCK_MARGIN = 1.1
"""A little more than page_cache.SHARED_CLOCK_MARGIN: a page read sooner after a change is not kept."""


def host(make_app: AppFactory, database_url: str, redis: dict[str, Any], site: str) -> Flask:
    """One app host of the site: the shared database and Redis, and the site's APP_NAME (its keys in the
    shared Redis, pages and the write buffer's stream, are never another test's running meanwhile)."""
    overrides = deep_merge(
        deep_merge(RATE_LIMITS_OFF, QUIET), {"SERVICES": {"redis": redis}, "SERVER_ENV": {"APP_NAME": site}}
    )
    return make_app(overrides=overrides, database_url=database_url)


def test_two_hosts_share_pages_and_changes(make_app: AppFactory, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    site = f"pages{uuid.uuid4().hex[:12]}"
    host_a, host_b = host(make_app, url, require_redis(), site), host(make_app, url, require_redis(), site)
    alice = sign_up(host_a, "alice")
    alice.add_link("One")
    time.sleep(CLOCK_MARGIN)
    visitor_a, visitor_b = host_a.test_client(), host_b.test_client()
    assert view(visitor_b, "/alice").status_code == 200  # host B renders and keeps the page in Redis
    cached_view(host_a, visitor_a, "/alice")  # host A serves it without reading the database
    alice.add_link("Two")  # a change made through host A
    html = rendered_view(host_b, visitor_b, "/alice").get_data(as_text=True)
    assert [title for _, title in shown_links(html)] == ["One", "Two"]


def test_with_redis_down_pages_are_rendered(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page_cache, "_store_warning", EveryFewSeconds(60.0))  # said once a minute: now
    with RedisServer() as redis:  # a free port: never another run's server
        app = host(make_app, f"sqlite:///{tmp_path / 'site.db'}", redis.service, "pages")
        alice = sign_up(app, "alice")
        alice.add_link("One")
        redis.stop()
        client = app.test_client()
        for _ in range(2):
            response = rendered_view(app, client, "/alice")
            assert response.status_code == 200 and [title for _, title in shown_links(response.text)] == [
                "One"
            ]
    assert "page cache unavailable" in caplog.text
