"""Cold start and memory of Conexoos against the bare Flask app (``bare_app.py``), without the throughput
rounds of ``public_page.py``.

Run: .venv/bin/python bench/cold_start.py [--backends sqlite,postgresql] [--spawns 5] [--warm-up 300]
                                          [--source-only] [--before /tmp/main/src]

For each backend it seeds one database for both apps (as ``public_page.py`` does), then spawns each app
``--spawns`` times in alternation (bare first, then Conexoos first, ...) under the same gunicorn command with
one worker (and, with ``--before DIR``, the product from another tree's ``src`` too: a before/after in
one run), and measures:

- the cold start: seconds from spawning gunicorn to the first 200 of the public page, and the CPU time
  the worker had used by then (steadier than the seconds on a machine shared with other work);
- the worker's resident memory (RSS) after ``--warm-up`` requests of the page and as many of ``/go/<id>``.

Both trees are byte-compiled first, as an installed package is (pip compiles at install; an editable
install run with PYTHONDONTWRITEBYTECODE=1 compiles every module at every start instead, which is not a
server's start). ``--source-only`` leaves the bytecode out and measures that case.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bare_app import seed as seed_bare  # noqa: E402
from bench.public_page import (  # noqa: E402
    APPS,
    BROWSER,
    HOST,
    LINKS,
    PORT_BASE,
    PRODUCT_SOURCE,
    PRODUCTS,
    USERNAME,
    Server,
    _environment,
    database,
    seed_product,
    start,
    stop,
    wait_ready,
    write_config,
)

DATABASE = (os.environ.get("BENCH_POSTGRES_DATABASE") or "conexoos_bench") + "_start"
"""The PostgreSQL database of this benchmark (not public_page.py's: both may run at once)."""

COLD_PORT = PORT_BASE + len(APPS)
"""The port of the spawned app: public_page.py's cold-start port (``BENCH_PORT_BASE`` + 3)."""


@dataclass
class Start:
    """One spawn of an app."""

    seconds: float
    cpu: float
    rss_mib: float


def warm_up(server: Server, paths: list[str], requests: int) -> None:
    """``requests`` GETs of each path on one kept-alive connection."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        for _ in range(requests):
            for path in paths:
                connection.request("GET", path, headers={"User-Agent": BROWSER})
                connection.getresponse().read()
    finally:
        connection.close()


def spawn(
    app: str, environment: dict[str, str], paths: list[str], args: argparse.Namespace, log: Path
) -> Start:
    """Start ``app`` with one worker; time its first 200, then warm it up and read its RSS."""
    spawned = time.monotonic()
    server = start(app, app, COLD_PORT, args, environment, log, workers=1)
    try:
        first = wait_ready(server, paths[0], log) - spawned
        cpu = server.cpu_seconds()  # the one worker's user and system time
        warm_up(server, paths, args.warm_up)
        return Start(first, cpu, max(server.rss_mib()))
    finally:
        stop(server)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, list[Start]]:
    """Both apps on ``backend``, spawned in alternation."""
    with tempfile.TemporaryDirectory() as name, database(backend, Path(name), DATABASE) as url:
        folder = Path(name)
        config = write_config(folder, url)
        product_link = seed_product(config)
        bare_link = seed_bare(url, USERNAME, LINKS, PRODUCTS)[0]
        log = folder / "servers.log"
        apps = {
            "bare": ("bench.bare_app:app", _environment(bare_url=url), f"/go/{bare_link}"),
            "conexoos": ("conexoos.framework.wsgi:app", _environment(config), f"/go/{product_link}"),
        }
        if args.before:  # the same product from another tree, e.g. `git archive main src`
            environment = {**_environment(config), "PYTHONPATH": f"{args.before}{os.pathsep}{REPO}"}
            apps["conexoos before"] = ("conexoos.framework.wsgi:app", environment, f"/go/{product_link}")
        starts: dict[str, list[Start]] = {name: [] for name in apps}
        for index in range(args.spawns):
            order = list(apps) if index % 2 == 0 else list(reversed(apps))  # alternating
            for app_name in order:
                app, environment, go = apps[app_name]
                starts[app_name].append(spawn(app, environment, [f"/{USERNAME}", go], args, log))
        return starts


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def report(backend: str, starts: dict[str, list[Start]]) -> None:
    """One row per app: median (min–max) of the spawns."""
    for name, runs in starts.items():
        print(
            f"| {backend} | {name} | {_median([run.seconds for run in runs])} s "
            f"| {_median([run.cpu for run in runs])} s | {_median([run.rss_mib for run in runs])} MiB |"
        )


def main() -> None:
    """Parse arguments, compile both trees, run each backend, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--spawns", type=int, default=5)
    parser.add_argument("--warm-up", type=int, default=300, help="requests of each path before the RSS")
    parser.add_argument("--source-only", action="store_true", help="no bytecode: compile at every start")
    parser.add_argument("--before", type=Path, help="another tree's src, spawned in alternation too")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not args.source_only:
        for tree in (PRODUCT_SOURCE, REPO / "bench", *([args.before] if args.before else [])):
            compileall.compile_dir(tree, quiet=1)
    print(f"bytecode: {'no' if args.source_only else 'yes'}")
    print("| backend | app | first 200 after spawn | worker CPU by then | RSS after warm-up |")
    print("|---|---|---|---|---|")
    for backend in args.backends.split(","):
        report(backend, run_backend(backend, args))


if __name__ == "__main__":
    main()
