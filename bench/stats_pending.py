"""/api/stats while other users' events wait for the roll-up: its cost must not grow with their traffic.

Run: .venv/bin/python bench/stats_pending.py [--backends sqlite,postgresql] [--pending 0,10000,100000]

One creator has 2,000 rolled-up and 200 pending events over the last 7 days. Other users' pending (not
yet rolled-up) events are then added, 0, 10,000 and 100,000 of them in the same days, and after each step
the p50 of ``/api/stats`` (7 days, Europe/Paris, through the full WSGI stack) is timed twice in the same
run: with the current query (one owner's pending events, filtered in SQL on (owner_id, rolled_up, id))
and with the pre-change one (every pending event read, then filtered in Python). Both must give the same
report.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import false, insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import analytics as bench  # bench/analytics.py: database, app, login and timing helpers

from conexoos.app.controllers import rollups
from conexoos.app.controllers import stats as stats_controller
from conexoos.app.controllers.accounts import create_account
from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.framework import db

OWN_ROLLED_UP, OWN_PENDING, OTHER_USERS, DAYS = 2_000, 200, 50, 7
CURRENT = stats_controller.pending_events


def baseline_pending_events(
    owner_id: int, start: datetime, end: datetime, reader: Session | None = None
) -> Sequence[Any]:
    """The query before this change: every pending event of every owner, filtered in Python."""
    pending = (
        (reader or db.session())
        .scalars(
            select(AnalyticsEvent).where(AnalyticsEvent.rolled_up == false()).order_by(AnalyticsEvent.id)
        )
        .all()
    )
    return [event for event in pending if event.owner_id == owner_id and start <= event.occurred_at < end]


def insert_events(owner_ids: list[int], count: int, now: datetime) -> None:
    """``count`` events of ``owner_ids`` spread over the last ``DAYS`` days, a minute old or more."""
    span = (DAYS - 1) * 86400  # all inside the 7 local days of the report
    for start in range(0, count, 20_000):
        rows = []
        for _ in range(min(20_000, count - start)):
            row = bench._event(
                random.choice(owner_ids), [1], now - timedelta(seconds=60 + random.randrange(span))
            )
            row["link_id"], row["kind"] = None, "view"
            rows.append(row)
        db.session.execute(insert(AnalyticsEvent), rows)
        db.session.commit()


def run(backend: str, steps: list[int], repeat: int) -> list[dict[str, Any]]:
    """The p50s of one backend at each number of other users' pending events."""
    random.seed(11)
    results = []
    with tempfile.TemporaryDirectory() as folder, bench.database(backend, Path(folder)) as url:
        app = bench.build_app(url, Path(folder))
        now = datetime.now(UTC)
        with app.app_context():
            owner = create_account("bench@example.com", "bench", "quiet measured passphrase").id
            others = [
                create_account(f"o{n}@example.com", f"other{n}", "quiet measured passphrase").id
                for n in range(OTHER_USERS)
            ]
            insert_events([owner], OWN_ROLLED_UP, now)
            rollups.roll_up()
            insert_events([owner], OWN_PENDING, now)
        client = bench.logged_in_client(app)
        today = datetime.now(bench.ZONE).date()
        query = (
            f"/api/stats?from={(today - timedelta(days=DAYS - 1)).isoformat()}&to={today}&tz={bench.ZONE.key}"
        )
        added = 0
        for pending in steps:
            with app.app_context():
                insert_events(others, pending - added, now)
                bench.refresh_planner_statistics(backend)
                db.session.remove()
            added = pending
            results.append({"backend": backend, "pending": pending, **measure(app, client, query, repeat)})
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    return results


def measure(app: Flask, client: Any, query: str, repeat: int) -> dict[str, float]:
    """p50 ms of ``query`` with the current and the baseline pending-events query (same answers)."""
    answers, timings = [], {}
    for name, function in (("current", CURRENT), ("baseline", baseline_pending_events)):
        stats_controller.pending_events = function  # type: ignore[assignment]
        response = client.get(query)
        assert response.status_code == 200, response.get_data(as_text=True)
        bench.timed(lambda: client.get(query), 3)  # warm caches and pools before timing
        answers.append(response.get_json())
        timings[name] = statistics.median(bench.timed(lambda: client.get(query), repeat))
    stats_controller.pending_events = CURRENT
    assert answers[0] == answers[1], "the two queries disagree"
    assert answers[0]["totals"]["views"] == OWN_ROLLED_UP + OWN_PENDING, answers[0]["totals"]
    return timings


def main() -> None:
    """Parse arguments, run each backend, print one table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pending", default="0,10000,100000", help="other users' pending events, ascending")
    parser.add_argument("--repeat", type=int, default=30, help="/api/stats requests to time per figure")
    args = parser.parse_args()
    steps = [int(value) for value in args.pending.split(",")]
    results = [row for backend in args.backends.split(",") for row in run(backend, steps, args.repeat)]
    print(f"\n{'backend':<11}{'others pending':>15}{'/api/stats p50 ms':>19}{'pre-change p50 ms':>19}")
    for row in results:
        print(f"{row['backend']:<11}{row['pending']:>15,}{row['current']:>19.1f}{row['baseline']:>19.1f}")


if __name__ == "__main__":
    main()
