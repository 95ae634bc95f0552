"""Page cache benchmark: anonymous views of a public page with the page cache on, next to the same views
with it off, in the same run.

Run: .venv/bin/python bench/page_cache.py [--requests 2000] [--rounds 5] [--database-url URL]

Both apps serve one page with 10 links from one database (a fresh SQLite file by default), through the
full WSGI stack in one process (one thread), and every view is recorded (its INSERT is part of both).
Rounds alternate between the two; the figures are the median requests per second, with the spread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from conexoos.app.controllers.accounts import create_account
from conexoos.app.models.persistent import UserLink
from conexoos.framework import create_app
from conexoos.framework.database import create_schema

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
LINKS = 10


def product(folder: Path, database_url: str, enabled: bool) -> Flask:
    """The product on ``database_url`` with the page cache ``enabled`` or not (its own instance folder)."""
    overrides: dict[str, Any] = {
        "SERVER_ENV": {
            "ENV": "UAT",
            "APP_KEY": "bench-" + "k" * 40,
            "PUBLIC_URL": "http://bench.invalid",
            "INSTANCE_PATH": str(folder / ("on" if enabled else "off")),
            "LOG": {"LEVEL": "WARNING"},
        },
        "DATABASE": {"default": "main", "main": {"url": database_url}},
        "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": False}},
        "APP": {"PAGE_CACHE": {"ENABLED": enabled}},
    }
    app = create_app(None, overrides=overrides)
    create_schema(app, app.extensions["conexoos"].settings)
    return app


def seed(app: Flask) -> None:
    """One user, ``bench``, with LINKS links."""
    with app.app_context():
        user = create_account("bench@example.com", "bench", "correct horse battery staple")
        for n in range(LINKS):
            UserLink(
                owner_id=user.id, title=f"Link {n}", url=f"https://example.com/{n}", order_index=n
            ).save()


def rate(app: Flask, requests: int) -> float:
    """Requests per second of anonymous ``GET /bench``."""
    client = app.test_client()
    assert client.get("/bench", headers={"User-Agent": BROWSER}).status_code == 200  # warm (and cache)
    started = time.perf_counter()
    for _ in range(requests):
        client.get("/bench", headers={"User-Agent": BROWSER})
    return requests / (time.perf_counter() - started)


def main() -> None:
    """Measure and print both, side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        url = options.database_url or f"sqlite:///{folder / 'bench.db'}"
        cached, uncached = product(folder, url, True), product(folder, url, False)
        seed(cached)
        figures: dict[str, list[float]] = {"cache on": [], "cache off": []}
        for _ in range(options.rounds):
            figures["cache off"].append(rate(uncached, options.requests))
            figures["cache on"].append(rate(cached, options.requests))
    for name, rates in figures.items():
        print(f"{name:10} {statistics.median(rates):8.0f} req/s (spread {min(rates):.0f}–{max(rates):.0f})")
    ratio = statistics.median(figures["cache on"]) / statistics.median(figures["cache off"])
    print(f"cache on / cache off: {ratio:.2f}×")


if __name__ == "__main__":
    main()
