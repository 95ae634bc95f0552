"""Write buffer benchmark: what one acknowledged append costs, next to the insert a request used to make.

Run: .venv/bin/python bench/write_buffer.py [--appends 2000] [--redis redis://127.0.0.1:6379/0]
                                          [--before-src /tmp/before/src]

In one run, one process, one thread, median of 5 alternating rounds, it prints appends per second of:
- the local file queue (framework/write_buffer.FileQueue: one O_APPEND write per append), with an fsync
  per append (``APP.ANALYTICS.BUFFER_FSYNC: true``) and without (the default);
- the Redis stream (one XADD per append), when ``--redis`` names a Redis (a key of its own, deleted after);
- with ``--before-src``, the file queue of another tree (``git archive main src | tar -x -C /tmp/before``);
- the baseline: one committed INSERT of a similar row per event into a SQLite file (what a click cost the
  request before the buffer, in WAL mode with ``synchronous=NORMAL`` as the product opens SQLite, which
  does not fsync each commit).
"""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from conexoos.framework.write_buffer import FileQueue, RedisStreamQueue

ROUNDS = 5


def payload() -> dict[str, object]:
    """An event as the product queues it."""
    return {
        "event_id": str(uuid.uuid4()),
        **{"owner_id": 1, "link_id": 2, "kind": "click", "occurred_at": "2026-12-02T18:00:00+00:00"},
        **{"referrer_host": "t.co", "utm_source": "", "utm_medium": "", "utm_campaign": ""},
        **{"device": "mobile", "os": "iOS", "browser": "Safari", "country": "FR", "visitor_hash": "a" * 32},
    }


def rate(append: Callable[[dict[str, object]], None], count: int) -> float:
    """Appends per second over ``count`` appends."""
    started = time.perf_counter()
    for _ in range(count):
        append(payload())
    return count / (time.perf_counter() - started)


def sqlite_insert(folder: Path) -> Callable[[dict[str, object]], None]:
    connection = sqlite3.connect(folder / "events.sqlite3", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")  # as the product opens SQLite: WAL, and no fsync at
    connection.execute("PRAGMA synchronous=NORMAL")  # each commit (so not durable against a power cut)
    connection.execute("CREATE TABLE IF NOT EXISTS event (event_id TEXT UNIQUE, owner_id INT, data TEXT)")

    def insert(event: dict[str, object]) -> None:
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO event VALUES (?, ?, ?)", (event["event_id"], event["owner_id"], repr(event))
        )
        connection.execute("COMMIT")

    return insert


def _file_queue_of(src: Path) -> Any:
    """The ``FileQueue`` class of another tree's ``framework/write_buffer.py`` (loaded under a name of its
    own, inside this tree's package for its relative imports)."""
    name = "conexoos.framework._before_write_buffer"
    spec = importlib.util.spec_from_file_location(name, src / "conexoos/framework/write_buffer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.FileQueue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--redis", default="")
    parser.add_argument(
        "--before-src", default="", help="another tree's src: its FileQueue measured beside this one's"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conexoos-bench-buffer-") as folder:
        candidates: dict[str, Callable[[dict[str, object]], None]] = {
            "file queue (fsync each)": FileQueue(Path(folder) / "queue", fsync=True).append,
            "file queue (no fsync: the default)": FileQueue(
                Path(folder) / "queue-nofsync", fsync=False
            ).append,
            "baseline: SQLite INSERT+COMMIT": sqlite_insert(Path(folder)),
        }
        if options.before_src:
            before = _file_queue_of(Path(options.before_src))
            candidates["before: file queue (fsync each)"] = before(Path(folder) / "before", fsync=True).append
            candidates["before: file queue (no fsync)"] = before(
                Path(folder) / "before-nofsync", fsync=False
            ).append
        stream = None
        if options.redis:
            key = f"bench:buffer:{uuid.uuid4().hex}"
            stream = RedisStreamQueue(redis.Redis.from_url(options.redis), key)
            candidates["redis stream (XADD)"] = stream.append
        results: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(ROUNDS):
            for name, append in candidates.items():
                results[name].append(rate(append, options.appends))
        if stream is not None:
            redis.Redis.from_url(options.redis).delete(stream.key)  # the benchmark's own key
    print(f"{options.appends} appends a round, {ROUNDS} alternating rounds, appends per second:")
    for name, rates in results.items():
        spread = f"(min {min(rates):.0f}, max {max(rates):.0f})"
        print(f"  {name:36} median {statistics.median(rates):8.0f}  {spread}")


if __name__ == "__main__":
    main()
