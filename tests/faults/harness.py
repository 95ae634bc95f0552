"""The product served by the real ``conexoos serve`` in a child process, and a visitor that talks to it.

Fault tests break the servers underneath (their own PostgreSQL cluster and Redis, see tests/support) and
watch what this server answers and what it writes on stderr.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import requests

from tests.framework.helpers import REPO_ROOT, free_port

APP_KEY = "fault-test-key-" + "f" * 40
PASSWORD = "correct horse battery staple"
READY_TIMEOUT = 60.0
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FORM_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def product_config(folder: Path, port: int, database: dict[str, Any], **sections: Any) -> Path:
    """A PROD configuration of the product served on ``port``, written to ``folder/config.yml``."""
    server_env = {
        "ENV": "PROD",
        "APP_KEY": APP_KEY,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BIND": {"ADDRESS": "127.0.0.1", "PORT": port},
        "INSTANCE_PATH": str(folder / "instance"),
        "WORKERS": "gevent",
        **sections.pop("SERVER_ENV", {}),
    }
    # Served over plain HTTP: the client must get its session cookie back without TLS.
    flask = {"CONFIG": {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}}
    config = {"SERVER_ENV": server_env, "DATABASE": {"default": "main", "main": database}, "FLASK": flask}
    config.update(sections)
    path = folder / "config.yml"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is valid YAML
    return path


def conexoos(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``conexoos ARGS`` to its end; its exit status, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "conexoos", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=_environment(),
        check=False,
    )


class ServedProcess:
    """A ``conexoos serve`` child process writing to ``log_path``, answering ``/healthz`` at ``url``."""

    url: str
    log_path: Path
    process: subprocess.Popen[bytes]
    _log: IO[bytes]
    ready_timeout = READY_TIMEOUT

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until /healthz answers; fail with the server's output if it ends first."""
        limit = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"conexoos serve ended ({self.process.returncode}):\n{self.output()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError(f"conexoos serve did not answer within {limit:.0f} s:\n{self.output()}")

    def output(self) -> str:
        """What the server wrote so far (stdout and stderr)."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ServedProduct(ServedProcess):
    """``conexoos serve --config CONFIG --workers 1`` in a child process, its stderr kept in a file."""

    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = config.parent / f"serve-{port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "conexoos", "serve", "--config", str(config), "--workers", "1"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=_environment(),
        )

    def stop(self) -> None:
        """SIGINT, gunicorn's quick shutdown (the graceful one waits for tasks the faults may hold)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


class Visitor:
    """A browser-like client: cookies, forms with their CSRF token, the JSON API with the page's token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = BROWSER  # python-requests is a bot: its visits are not counted

    def get(self, path: str, timeout: float = 10.0) -> requests.Response:
        """GET ``path`` without following redirects."""
        return self.http.get(self.base_url + path, allow_redirects=False, timeout=timeout)

    def submit(self, path: str, fields: dict[str, str], timeout: float = 10.0) -> requests.Response:
        """GET the form at ``path``, then POST ``fields`` with its CSRF token (redirects not followed)."""
        page = self.get(path, timeout)
        match = FORM_TOKEN.search(page.text)
        assert match, f"GET {path} answered {page.status_code} without a form:\n{page.text[:500]}"
        data = {"csrf_token": match.group(1), **fields}
        return self.http.post(self.base_url + path, data=data, allow_redirects=False, timeout=timeout)

    def sign_up(self, username: str) -> None:
        """Create an account, then log in (sign-up itself does not: it must not tell a known address)."""
        fields = {"email": f"{username}@example.com", "username": username, "password": PASSWORD}
        response = self.submit("/signup", fields)
        assert response.status_code == 302, response.text[:500]
        logged_in = self.log_in(username)
        assert logged_in.status_code == 302, logged_in.text[:500]

    def log_in(self, username: str, timeout: float = 10.0) -> requests.Response:
        """POST the log-in form; the response (302 on success)."""
        return self.submit("/login", {"login": username, "password": PASSWORD}, timeout)

    def add_link(self, url: str = "https://example.org/") -> int:
        """Add a link through the JSON API; its id."""
        dashboard = self.get("/dashboard")
        match = META_TOKEN.search(dashboard.text)
        assert match, f"the dashboard answered {dashboard.status_code} without a CSRF token"
        response = self.http.post(
            self.base_url + "/api/add/link",
            json={"title": "Example", "url": url},
            headers={"X-CSRFToken": match.group(1)},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


def new_port() -> int:
    """A free loopback port."""
    return free_port()


def _environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CONEXOOS_")}
    environment.pop("CONFIG_FILE", None)
    environment["PYTHONPATH"] = str(REPO_ROOT / "src")
    return environment
