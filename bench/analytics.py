"""Analytics benchmark: 1,000,000 events, /api/stats over 90 days, and /go vs public-page throughput.

Run: .venv/bin/python bench/analytics.py [--events 1000000] [--backends sqlite,postgresql]

For each backend it loads the events into a fresh database, folds them into the rollups, then measures
in the same run:
- /api/stats for a 90-day range (median and p95 of repeated requests), next to a baseline: the same
  daily totals computed straight from the raw events, as a system without rollups would;
- requests per second of /go/<id> next to the public page /<username>, through the full WSGI stack in
  one process (one thread), so the two are comparable.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from conexoos.app.controllers import rollups
from conexoos.app.controllers.accounts import create_account
from conexoos.app.models.persistent import AnalyticsEvent, PageBlock, UserLink
from conexoos.framework import create_app, db
from conexoos.framework.database import create_schema

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
REFERRERS = ["instagram.com", "tiktok.com", "twitter.com", "youtube.com", "", "facebook.com", "google.com"]
DEVICES = [
    ("mobile", "iOS", "Mobile Safari"),
    ("mobile", "Android", "Chrome Mobile"),
    ("desktop", "Windows", "Chrome"),
    ("desktop", "Mac OS X", "Safari"),
    ("tablet", "iOS", "Mobile Safari"),
]
COUNTRIES = ["FR", "US", "BR", "DE", "IN", ""]
DAYS = 90
LINKS = 10
ZONE = ZoneInfo("Europe/Paris")


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh empty database of ``backend``, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"conexoos_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def build_app(url: str, folder: Path) -> Flask:
    """The product on ``url``, with unlimited plans so limits do not interfere."""
    app = create_app(
        None,
        overrides={
            "SERVER_ENV": {
                "ENV": "UAT",
                "APP_KEY": "bench-" + "k" * 40,
                "PUBLIC_URL": "http://bench.invalid",
                "INSTANCE_PATH": str(folder / "instance"),
                "LOG": {"LEVEL": "WARNING"},
            },
            "DATABASE": {"default": "main", "main": {"url": url}},
            "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False}},
            "APP": {"PLANS": {"gratis": {"MAX_LINKS": None, "MAX_PRODUCTS": None, "HISTORY_DAYS": None}}},
        },
    )
    create_schema(app, app.extensions["conexoos"].settings)
    return app


def load_events(app: Flask, count: int, chunk: int = 20_000) -> tuple[int, list[int], float]:
    """Create a creator with links and insert ``count`` events spread over the last 90 days."""
    random.seed(7)
    with app.app_context():
        user = create_account("bench@example.com", "bench", "quiet measured passphrase")
        for index in range(LINKS):
            UserLink(
                owner_id=user.id, title=f"Link {index}", url=f"https://example.com/{index}", order_index=index
            ).save()
        link_ids = [link.id for link in UserLink.get_links_by_user_id(user.id)]
        for index, link_id in enumerate(link_ids):  # the public page draws its blocks
            PageBlock(owner_id=user.id, kind="link", position=index, link_id=link_id).save()
        now = datetime.now(UTC) - timedelta(minutes=10)
        first = datetime.combine(
            datetime.now(ZONE).date() - timedelta(days=DAYS - 1), datetime.min.time(), ZONE
        )
        span = int((now - first).total_seconds())
        # Events arrive in time order in production, so they are inserted in time order here too.
        offsets = sorted((random.randrange(span) for _ in range(count)), reverse=True)
        started = time.perf_counter()
        for start in range(0, count, chunk):
            rows = [
                _event(user.id, link_ids, now - timedelta(seconds=seconds))
                for seconds in offsets[start : start + chunk]
            ]
            db.session.execute(insert(AnalyticsEvent), rows)
            db.session.commit()
        return user.id, link_ids, time.perf_counter() - started


def _event(owner_id: int, link_ids: list[int], moment: datetime) -> dict[str, Any]:
    is_click = random.random() < 0.4
    device, os_name, browser = random.choice(DEVICES)
    return {
        "owner_id": owner_id,
        "link_id": random.choice(link_ids) if is_click else None,
        "kind": "click" if is_click else "view",
        "occurred_at": moment,
        "referrer_host": random.choice(REFERRERS),
        "utm_source": random.choice(["", "", "newsletter", "ig_bio"]),
        "utm_medium": "",
        "utm_campaign": "",
        "device": device,
        "os": os_name,
        "browser": browser,
        "country": random.choice(COUNTRIES),
        "visitor_hash": f"{random.randrange(40_000):032x}",
    }


def refresh_planner_statistics(backend: str) -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does on a live system after a bulk load:
    without it the planner has no statistics and PostgreSQL cannot use index-only scans."""
    statement = "VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))


