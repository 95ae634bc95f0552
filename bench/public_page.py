"""The public page and ``/go/<id>`` of Conexoos against a bare Flask 3 + SQLAlchemy 2 app (``bare_app.py``).

Run: .venv/bin/python bench/public_page.py [--backends sqlite,postgresql] [--rounds 5] [--seconds 5]
                                           [--workers 2] [--threads 4] [--worker-class gthread]
                                           [--concurrency 8] [--skip-cold]

For each backend it fills one database with the same data for the apps (one user with 8 links and 2
products), starts three under the same gunicorn command (workers, worker class, threads) on loopback
ports: the bare app, Conexoos with its page cache off (every view rendered) and Conexoos with it on (the
default). It warms them up, then runs ``--rounds`` alternating rounds (bare first, then the reverse
order, ...): in each, the public page and then ``/go/<id>`` for ``--seconds`` each, from
``--concurrency`` client connections kept alive (a browser's User-Agent, so every view and click is
recorded by every app). It counts answered requests and the CPU time the server's workers used meanwhile
(from /proc), and prints per request kind the ratio Conexoos / bare of throughput and of CPU per request,
with the cache off and on: median, min and max over the rounds. Then, for the bare app and Conexoos: the
cold start (process spawn to the first 200 of the public page, one worker, median of 3; not with
``--skip-cold``) and the resident memory (RSS) per worker after the rounds.

Rate limits and everything else stay at the product's defaults (UAT environment); the owner is never
logged in, so every request is an anonymous visitor's. ``BENCH_PORT_BASE`` (default 21001: four ports
from it) and ``BENCH_POSTGRES_DATABASE`` (default ``conexoos_bench``) let two runs share the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from bench.bare_app import seed as seed_bare  # noqa: E402

HOST = "127.0.0.1"
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE") or 21001)
"""The first of four loopback ports (``BENCH_PORT_BASE``): bare, Conexoos, Conexoos cached, cold starts."""
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE") or "conexoos_bench"
"""A database of the benchmark's own (made when missing), so that no test database is reset under a run
(``BENCH_POSTGRES_DATABASE`` names another, for two runs at once)."""
APPS = ("bare", "conexoos", "cached")
"""The bare app, Conexoos with its page cache off (every view rendered), and Conexoos with it on."""
USERNAME = "maya"
LINKS = 8
PRODUCTS = 2
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
TICKS = os.sysconf("SC_CLK_TCK")
WRK = shutil.which("wrk")


# ---------------------------------------------------------------- databases and data


@contextmanager
def database(backend: str, folder: Path, name: str = POSTGRES_DATABASE) -> Iterator[str]:
    """An empty database of ``backend``: a SQLite file in ``folder``, or the PostgreSQL database ``name``
    (``POSTGRES_DATABASE`` unless told; made when missing) with its public schema reset."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    server = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        query = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if connection.execute(query, {"name": name}).first() is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = f"{POSTGRES_SERVER}/{name}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def write_config(folder: Path, url: str, page_cache: bool = True) -> Path:
    """The product's configuration: UAT (as a server runs), this database, logs at WARNING, the page
    cache on (the default) or off."""
    config = {
        "SERVER_ENV": {
            "ENV": "UAT",
            "APP_KEY": "public-page-bench-" + "p" * 40,
            "PUBLIC_URL": "http://bench.invalid",
            "INSTANCE_PATH": str(folder / "instance"),
            "LOG": {"DIR": str(folder / "logs"), "LEVEL": "WARNING", "ROTATE": "external"},
        },
        "DATABASE": {"default": "main", "main": {"url": url}},
        "APP": {"PAGE_CACHE": {"ENABLED": page_cache}},
    }
    path = folder / ("config.json" if page_cache else "config-uncached.json")
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def seed_product(config: Path) -> int:
    """Create the product's tables and its user with links and products (in a child process, so this
    one stays free of the product's imports); return the first link's id."""
    script = f"""
from conexoos.app.controllers.accounts import create_account
from conexoos.app.controllers.blocks import page
from conexoos.app.models.persistent import Product, UserLink
from conexoos.framework import create_app, db
from conexoos.framework.database import create_schema
app = create_app(None, {str(config)!r})
create_schema(app, app.extensions["conexoos"].settings)
with app.app_context():
    user = create_account("maya@example.com", {USERNAME!r}, "quiet measured passphrase")
    user.display_name, user.bio = "Maya Bench", "Things I make and like."
    for index in range({LINKS}):
        link = UserLink(owner_id=user.id, title=f"Link {{index}}", url=f"https://example.com/{{index}}",
                        order_index=index)
        db.session.add(link)
        db.session.flush()
        page.append(user.id, "link", link_id=link.id)  # a row shows on the page through its block
        db.session.flush()
    for index in range({PRODUCTS}):
        product = Product(owner_id=user.id, title=f"Product {{index}}", description="A thing.",
                          price=1500, currency="EUR", buy_url="https://example.com/buy", order_index=index)
        db.session.add(product)
        db.session.flush()
        page.append(user.id, "product", product_id=product.id)
        db.session.flush()
    db.session.commit()
    print(min(link.id for link in UserLink.get_links_by_user_id(user.id)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_environment(config), check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"seeding the product failed:\n{done.stderr}")
    return int(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    """One gunicorn master and how to reach it."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        """The pids of the master's workers."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def cpu_seconds(self) -> float:
        """User and system CPU time of every worker so far."""
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / TICKS

    def rss_mib(self) -> list[float]:
        """Resident memory of each worker, in MiB."""
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes


