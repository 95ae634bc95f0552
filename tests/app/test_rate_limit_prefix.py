"""Rate-limit counters live in Redis under the app's prefix, like its sessions and task locks: two apps
sharing one Redis never share a counter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from conexoos.framework import create_app
from conexoos.framework.config import deep_merge
from conexoos.framework.database import create_schema, db
from tests.conftest import base_overrides
from tests.support.services import require_redis

from .test_accounts import post_login

pytestmark = pytest.mark.services


@pytest.fixture
def redis_settings() -> dict[str, object]:
    """The test Redis, as SERVICES.redis (skipped, or failed under CI, when it is not running)."""
    return require_redis()


@pytest.fixture
def run_id() -> str:
    """A random part for app names and logins, so parallel runs never meet in the shared Redis."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def client_redis(redis_settings: dict[str, object], run_id: str) -> Iterator[redis.Redis]:
    """A client of the test Redis; every key this test made is deleted afterwards."""
    client = redis.Redis(host=str(redis_settings["HOST"]), port=int(str(redis_settings["PORT"])))
    yield client
    for key in client.scan_iter(match=f"*{run_id}*"):
        client.delete(key)
    client.close()


def limited_app(tmp_path: Path, name: str, redis_settings: dict[str, object]) -> Flask:
    """The product named ``name``, rate limits on, counters in the test Redis (its own SQLite file)."""
    folder = tmp_path / name
    overrides = deep_merge(
        base_overrides(folder),
        {
            "SERVER_ENV": {"APP_NAME": name, "LOG": {"LEVEL": "WARNING"}},
            "SERVICES": {"redis": redis_settings},
            "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}},
        },
    )
    app = create_app(None, overrides=overrides)
    create_schema(app, app.extensions["conexoos"].settings)
    return app


@pytest.fixture
def two_apps(tmp_path: Path, redis_settings: dict[str, object], run_id: str) -> Iterator[tuple[Flask, Flask]]:
    """Two apps on one Redis with different names (so different prefixes)."""
    apps = (
        limited_app(tmp_path, f"rl_{run_id}_a", redis_settings),
        limited_app(tmp_path, f"rl_{run_id}_b", redis_settings),
    )
    yield apps
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_counters_are_stored_under_the_apps_prefix(
    two_apps: tuple[Flask, Flask], client_redis: redis.Redis, run_id: str
) -> None:
    first, _ = two_apps
    login = f"target_{run_id}"
    assert post_login(first.test_client(), login, "wrong password!").status_code == 401

    keys = [key.decode() for key in client_redis.scan_iter(match=f"*{run_id}*")]
    counters = [key for key in keys if login in key]
    assert counters, keys  # the per-account counter exists...
    prefix = f"rl_{run_id}_a:limits:"
    assert all(key.startswith(prefix) for key in counters), counters  # ...under the app's prefix only
    assert not any(key.startswith("LIMITS:") for key in keys)


def test_two_apps_with_different_prefixes_do_not_share_counters(
    two_apps: tuple[Flask, Flask], client_redis: redis.Redis, run_id: str
) -> None:
    first, second = two_apps
    login = f"target_{run_id}"
    statuses = [post_login(first.test_client(), login, "wrong password!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # the per-account limit, counted in Redis

    # The same account name and IP on the other app starts from zero.
    assert post_login(second.test_client(), login, "wrong password!").status_code == 401
    # And the first app's counter is still where it was.
    assert post_login(first.test_client(), login, "wrong password!").status_code == 429
