"""Slow and idle clients against ``conexoos serve`` with its defaults, next to the same load without them.

Run: .venv/bin/python bench/slow_clients.py [--seconds 30] [--rate 20] [--slow 200] [--sockets 200]
                                            [--workers 2] [--worker-class gevent]

It starts the real ``conexoos serve`` (the product, SQLite, loopback only) in a temporary folder, signs a
user up and gives her a link through the site itself, then measures, in the same run:
- baseline: GET /<username> and GET /go/<id>, alternating, at ``--rate`` requests per second (each on a
  new connection, as distinct visitors are) for ``--seconds``;
- under attack: the same load while ``--slow`` connections send a request head one byte every 2 s and
  ``--sockets`` WebSockets complete the Engine.IO handshake and then only answer pings, never joining a
  namespace. Attackers the server disconnects reconnect at once, so the pressure stays on.
and prints both side by side (p50/p90/p99/max latency, failures), with what the attackers went through.
Every loop is bounded by the phase's duration and by a cap on reconnections.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import selectors
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[1]
REQUEST_TIMEOUT = 5.0
SLOW_BYTE_INTERVAL = 2.0
MAX_RECONNECTIONS = 20_000
TARGET_P99 = 1.0
FORM_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- the server


def write_config(folder: Path, port: int, worker_class: str) -> Path:
    """The product on SQLite in ``folder``; rate limits off, since every visitor here is 127.0.0.1."""
    config = {
        "SERVER_ENV": {
            "APP_KEY": "slow-clients-bench-" + "b" * 40,
            "BIND": {"ADDRESS": HOST, "PORT": port},
            "WORKERS": worker_class,
            "INSTANCE_PATH": str(folder / "instance"),
            "LOG": {"DIR": "logs", "LEVEL": "WARNING", "ROTATE": "external"},
        },
        "DATABASE": {"default": "main", "main": {"driver": "sqlite", "database": "bench.db"}},
        "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": False}},
    }
    path = folder / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def start_server(config: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "conexoos", "serve", "--config", str(config), "--workers", str(workers)]
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"conexoos serve exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit(f"conexoos serve did not answer within 60 s:\n{log.read_text()}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def seed(base: str) -> tuple[str, int]:
    """Sign a user up and add one link, through the site; return the username and the link id."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"{base}/signup", timeout=10).read().decode()
    token = FORM_TOKEN.search(page)
    if token is None:
        raise SystemExit("the signup page has no csrf_token")
    form = {"csrf_token": token.group(1), "email": "maya@example.com", "username": "maya"}
    form["password"] = "slow-clients-bench-password"
    body = urllib.parse.urlencode(form).encode()
    opener.open(f"{base}/signup", data=body, timeout=10).read()  # "check your inbox": then log in
    login = FORM_TOKEN.search(opener.open(f"{base}/login", timeout=10).read().decode())
    if login is None:
        raise SystemExit("the login page has no csrf_token")
    credentials = {"csrf_token": login.group(1), "login": "maya", "password": form["password"]}
    body = urllib.parse.urlencode(credentials).encode()
    dashboard = opener.open(f"{base}/login", data=body, timeout=10).read().decode()
    meta = META_TOKEN.search(dashboard)
    if meta is None:
        raise SystemExit("logging in after signing up did not lead to the dashboard")
    request = urllib.request.Request(
        f"{base}/api/add/link",
        data=json.dumps({"title": "Shop", "url": "https://example.com/shop"}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": meta.group(1)},
    )
    link = json.loads(opener.open(request, timeout=10).read())
    return "maya", int(link["id"])


# ---------------------------------------------------------------- the measured load


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_request(port: int, path: str) -> tuple[float, str | None]:
    """GET ``path`` on a new connection: seconds taken and a failure description (None when fine)."""
    started = time.perf_counter()
    connection = socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT)
    try:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head:
            chunk = connection.recv(4096)
            if not chunk:
                return time.perf_counter() - started, f"{path}: closed without an answer"
            head += chunk
        status = int(head.split(b" ", 2)[1])
        while connection.recv(65536):
            pass
    except OSError as error:
        return time.perf_counter() - started, f"{path}: {type(error).__name__}"
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    return elapsed, None if status in (200, 302) else f"{path}: status {status}"