PRODUCT_SOURCE = Path(os.environ.get("BENCH_PRODUCT_SRC") or REPO / "src")
"""Where the product is imported from: this tree's ``src``, or another tree's (``BENCH_PRODUCT_SRC``, e.g. a
``git archive main src`` for the figures before a change)."""


def _environment(config: Path | None = None, bare_url: str | None = None) -> dict[str, str]:
    environment = {**os.environ, "PYTHONPATH": f"{PRODUCT_SOURCE}{os.pathsep}{REPO}"}
    if config is not None:
        environment["CONFIG_FILE"] = str(config)
    if bare_url is not None:
        environment["BARE_DATABASE_URL"] = bare_url
    return environment


def gunicorn(
    app: str, port: int, args: argparse.Namespace, workers: int, environment: dict[str, str]
) -> list[str]:
    """The one gunicorn command both apps are served with."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--log-level",
        "warning",
        "--keep-alive",
        "30",
        "--worker-connections",
        "1000",
    ]


def start(
    name: str,
    app: str,
    port: int,
    args: argparse.Namespace,
    environment: dict[str, str],
    log: Path,
    workers: int | None = None,
) -> Server:
    """Spawn gunicorn serving ``app``; return once it has spawned."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            gunicorn(app, port, args, workers or args.workers, environment),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
    return Server(name, port, process)


def wait_ready(server: Server, path: str, log: Path, timeout: float = 60) -> float:
    """Poll ``path`` until it answers 200; the seconds since the server was spawned... as measured by the
    caller. Returns the monotonic time of the first 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited ({server.process.returncode}):\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection(HOST, server.port, timeout=2)
            connection.request("GET", path, headers={"User-Agent": BROWSER})
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.005)
    stop(server)
    raise SystemExit(f"{server.name} did not answer {path} within {timeout} s:\n{log.read_text()}")


def stop(server: Server) -> None:
    """SIGTERM the master's group (it stops its workers), SIGKILL if it lingers."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)


# ---------------------------------------------------------------- load


@dataclass
class Load:
    """What one load run got back."""

    done: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / max(1, self.done)


def load(server: Server, path: str, expected: int, seconds: float, concurrency: int) -> Load:
    """GET ``path`` on ``concurrency`` kept-alive connections for ``seconds``: by wrk when it is installed
    (``apt-get install wrk``: a client in C leaves the 2 cores to the servers), else from Python threads."""
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    result = (
        _wrk(server, path, seconds, concurrency)
        if WRK
        else _threads(server, path, expected, seconds, concurrency)
    )
    result.seconds, result.cpu = time.monotonic() - started, server.cpu_seconds() - cpu_before
    return result


