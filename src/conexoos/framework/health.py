"""``GET /healthz`` (the process answers) and ``GET /readyz`` (it can serve its public pages: its database
answers; and whether Redis, the S3 media bucket and its scheduled tasks are well too).

Both are meant for load balancers and orchestrators polling every few seconds: no session, no cookie,
no template, no page view, and a tiny body. ``/readyz`` is the one to route on: it answers 503 only when
the host cannot serve its public pages (the database does not answer). Without Redis or the media bucket
the public pages and click redirects still work, so that is 200 with ``"status": "degraded"``, naming
what is down: dropping every host of a cluster because their shared Redis is down would turn a partial
outage into a full one. ``/readyz?strict=1`` answers 503 when anything is down (for monitoring).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .causes import one_line_cause
from .database import db
from .errors import ProjectError
from .startup import try_connection
from .storage import S3Storage, media_storage
from .task_status import RedisStatusStore, lagging_tasks

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
HEALTH_ENDPOINTS = frozenset({"conexoos_healthz", "conexoos_readyz"})
CRITICAL_CHECKS = frozenset({"database"})
"""Checks without which the host cannot serve its public pages: one of them down is a 503."""
DATABASE_CONNECT_TIMEOUT = 2
"""Seconds the database check waits to connect (libpq accepts no less than 2)."""
DATABASE_DEADLINE = 2.5
"""Seconds the database check may take in all: connecting, then ``SELECT 1``. A server that accepted the
connection and then froze (SIGSTOP) is named down at this deadline, not when TCP gives up."""
STRICT_VALUES = frozenset({"1", "true", "yes"})
log = logging.getLogger("conexoos.health")
_probe_running = threading.Lock()
"""Held while a probe run by :func:`within` runs: one at a time per process, so that a server frozen for
minutes holds one waiting thread, not one per poll."""


class ProbeTimeout(TimeoutError):
    """A readiness probe got no answer within its deadline."""


def install_health_routes(app: Flask) -> None:
    """Add /healthz and /readyz as ordinary routes (so they show in ``conexoos routes``)."""
    app.add_url_rule(HEALTH_PATH, "conexoos_healthz", healthz, methods=["GET"])
    app.add_url_rule(READY_PATH, "conexoos_readyz", readyz, methods=["GET"])


def refuse_shadowed_health_routes(app: Flask) -> None:
    """A ``ProjectError`` for a project or plugin route at /healthz or /readyz: the framework's, added
    first, would answer it, and the project's would never run (``conexoos routes`` listed both)."""
    for rule in app.url_map.iter_rules():
        if rule.rule in (HEALTH_PATH, READY_PATH) and rule.endpoint not in HEALTH_ENDPOINTS:
            raise ProjectError(
                f"the route {rule.rule} (endpoint {rule.endpoint!r}) is the framework's health check, which "
                "answers it first: give the project's view another address"
            )


def healthz() -> Response:
    """200 as long as the process can answer a request."""
    return _no_store(Response("ok\n", mimetype="text/plain"))


