"""``conexoos serve`` on an app host (a network namespace), with deploy/multihost/app-host.yml.

Each host's configuration is that file, as an operator copies it, plus what a test needs on top (plain
HTTP cookies, no rate limits, the scheduler's DEBUG lines); its environment says what differs per host.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conexoos.framework.config import deep_merge
from tests.faults.harness import ServedProcess
from tests.framework.helpers import REPO_ROOT

from .network import Host

HOST_CONFIG = REPO_ROOT / "deploy" / "multihost" / "app-host.yml"
TEST_SETTINGS: dict[str, Any] = {
    # Served over plain HTTP: the client must get its session cookie back without TLS.
    "FLASK": {
        "CONFIG": {
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False,
        }
    },
    # DEBUG: the scheduler's "runs slot" lines, which the test compares between the hosts.
    "SERVER_ENV": {"LOG": {"LEVEL": "DEBUG"}, "SOCKETIO_JOIN_TIMEOUT": 120},
}
READY_TIMEOUT = 90.0
SLOT_LINE = "scheduled task {task} runs slot"


def write_host_config(folder: Path) -> Path:
    """deploy/multihost/app-host.yml with TEST_SETTINGS merged in, written to ``folder/config.yml``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = deep_merge(yaml.safe_load(HOST_CONFIG.read_text(encoding="utf-8")), TEST_SETTINGS)
    path = folder / "config.yml"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is valid YAML
    return path


class AppHost(ServedProcess):
    """``conexoos serve --workers 1`` inside ``host``'s namespace, in a process group of its own."""

    ready_timeout = READY_TIMEOUT

    def __init__(self, host: Host, config: Path, environment: dict[str, str], port: int) -> None:
        self.host = host
        self.port = port
        self.url = f"http://{host.address}:{port}"
        self.environment = {**environment, "BIND_ADDRESS": host.address, "BIND_PORT": str(port)}
        self.log_path = config.parent / "serve.log"
        self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "conexoos", "serve", "--config", str(config), "--workers", "1"]
        # `ip netns exec` enters the namespace and execs the command: the pid is that of conexoos serve
        # (then of the gunicorn master it execs), the group's id too.
        self.process = subprocess.Popen(
            host.command(*command),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
            env=host_environment(self.environment),
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers), as a host that loses its power."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGINT (gunicorn's quick shutdown), then SIGKILL for anything of the group left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed below
                self.process.wait(30)
        with contextlib.suppress(ProcessLookupError):  # the whole group has ended
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(10)
        self._log.close()


def run_on(host: Host, environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``conexoos ARGS`` inside ``host``'s namespace, to its end."""
    return subprocess.run(
        host.command(sys.executable, "-m", "conexoos", *args),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
        env=host_environment({**environment, "BIND_ADDRESS": host.address}),
        check=False,
    )


def host_environment(variables: dict[str, str]) -> dict[str, str]:
    """This process's environment without the test's CONEXOOS_* switches, plus ``variables``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CONEXOOS_")}
    environment.pop("CONFIG_FILE", None)
    environment["PYTHONPATH"] = str(REPO_ROOT / "src")
    return {**environment, **variables}
