"""`conexoos run --port P` under DEV: absolute URLs name the port really served, not BIND.PORT; and
no Werkzeug console is served."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.green_server import new_port


def fetch_when_up(url: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_run_on_another_port_builds_urls_on_that_port(tmp_path: Path) -> None:
    port = new_port()
    command = Path(sys.executable).with_name("conexoos")
    environment = {**os.environ, "CONEXOOS_INSTANCE": str(tmp_path / "instance"), "PUBLIC_URL": ""}
    process = subprocess.Popen(
        [str(command), "run", "--port", str(port), "--no-reload"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        text = fetch_when_up(f"http://127.0.0.1:{port}/.well-known/security.txt")
        console = status_of(f"http://127.0.0.1:{port}/console")
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert f"Canonical: http://127.0.0.1:{port}/.well-known/security.txt\n" in text
    assert console == 404  # Werkzeug's console, which runs Python sent from a browser, is not served


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
