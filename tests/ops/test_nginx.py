"""deploy/nginx/conexoos.conf, rendered and run by Debian's nginx in front of a real ``conexoos serve``.

nginx runs in the foreground from a temporary prefix on a free port; the client connects from
127.0.0.2 (still loopback) so that the address the app sees can be told apart from nginx's own.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import simple_websocket

from tests.framework.helpers import port_open, wait_until
from tests.framework.test_cli import server
from tests.support.green_server import new_port, serve_args, write_green_project
from tests.support.services import REQUIRE_SERVICES
from tests.support.websocket import WebSocketClient

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "nginx" / "conexoos.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT_ADDRESS = "127.0.0.2"
PUBLIC_URL = "https://links.example.org"

MAIN_CONFIG = """
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    include {prefix}/conexoos.conf;
}}
"""


def render(template: str, listen: int, upstream: int, cache: Path) -> str:
    """The deploy template with its placeholders filled in, as an operator would."""
    rendered = (
        template.replace("@LISTEN@", f"127.0.0.1:{listen}")
        .replace("@SERVER_NAME@", "links.example.org")
        .replace("@UPSTREAM@", f"127.0.0.1:{upstream}")
        .replace("@CACHE_PATH@", str(cache))
    )
    assert "@" not in rendered.replace("$", ""), "a placeholder was left"
    return rendered


@contextlib.contextmanager
def running_nginx(prefix: Path, listen: int, upstream: int) -> Iterator[Path]:
    """nginx in the foreground with the rendered template; stopped (SIGQUIT, then SIGKILL) after."""
    with running_nginx_site(prefix, listen, render(TEMPLATE.read_text(), listen, upstream, prefix / "cache")):
        yield prefix


@contextlib.contextmanager
def running_nginx_site(prefix: Path, listen: int, site: str) -> Iterator[Path]:
    """nginx in the foreground with ``site`` (a rendered server configuration) in its ``http`` block,
    answering on 127.0.0.1:``listen``; stopped (SIGQUIT, then SIGKILL) after."""
    if not os.path.exists(NGINX):
        if REQUIRE_SERVICES:
            pytest.fail("nginx is not installed (scripts/test installs it with apt-get)")
        pytest.skip("nginx is not installed")
    prefix.mkdir(parents=True)
    (prefix / "conexoos.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(MAIN_CONFIG.format(prefix=prefix, user=user))
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: port_open(listen), 10), (prefix / "error.log").read_text()
        yield prefix
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(10)


def get_via(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    status, _headers, body = fetch_via(port, path, headers)
    return status, body.decode()


def fetch_via(port: int, path: str, headers: dict[str, str]) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Status, headers and raw body of a GET from the client address."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(CLIENT_ADDRESS, 0))
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_nginx_passes_pages_websockets_and_the_real_client_address(tmp_path: Path) -> None:
    app_port, nginx_port = new_port(), new_port()
    project = write_green_project(
        tmp_path / "green",
        app_port,
        {
            "TRUSTED_PROXIES": "127.0.0.1",
            "PUBLIC_URL": PUBLIC_URL,
            # Not what this test is about: a loaded machine may take longer than the default 5 s between
            # the socket's opening and its namespace join.
            "SOCKETIO_JOIN_TIMEOUT": 120,
        },
    )
    with (
        server(serve_args(project, app_port), tmp_path, f"http://127.0.0.1:{app_port}/healthz"),
        running_nginx(tmp_path / "nginx", nginx_port, app_port),
    ):
        assert get_via(nginx_port, "/", {}) == (200, "home")
        spoofed = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
        status, body = get_via(nginx_port, "/whoami", spoofed)
        seen = json.loads(body)
        assert status == 200
        assert seen["remote_addr"] == CLIENT_ADDRESS  # not nginx's 127.0.0.1, not the spoofed 6.6.6.6
        assert seen["scheme"] == "http"  # what nginx saw, not what the client claimed
        assert seen["page_url"] == f"{PUBLIC_URL}/"
        # Straight to the app, the same spoofed headers are ignored: the client is not a proxy.
        direct = json.loads(get_via(app_port, "/whoami", spoofed)[1])
        assert direct["remote_addr"] == CLIENT_ADDRESS and direct["scheme"] == "http"
        assert_websocket_works(f"ws://127.0.0.1:{nginx_port}/socket.io/?EIO=4&transport=websocket")


def assert_websocket_works(url: str) -> None:
    client = WebSocketClient.connect(url)
    try:
        assert str(client.receive(timeout=15)).startswith("0{")
        client.send("40")
        assert str(client.receive(timeout=15)).startswith("40")
        client.send('420["echo","through nginx"]')
        assert client.receive(timeout=15) == '430["through nginx"]'
    finally:
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            client.close()


def test_nginx_keeps_hashed_static_files_with_the_apps_headers(tmp_path: Path) -> None:
    app_port, nginx_port = new_port(), new_port()
    project = write_green_project(tmp_path / "green", app_port, {"TRUSTED_PROXIES": "127.0.0.1"})
    stylesheet = "".join(f".rule-{n} {{ margin: {n}px; }}\n" for n in range(200))
    (project / "static" / "css").mkdir(parents=True)
    (project / "static" / "css" / "site.css").write_text(stylesheet, encoding="utf-8")
    hashed = f"/static/css/site.{hashlib.sha256(stylesheet.encode()).hexdigest()[:12]}.css"
    gzip_only = {"Accept-Encoding": "gzip"}
    with (
        server(serve_args(project, app_port), tmp_path, f"http://127.0.0.1:{app_port}/healthz"),
        running_nginx(tmp_path / "nginx", nginx_port, app_port),
    ):
        _status, direct, direct_body = fetch_via(app_port, hashed, gzip_only)
        first = fetch_via(nginx_port, hashed, gzip_only)
        second = fetch_via(nginx_port, hashed, gzip_only)
        for status, headers, body in (first, second):
            assert status == 200 and gzip.decompress(body).decode() == stylesheet
            assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
            for name in ("Content-Encoding", "ETag", "Vary", "Content-Type"):
                assert headers[name] == direct[name], name
            assert "Set-Cookie" not in headers
        assert body == direct_body
        assert (first[1]["X-Cache-Status"], second[1]["X-Cache-Status"]) == ("MISS", "HIT")
        _status, brotli_headers, _body = fetch_via(nginx_port, hashed, {"Accept-Encoding": "br"})
        assert brotli_headers["Content-Encoding"] == "br"  # not the cached gzip body
        _status, plain_headers, _body = fetch_via(nginx_port, hashed, {})
        assert "Content-Encoding" not in plain_headers
        for path in ("/static/css/site.css", "/static/css/site.0123456789ab.css"):  # plain, and a stale hash
            status, headers, _body = fetch_via(nginx_port, path, gzip_only)
            assert status == 200 and headers["Cache-Control"] == "public, max-age=300", path