def run_load(port: int, paths: list[str], rate: float, seconds: float) -> LoadResult:
    """Open-loop load: request i starts at i / rate seconds, whatever happened to the ones before."""
    result = LoadResult()
    total = int(rate * seconds)
    lock = threading.Lock()

    def fire(index: int) -> None:
        try:
            elapsed, failure = one_request(port, paths[index % len(paths)])
        except OSError as error:
            elapsed, failure = REQUEST_TIMEOUT, f"connect: {type(error).__name__}"
        with lock:
            result.latencies.append(elapsed)
            if failure:
                result.failures.append(failure)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for index in range(total):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(fire, index)
            result.sent += 1
    return result


# ---------------------------------------------------------------- the attackers


@dataclass
class AttackStats:
    opened: int = 0
    cut_off: int = 0
    refused: int = 0
    pings_answered: int = 0
    open_now: int = 0
    peak_open: int = 0


class Attackers:
    """Slow request heads and idle WebSockets, multiplexed in one thread; stopped by ``stop()``."""

    def __init__(self, port: int, slow: int, sockets: int) -> None:
        self.port = port
        self.want = {"slow": slow, "socket": sockets}
        self.stats = {"slow": AttackStats(), "socket": AttackStats()}
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[socket.socket, bytearray] = {}
        self.kinds: dict[socket.socket, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attackers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        for connection in list(self.kinds):
            self._forget(connection)

    def _run(self) -> None:
        next_byte = time.monotonic() + SLOW_BYTE_INTERVAL
        while not self._stop.is_set():
            self._top_up()
            for key, _ in self.selector.select(timeout=0.2):
                self._readable(key.fileobj)  # type: ignore[arg-type]
            if time.monotonic() >= next_byte:
                self._trickle()
                next_byte = time.monotonic() + SLOW_BYTE_INTERVAL

    def _total_opened(self) -> int:
        return sum(stats.opened for stats in self.stats.values())

    def _top_up(self) -> None:
        for kind, wanted in self.want.items():
            stats = self.stats[kind]
            while stats.open_now < wanted and self._total_opened() < MAX_RECONNECTIONS:
                if self._stop.is_set() or not self._open(kind):
                    return

    def _open(self, kind: str) -> bool:
        try:
            connection = socket.create_connection((HOST, self.port), timeout=REQUEST_TIMEOUT)
            if kind == "slow":
                connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            else:
                self._websocket_handshake(connection)
        except OSError:
            self.stats[kind].refused += 1
            return False
        connection.setblocking(False)
        self.selector.register(connection, selectors.EVENT_READ)
        self.kinds[connection] = kind
        self.buffers[connection] = bytearray()
        stats = self.stats[kind]
        stats.opened += 1
        stats.open_now += 1
        stats.peak_open = max(stats.peak_open, stats.open_now)
        return True

    def _websocket_handshake(self, connection: socket.socket) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        connection.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {HOST}:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                raise ConnectionResetError("closed during the WebSocket handshake")
            answer += chunk
        if not answer.startswith(b"HTTP/1.1 101"):
            raise ConnectionRefusedError(answer.split(b"\r\n", 1)[0].decode(errors="replace"))

    def _trickle(self) -> None:
        for connection, kind in list(self.kinds.items()):
            if kind == "slow":
                try:
                    connection.send(b"a")
                except OSError:
                    self._lost(connection)

    def _readable(self, connection: socket.socket) -> None:
        try:
            data = connection.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost(connection)
            return
        if self.kinds[connection] == "socket":
            self.buffers[connection] += data
            self._answer_frames(connection)

    def _answer_frames(self, connection: socket.socket) -> None:
        buffer = self.buffers[connection]
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = struct.unpack(">H", buffer[2:4])[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = struct.unpack(">Q", buffer[2:10])[0], 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode == 0x8:
                self._lost(connection)
                return
            if opcode == 0x1 and payload == b"2":  # Engine.IO ping: the one thing these clients do
                self._send_frame(connection, b"3")
                self.stats["socket"].pings_answered += 1

    def _send_frame(self, connection: socket.socket, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        try:
            connection.send(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
        except OSError:
            self._lost(connection)

    def _lost(self, connection: socket.socket) -> None:
        kind = self.kinds.get(connection)
        if kind is None:
            return
        self.stats[kind].cut_off += 1
        self._forget(connection)

    def _forget(self, connection: socket.socket) -> None:
        kind = self.kinds.pop(connection, None)
        if kind is None:
            return
        self.stats[kind].open_now -= 1
        self.buffers.pop(connection, None)
        self.selector.unregister(connection)
        connection.close()


# ---------------------------------------------------------------- report


def row(name: str, baseline: str, attacked: str) -> str:
    return f"{name:<34}{baseline:>16}{attacked:>16}"


def milliseconds(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def report(
    arguments: argparse.Namespace, baseline: LoadResult, attacked: LoadResult, attack: Attackers
) -> bool:
    print()
    print(
        f"conexoos serve, worker class {arguments.worker_class}, {arguments.workers} worker(s); "
        f"{arguments.rate:g} req/s for {arguments.seconds:g} s per phase"
    )
    print(row("", "no attackers", "attackers"))
    print(row("requests sent", str(baseline.sent), str(attacked.sent)))
    print(row("failed (error, timeout, 5xx)", str(len(baseline.failures)), str(len(attacked.failures))))
    for label, share in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
        print(
            row(
                f"latency {label}",
                milliseconds(baseline.percentile(share)),
                milliseconds(attacked.percentile(share)),
            )
        )
    print(row("latency max", milliseconds(max(baseline.latencies)), milliseconds(max(attacked.latencies))))
    print(
        row(
            "latency mean",
            milliseconds(statistics.fmean(baseline.latencies)),
            milliseconds(statistics.fmean(attacked.latencies)),
        )
    )
    print()
    for kind, label in (
        ("slow", f"{arguments.slow} slow request heads"),
        ("socket", f"{arguments.sockets} idle WebSockets"),
    ):
        stats = attack.stats[kind]
        print(
            f"{label}: opened {stats.opened}, peak open together {stats.peak_open}, "
            f"disconnected by the server {stats.cut_off}, refused {stats.refused}"
            + (f", pings answered {stats.pings_answered}" if kind == "socket" else "")
        )
    failures = sorted(set(attacked.failures))[:5]
    if failures:
        print("first failures under attack:", "; ".join(failures))
    held = attacked.percentile(0.99) < TARGET_P99 and not attacked.failures
    verdict = "yes" if held else "NO"
    print(f"\np99 under attack {'<' if held else '>='} {TARGET_P99:g} s with no failures: {verdict}")
    return held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measured phase")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second of the measured load")
    parser.add_argument("--slow", type=int, default=200, help="connections sending a head byte by byte")
    parser.add_argument("--sockets", type=int, default=200, help="idle Engine.IO WebSockets")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gevent", help="SERVER_ENV.WORKERS (default: the default)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conexoos-slow-clients-") as folder:
        port = free_port()
        config = write_config(Path(folder), port, arguments.worker_class)
        process = start_server(config, port, arguments.workers, Path(folder) / "serve.log")
        try:
            username, link_id = seed(f"http://{HOST}:{port}")
            paths = [f"/{username}", f"/go/{link_id}"]
            run_load(port, paths, arguments.rate, 2)  # warm-up, not measured: templates, connections
            baseline = run_load(port, paths, arguments.rate, arguments.seconds)
            attack = Attackers(port, arguments.slow, arguments.sockets)
            attack.start()
            time.sleep(5)  # let every attacker connect before measuring
            attacked = run_load(port, paths, arguments.rate, arguments.seconds)
            attack.stop()
        finally:
            stop_server(process)
    return 0 if report(arguments, baseline, attacked, attack) else 1


if __name__ == "__main__":
    sys.exit(main())
