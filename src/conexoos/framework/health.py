"""``GET /healthz`` (the process answers) and ``GET /readyz`` (its database, Redis and S3 media bucket answer
too, and its scheduled tasks keep up).

Both are meant for load balancers and orchestrators polling every few seconds: no session, no cookie,
no template, no page view, and a tiny body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .database import db
from .storage import S3Storage, media_storage
from .task_status import RedisStatusStore, lagging_tasks

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
HEALTH_ENDPOINTS = frozenset({"conexoos_healthz", "conexoos_readyz"})
log = logging.getLogger("conexoos.health")


def install_health_routes(app: Flask) -> None:
    """Add /healthz and /readyz as ordinary routes (so they show in ``conexoos routes``)."""
    app.add_url_rule(HEALTH_PATH, "conexoos_healthz", healthz, methods=["GET"])
    app.add_url_rule(READY_PATH, "conexoos_readyz", readyz, methods=["GET"])


def healthz() -> Response:
    """200 as long as the process can answer a request."""
    return _no_store(Response("ok\n", mimetype="text/plain"))


def readyz() -> tuple[Response, int]:
    """200 when the default database, Redis and the S3 media bucket (each when configured) answer; 503
    naming what is down. The bucket is probed with 1 s timeouts, at most every 5 s (see storage/s3.py);
    media in the database is covered by the database check.

    A project without any database (``DATABASE: {}``) gets no database check. A project with scheduled
    tasks gets a ``tasks`` check: when one lags (see task_status.py) the answer is still 200, with
    ``"status": "degraded"`` and the lagging tasks named: the process serves, but its background work
    is behind, which an operator must see and a load balancer must not act on. While Redis is down and
    holds the task records, ``tasks`` is ``unknown``.

    Every check is bounded (the database by its connect timeout, Redis by PROBE_TIMEOUT without a retry,
    the task records by STORE_TIMEOUT), so that a stopped or frozen server is named within about a second.
    """
    from .app import runtime  # here: app imports this module

    checks: dict[str, str] = {}
    if runtime().settings.databases:
        checks["database"] = _check(_ping_database)
    if "redis" in current_app.config["SERVICES"]:
        checks["redis"] = _check(_ping_redis)
    storage = media_storage()
    if isinstance(storage, S3Storage):
        checks["media"] = _check_media(storage)
    lagging = None
    if runtime().scheduler.tasks:
        lagging = _lagging_tasks(redis_down=checks.get("redis") == "down")
        checks["tasks"] = "unknown" if lagging is None else "lagging" if lagging else "ok"
    down = sorted(name for name, state in checks.items() if state == "down")
    status = "unavailable" if down else "degraded" if lagging else "ok"
    body: dict[str, object] = {"status": status, "checks": checks}
    if down:
        body["down"] = down
    if lagging:
        body["lagging"] = lagging
    return _no_store(jsonify(body)), 503 if down else 200


def _lagging_tasks(redis_down: bool) -> list[str] | None:
    """The lagging tasks; None (unknown) when their records are in a Redis that just did not answer: a
    second wait for it would only delay the answer."""
    from .app import runtime  # here: app imports this module

    if redis_down and isinstance(runtime().scheduler.status.store, RedisStatusStore):
        return None
    return lagging_tasks(current_app._get_current_object())  # type: ignore[attr-defined]


def _check(probe: Callable[[], None]) -> str:
    try:
        probe()
    except (SQLAlchemyError, RedisError, OSError) as error:
        # One line per failed probe, no traceback: a probe polled every few seconds would flood the log.
        log.warning("readiness check %s failed: %s: %s", probe.__name__, type(error).__name__, error)
        return "down"
    return "ok"


def _check_media(storage: S3Storage) -> str:
    problem = storage.unreachable()
    if problem is None:
        return "ok"
    log.warning("readiness check media failed: %s: %s", storage.describe(), problem)
    return "down"


def _ping_database() -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_redis() -> None:
    from .app import runtime  # here: app imports this module

    runtime().services.probe_redis.ping()  # PROBE_TIMEOUT, no retry: a frozen Redis is down in 0.5 s


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