def logged_in_client(app: Flask) -> Any:
    """A test client logged in as the bench creator (through the real login form)."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no csrf token on /login"
    response = client.post(
        "/login",
        data={"login": "bench", "password": "quiet measured passphrase", "csrf_token": token.group(1)},
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302, response.status_code
    return client


def timed(function: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def raw_daily_totals(app: Flask, owner_id: int, start: datetime) -> None:
    """The baseline: daily views and clicks grouped straight from the raw events."""
    day = func.date(AnalyticsEvent.occurred_at)
    with app.app_context():
        db.session.execute(
            select(day, AnalyticsEvent.kind, func.count())
            .where(AnalyticsEvent.owner_id == owner_id, AnalyticsEvent.occurred_at >= start)
            .group_by(day, AnalyticsEvent.kind)
        ).all()
        db.session.remove()


def throughput(client: Any, path: str, seconds: float, headers: dict[str, str]) -> float:
    """Requests per second of GET ``path`` over about ``seconds``."""
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 302), (path, response.status_code)
        done += 1
    return done / (time.perf_counter() - started)


def run(backend: str, count: int, repeat: int, seconds: float) -> dict[str, Any]:
    """All measurements for one backend."""
    with tempfile.TemporaryDirectory() as folder, database(backend, Path(folder)) as url:
        app = build_app(url, Path(folder))
        owner_id, link_ids, load_seconds = load_events(app, count)
        with app.app_context():
            started = time.perf_counter()
            folded = rollups.roll_up()
            rollup_seconds = time.perf_counter() - started
            refresh_planner_statistics(backend)
        client = logged_in_client(app)
        today = datetime.now(ZONE).date()
        start = today - timedelta(days=DAYS - 1)
        query = f"/api/stats?from={start.isoformat()}&to={today.isoformat()}&tz={ZONE.key}"
        first = client.get(query)
        assert first.status_code == 200, first.get_data(as_text=True)
        total = first.get_json()["totals"]
        assert total["views"] + total["clicks"] == count, (total, count)
        stats_ms = timed(lambda: client.get(query), repeat)
        since = datetime.now(UTC) - timedelta(days=DAYS)
        baseline_ms = timed(lambda: raw_daily_totals(app, owner_id, since), max(3, repeat // 5))
        visitor = app.test_client()
        headers = {"User-Agent": BROWSER}
        go_rps = throughput(visitor, f"/go/{link_ids[0]}", seconds, headers)
        page_rps = throughput(visitor, "/bench", seconds, headers)
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
        return {
            "backend": backend,
            "events": count,
            "load_s": load_seconds,
            "rollup_s": rollup_seconds,
            "folded": folded,
            "stats_median_ms": statistics.median(stats_ms),
            "stats_p95_ms": _p95(stats_ms),
            "baseline_median_ms": statistics.median(baseline_ms),
            "go_rps": go_rps,
            "page_rps": page_rps,
        }


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    """Parse arguments, run each backend, print one table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=30, help="/api/stats requests to time")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    args = parser.parse_args()
    results = [run(backend, args.events, args.repeat, args.seconds) for backend in args.backends.split(",")]
    print(
        f"\n{'backend':<11}{'events':>10}{'load s':>9}{'rollup s':>10}"
        f"{'stats p50 ms':>14}{'stats p95 ms':>14}"
        f"{'raw-scan p50 ms':>17}{'/go req/s':>11}{'page req/s':>12}"
    )
    for r in results:
        print(
            f"{r['backend']:<11}{r['events']:>10,}{r['load_s']:>9.1f}{r['rollup_s']:>10.1f}"
            f"{r['stats_median_ms']:>14.1f}{r['stats_p95_ms']:>14.1f}{r['baseline_median_ms']:>17.1f}"
            f"{r['go_rps']:>11.0f}{r['page_rps']:>12.0f}"
        )


if __name__ == "__main__":
    main()