def readyz() -> tuple[Response, int]:
    """200 when the default database answers (``ok``, or ``degraded`` when Redis or the S3 media bucket,
    each when configured, is down, or a task lags); 503 ``unavailable`` when the database is down, or,
    with ``?strict=1``, when anything is. ``down`` names every check that is down. The bucket is probed
    with 1 s timeouts, at most every 5 s (see storage/s3.py); media in the database is covered by the
    database check.

    A project without any database (``DATABASE: {}``) gets no database check. A project with scheduled
    tasks gets a ``tasks`` check: when one lags (see task_status.py) the answer is still 200, with
    ``"status": "degraded"`` and the lagging tasks named: the process serves, but its background work
    is behind, which an operator must see and a load balancer must not act on. While Redis is down and
    holds the task records, ``tasks`` is ``unknown``.

    Every check is bounded (the database by DATABASE_DEADLINE, on a connection of its own, Redis by
    PROBE_TIMEOUT without a retry, the task records by STORE_TIMEOUT), so that a stopped or frozen server
    is named within a few seconds.
    """
    from .app import runtime  # here: app imports this module

    checks: dict[str, str] = {}
    if runtime().settings.databases:
        checks["database"] = _check("database", _ping_database)
    if "redis" in current_app.config["SERVICES"]:
        checks["redis"] = _check("redis", _ping_redis)
    storage = media_storage()
    if isinstance(storage, S3Storage):
        checks["media"] = _check_media(storage)
    lagging = None
    if runtime().scheduler.tasks:
        lagging = _lagging_tasks(redis_down=checks.get("redis") == "down")
        checks["tasks"] = "unknown" if lagging is None else "lagging" if lagging else "ok"
    down = sorted(name for name, state in checks.items() if state == "down")
    strict = request.args.get("strict", "").lower() in STRICT_VALUES
    unavailable = [name for name in down if strict or name in CRITICAL_CHECKS]
    status = "unavailable" if unavailable else "degraded" if down or lagging else "ok"
    body: dict[str, object] = {"status": status, "checks": checks}
    if down:
        body["down"] = down
    if lagging:
        body["lagging"] = lagging
    return _no_store(jsonify(body)), 503 if unavailable else 200


def _lagging_tasks(redis_down: bool) -> list[str] | None:
    """The lagging tasks; None (unknown) when their records are in a Redis that just did not answer: a
    second wait for it would only delay the answer."""
    from .app import runtime  # here: app imports this module

    if redis_down and isinstance(runtime().scheduler.status.store, RedisStatusStore):
        return None
    return lagging_tasks(current_app._get_current_object())  # type: ignore[attr-defined]


def _check(name: str, probe: Callable[[], None]) -> str:
    try:
        probe()
    except (SQLAlchemyError, RedisError, OSError) as error:
        # One line per failed probe, no traceback: a probe polled every few seconds would flood the log.
        log.warning("readiness check %s failed: %s", name, one_line_cause(error))
        return "down"
    return "ok"


def _check_media(storage: S3Storage) -> str:
    problem = storage.unreachable()
    if problem is None:
        return "ok"
    log.warning("readiness check media failed: %s: %s", storage.describe(), problem)
    return "down"


def _ping_database() -> None:
    """``SELECT 1`` on the default database; a database server on a connection of its own (never one of
    the app's pool, which a frozen server would hold), within DATABASE_DEADLINE."""
    from .app import runtime  # here: app imports this module

    url = runtime().settings.default_database.url
    if url.get_backend_name() == "sqlite":  # a file: nothing to freeze, the pool is the thing to check
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return
    within(DATABASE_DEADLINE, lambda: _raise(try_connection(url, DATABASE_CONNECT_TIMEOUT)))


def within(seconds: float, probe: Callable[[], None]) -> None:
    """Run ``probe`` in a thread of its own and wait for it at most ``seconds`` in all: raise what it
    raised, or :class:`ProbeTimeout`. While an earlier probe still runs (two balancers polling at once, or
    a frozen server), this call waits for it to end within the same ``seconds`` before starting its own."""
    deadline = time.monotonic() + seconds
    if not _probe_running.acquire(timeout=seconds):
        raise ProbeTimeout(f"no answer within {seconds:g} s (an earlier check still waits for one)")
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            probe()
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 (handed to the waiting request)
            outcome.append(error)
        finally:
            _probe_running.release()

    thread = threading.Thread(target=run, name="conexoos-readyz-probe", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if not outcome:
        raise ProbeTimeout(f"no answer within {seconds:g} s")
    if outcome[0] is not None:
        raise outcome[0]


def _raise(error: BaseException | None) -> None:
    if error is not None:
        raise error


def _ping_redis() -> None:
    from .app import runtime  # here: app imports this module

    runtime().services.probe_redis.ping()  # PROBE_TIMEOUT, no retry: a frozen Redis is down in 0.5 s


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
