"""The page cache in Redis: two hosts of one site (one database, one Redis) share pages and see each
other's changes; with Redis down, pages are rendered as without a cache."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from conexoos.app.controllers import page_cache
from conexoos.framework.cli import cli
from conexoos.framework.config import deep_merge
from conexoos.framework.logs import EveryFewSeconds
from tests.conftest import AppFactory
from tests.support.green_server import new_port
from tests.support.memcached_server import MemcachedServer
from tests.support.redis_server import RedisServer
from tests.support.services import require_redis

from .cli_support import cli_env
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


def test_a_restore_makes_every_host_forget_the_pages_it_kept(make_app: AppFactory, tmp_path: Path) -> None:
    """The pages kept in Redis outlive the site's stop; after ``db restore`` they held links the restored
    database does not have, served until their TTL."""
    site = f"restore{uuid.uuid4().hex[:12]}"
    app = host(make_app, f"sqlite:///{tmp_path / 'site.db'}", require_redis(), site)
    env = cli_env(app, {"SERVER_ENV": {"BIND": {"PORT": new_port()}}})  # nothing listens: "site stopped"
    alice = sign_up(app, "alice")
    alice.add_link("One")
    runner = CliRunner()
    backup = runner.invoke(cli, ["db", "backup", str(tmp_path / "backup.db")], env=env)
    assert backup.exit_code == 0, backup.output
    alice.add_link("Two")
    time.sleep(CLOCK_MARGIN)
    visitor = app.test_client()
    assert [title for _, title in shown_links(cached_view(app, visitor, "/alice"))] == ["One", "Two"]

    restored = runner.invoke(cli, ["db", "restore", str(tmp_path / "backup.db"), "--yes"], env=env)
    assert restored.exit_code == 0, restored.output
    assert [title for _, title in shown_links(rendered_view(app, visitor, "/alice").text)] == ["One"]


def test_a_restore_with_redis_down_is_refused_before_it_replaces_anything(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """Its buffered events could not be set aside: they would be recorded into the restored database."""
    with RedisServer() as redis:
        app = host(make_app, f"sqlite:///{tmp_path / 'site.db'}", redis.service, "pages")
        env = cli_env(app, {"SERVER_ENV": {"BIND": {"PORT": new_port()}}})
        runner = CliRunner()
        assert runner.invoke(cli, ["db", "backup", str(tmp_path / "backup.db")], env=env).exit_code == 0
        alice = sign_up(app, "alice")
        redis.stop()
        refused = runner.invoke(cli, ["db", "restore", str(tmp_path / "backup.db"), "--yes"], env=env)
    assert refused.exit_code == 2, refused.output
    assert "Redis does not answer (" in refused.output and "start Redis, then restore" in refused.output
    assert "Traceback" not in refused.output
    assert alice.client.get("/dashboard").status_code == 200  # the database was left as it was


def test_a_restore_with_the_cache_down_is_done_and_says_the_cache_was_not_told(
    make_app: AppFactory, tmp_path: Path
) -> None:
    memcached = MemcachedServer().start()
    overrides = deep_merge(QUIET, {"SERVICES": {"memcached": memcached.service}})
    app = make_app(overrides=overrides, database_url=f"sqlite:///{tmp_path / 'site.db'}")
    env = cli_env(app, {"SERVER_ENV": {"BIND": {"PORT": new_port()}}})
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "backup", str(tmp_path / "backup.db")], env=env).exit_code == 0
    memcached.stop()
    restored = runner.invoke(cli, ["db", "restore", str(tmp_path / "backup.db"), "--yes"], env=env)
    assert restored.exit_code == 0, restored.output
    assert "warning: the cache could not be told (" in restored.output
    assert "what it kept is served until it expires" in restored.output and "Traceback" not in restored.output


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
