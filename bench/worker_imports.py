"""What one worker process imports and keeps: the product imported as gunicorn imports it, then the public
page and ``/go/<id>`` served through WSGI (no server, no test client), in a fresh interpreter per run.

Run: .venv/bin/python bench/worker_imports.py [--runs 3] [--requests 300] [--before /tmp/main/src]

For each run (and, with ``--before DIR``, the product from another tree's ``src`` in alternation) it
prints the CPU seconds of the import, of the first page and of the first ``/go``, the RSS after the import
and after ``--requests`` more of each, and the number of modules imported. SQLite only; both trees are
byte-compiled first, as in ``cold_start.py``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.public_page import BROWSER, PRODUCT_SOURCE, USERNAME, _environment, seed_product, write_config  # noqa: E402

WORKER = """
import io, sys, time
def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))
started = time.process_time()
from conexoos.framework.wsgi import app
imported, imported_rss, modules = time.process_time(), rss(), len(sys.modules)
def get(path):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_USER_AGENT": sys.argv[3], "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
               "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": True,
               "wsgi.multiprocess": False, "wsgi.run_once": False}
    statuses = []
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    if statuses[0][:3] not in ("200", "302"):
        raise SystemExit(f"{path}: {statuses[0]}")
page, go = "/" + sys.argv[1], "/go/" + sys.argv[2]
get(page)
first_page = time.process_time()
get(go)
first_go = time.process_time()
for _ in range(int(sys.argv[4])):
    get(page)
    get(go)
print(f"{imported - started:.2f} {first_page - imported:.3f} {first_go - first_page:.3f} "
      f"{imported_rss:.1f} {rss():.1f} {modules}")
"""


def run(source: Path, config: Path, link: int, requests: int) -> list[str]:
    """One fresh interpreter's figures."""
    environment = {**_environment(config), "PYTHONPATH": f"{source}{os.pathsep}{REPO}"}
    arguments = [USERNAME, str(link), BROWSER, str(requests)]
    done = subprocess.run(
        [sys.executable, "-c", WORKER, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the worker failed:\n{done.stderr}")
    return done.stdout.split()


def main() -> None:
    """Seed SQLite, then run each tree ``--runs`` times in alternation and print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="page views and clicks before the last RSS")
    parser.add_argument("--before", type=Path, help="another tree's src, run in alternation")
    args = parser.parse_args()
    trees = {"Conexoos": PRODUCT_SOURCE, **({"Conexoos before": args.before} if args.before else {})}
    for tree in trees.values():
        compileall.compile_dir(tree, quiet=1)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config = write_config(folder, f"sqlite:///{folder / 'bench.db'}")
        link = seed_product(config)
        columns = ("import CPU", "first page CPU", "first /go CPU", "RSS after import", "RSS after warm-up")
        print(f"| tree | {' | '.join(columns)} | modules |")
        print("|---|---|---|---|---|---|---|")
        for index in range(args.runs):
            order = list(trees) if index % 2 == 0 else list(reversed(trees))
            for tree in order:
                figures = run(trees[tree], config, link, args.requests)
                print(
                    f"| {tree} | {figures[0]} s | {figures[1]} s | {figures[2]} s | {figures[3]} MiB "
                    f"| {figures[4]} MiB | {figures[5]} |"
                )


if __name__ == "__main__":
    main()
