"""How far one ``conexoos serve`` worker goes: requests per second, and per second of CPU (per core).

Run: .venv/bin/python bench/one_instance.py [--seconds 15] [--connections 8] [--database URL]

It starts the real ``conexoos serve`` (the product, one gevent worker, SQLite unless ``--database`` names a
SQLAlchemy URL of an empty database) on 127.0.0.1:25400, signs a user up and gives her a link through the
site, then loads GET /<username> and GET /go/<id> in turn with wrk (keep-alive connections, one thread)
and prints, for each, the throughput and the requests per CPU-second the server's processes used: on a
machine shared with other work the second figure is the steadier one, and it is "requests/s per core".
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

PORT = 25400
URL = f"http://127.0.0.1:{PORT}"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TICKS = 100  # clock ticks per second of /proc/<pid>/stat (USER_HZ on Linux)


def write_config(folder: Path, database: str | None) -> Path:
    """A PROD configuration on PORT; SQLite in the folder unless ``database`` is given."""
    main = {"url": database} if database else {"driver": "sqlite", "database": "bench.db"}
    config = {
        "SERVER_ENV": {
            "ENV": "PROD",
            "APP_KEY": "bench-one-instance-" + "k" * 40,
            "PUBLIC_URL": URL,
            "BIND": {"ADDRESS": "127.0.0.1", "PORT": PORT},
            "INSTANCE_PATH": str(folder / "instance"),
            "LOG": {"LEVEL": "WARNING"},
        },
        "DATABASE": {"default": "main", "main": main},
        "FLASK": {
            "CONFIG": {
                "SESSION_COOKIE_SECURE": False,
                "REMEMBER_COOKIE_SECURE": False,
                "RATELIMIT_ENABLED": False,
            }
        },
    }
    path = folder / "config.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def start_server(config: Path) -> subprocess.Popen[bytes]:
    """``conexoos serve --workers 1``; returns once /healthz answers."""
    command = [sys.executable, "-m", "conexoos", "serve", "--config", str(config), "--workers", "1"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if requests.get(f"{URL}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("conexoos serve did not answer within 60 s")


def creator_with_link() -> tuple[str, int]:
    """Sign ``bench`` up, log in and add a link through the site; her username and the link's id."""
    browser = requests.Session()
    browser.headers["User-Agent"] = BROWSER
    fields = {"email": "bench@example.com", "username": "bench", "password": "correct horse battery staple"}
    for path, data in (("/signup", fields), ("/login", {"login": "bench", "password": fields["password"]})):
        token = TOKEN.search(browser.get(URL + path).text)
        assert token, f"{path} has no form"
        answer = browser.post(URL + path, data={"csrf_token": token.group(1), **data}, allow_redirects=False)
        assert answer.status_code == 302, (path, answer.status_code)
    meta = META_TOKEN.search(browser.get(URL + "/dashboard").text)
    assert meta, "the dashboard has no CSRF token"
    link = browser.post(
        URL + "/api/add/link",
        json={"title": "Bench", "url": "https://example.org/"},
        headers={"X-CSRFToken": meta.group(1)},
    )
    assert link.status_code == 201, link.text
    return "bench", int(link.json()["id"])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` and its children (the gunicorn master and its worker)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended in between
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def load(path: str, seconds: int, connections: int, pid: int) -> tuple[float, float]:
    """wrk on ``path``; its requests per second and requests per server CPU-second."""
    before = cpu_seconds(pid)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"User-Agent: {BROWSER}", URL + path]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        print(f"  {path}: {non_2xx.group(1)} answers were not 2xx/3xx")
    return rate, total / used if used else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database", help="SQLAlchemy URL of an empty database (default: SQLite)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(write_config(Path(folder), options.database))
        try:
            username, link = creator_with_link()
            print(f"{'request':<16} {'requests/s':>11} {'per CPU-second':>15}")
            for name, path in (("public page", f"/{username}"), ("/go/<id>", f"/go/{link}")):
                rate, per_cpu = load(path, options.seconds, options.connections, server.pid)
                print(f"{name:<16} {rate:>11.0f} {per_cpu:>15.0f}")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)


if __name__ == "__main__":
    main()