def _wrk(server: Server, path: str, seconds: float, concurrency: int) -> Load:
    """One wrk run; every answer but a 2xx or 3xx (and every socket error) is a failure."""
    done = subprocess.run(
        [
            WRK,
            "-t",
            "1",
            "-c",
            str(concurrency),
            "-d",
            f"{max(1, round(seconds))}s",
            "-H",
            f"User-Agent: {BROWSER}",
            f"http://{HOST}:{server.port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = Load()
    total = int(re.search(r"(\d+) requests in", done).group(1))  # type: ignore[union-attr]
    for label, pattern in (
        ("non-2xx/3xx", r"Non-2xx or 3xx responses: (\d+)"),
        ("socket", r"Socket errors: (.*)"),
    ):
        found = re.search(pattern, done)
        if found:
            result.failures[label] = sum(int(n) for n in re.findall(r"\d+", found.group(1)))
    result.done = total - result.failures.get("non-2xx/3xx", 0)
    return result


def _threads(server: Server, path: str, expected: int, seconds: float, concurrency: int) -> Load:
    """GET ``path`` from ``concurrency`` Python threads on kept-alive connections for ``seconds``."""
    result = Load()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        done, failures = 0, {}
        while time.monotonic() < stop_at:
            try:
                connection.request("GET", path, headers={"User-Agent": BROWSER})
                response = connection.getresponse()
                response.read()
                if response.status == expected:
                    done += 1
                else:
                    failures[str(response.status)] = failures.get(str(response.status), 0) + 1
            except (OSError, http.client.HTTPException) as error:
                failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        connection.close()
        with lock:
            result.done += done
            for key, count in failures.items():
                result.failures[key] = result.failures.get(key, 0) + count

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


# ---------------------------------------------------------------- cold start


def cold_start(
    name: str, app: str, args: argparse.Namespace, environment: dict[str, str], log: Path
) -> float:
    """Seconds from spawning gunicorn with one worker to the first 200 of the public page."""
    spawned = time.monotonic()
    server = start(name, app, PORT_BASE + len(APPS), args, environment, log, workers=1)
    try:
        return wait_ready(server, f"/{USERNAME}", log) - spawned
    finally:
        stop(server)


# ---------------------------------------------------------------- one backend


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, object]:
    """Both apps on ``backend``: the alternating rounds, cold starts and memory."""
    with tempfile.TemporaryDirectory() as name, database(backend, Path(name)) as url:
        folder = Path(name)
        config, uncached = write_config(folder, url), write_config(folder, url, page_cache=False)
        product_link = seed_product(config)
        bare_link = seed_bare(url, USERNAME, LINKS, PRODUCTS)[0]
        log = folder / "servers.log"
        product = "conexoos.framework.wsgi:app"
        apps = {
            "bare": ("bench.bare_app:app", _environment(bare_url=url), f"/go/{bare_link}"),
            "conexoos": (product, _environment(uncached), f"/go/{product_link}"),
            "cached": (product, _environment(config), f"/go/{product_link}"),
        }
        servers = {
            name: start(name, app, PORT_BASE + index, args, environment, log)
            for index, (name, (app, environment, _go)) in enumerate(apps.items())
        }
        try:
            for server in servers.values():
                wait_ready(server, f"/{USERNAME}", log)
                check_page_shows_everything(server)
                load(server, f"/{USERNAME}", 200, 1.0, args.concurrency)  # warm every worker
                load(server, apps[server.name][2], 302, 1.0, args.concurrency)
            rounds: list[dict[str, dict[str, Load]]] = []
            for index in range(args.rounds):
                order = APPS if index % 2 == 0 else tuple(reversed(APPS))
                measured: dict[str, dict[str, Load]] = {}
                for app_name in order:
                    server = servers[app_name]
                    measured[app_name] = {
                        "page": load(server, f"/{USERNAME}", 200, args.seconds, args.concurrency),
                        "go": load(server, apps[app_name][2], 302, args.seconds, args.concurrency),
                    }
                rounds.append(measured)
                _print_round(backend, index, measured)
            memory = {name: server.rss_mib() for name, server in servers.items()}
        finally:
            for server in servers.values():
                stop(server)
        cold = {
            name: statistics.median(cold_start(name, app, args, environment, log) for _ in range(3))
            for name, (app, environment, _go) in apps.items()
            if name != "cached" and not args.skip_cold  # the cache changes nothing before the first page
        }
        return {"backend": backend, "rounds": rounds, "memory": memory, "cold": cold}


def check_page_shows_everything(server: Server) -> None:
    """Stop unless the app's page shows every seeded link and product: the apps must do the same work."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", f"/{USERNAME}")
        html = connection.getresponse().read().decode()
    finally:
        connection.close()
    missing = [
        title
        for title in [
            *(f"Link {index}" for index in range(LINKS)),
            *(f"Product {i}" for i in range(PRODUCTS)),
        ]
        if title not in html
    ]
    if missing:
        raise SystemExit(
            f"{server.name}'s page lacks {', '.join(missing)}: the apps would not do the same work"
        )


def _print_round(backend: str, index: int, measured: dict[str, dict[str, Load]]) -> None:
    parts = []
    for app_name, kinds in measured.items():
        for kind, result in kinds.items():
            failed = f" failures {result.failures}" if result.failures else ""
            parts.append(f"{app_name} {kind} {result.rate:.0f}/s {result.cpu_ms:.2f} ms CPU{failed}")
    print(f"{backend} round {index + 1}: " + "; ".join(parts), flush=True)


# ---------------------------------------------------------------- report


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}× ({min(values):.2f}–{max(values):.2f})"


def report(results: list[dict[str, object]]) -> None:
    """The ratio table, then cold start and memory."""
    print(
        "\n| request | backend | Conexoos page cache | bare req/s | Conexoos req/s "
        "| throughput Conexoos/bare | CPU per request Conexoos/bare |"
    )
    print("|---|---|---|---|---|---|---|")
    for result in results:
        rounds: list[dict[str, dict[str, Load]]] = result["rounds"]  # type: ignore[assignment]
        for kind, label in (("page", "public page"), ("go", "`/go/<id>`")):
            bare = [r["bare"][kind] for r in rounds]
            for name, cache in (("conexoos", "off"), ("cached", "on")):
                product = [r[name][kind] for r in rounds]
                throughput = [p.rate / b.rate for p, b in zip(product, bare, strict=True)]
                cpu = [p.cpu_ms / b.cpu_ms for p, b in zip(product, bare, strict=True)]
                print(
                    f"| {label} | {result['backend']} | {cache} "
                    f"| {statistics.median(b.rate for b in bare):.0f} "
                    f"| {statistics.median(p.rate for p in product):.0f} "
                    f"| {_spread(throughput)} | {_spread(cpu)} |"
                )
    print("\n| backend | app | cold start to first 200 | RSS per worker after the rounds |")
    print("|---|---|---|---|")
    for result in results:
        cold: dict[str, float] = result["cold"]  # type: ignore[assignment]
        memory: dict[str, list[float]] = result["memory"]  # type: ignore[assignment]
        for name in ("bare", "conexoos"):
            sizes = ", ".join(f"{size:.0f}" for size in memory[name])
            started = f"{cold[name]:.2f} s" if name in cold else "not measured"
            print(f"| {result['backend']} | {name} | {started} | {sizes} MiB |")


def main() -> None:
    """Parse arguments, run each backend, print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each load run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--skip-cold", action="store_true", help="measure no cold starts")
    args = parser.parse_args()
    report([run_backend(backend, args) for backend in args.backends.split(",")])


if __name__ == "__main__":
    main()
