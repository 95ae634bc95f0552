"""A Redis server of the test's own, on a free port, that the test may stop, restart, freeze and thaw.

Never the shared Redis on 6379: a fault test breaks this one only. ``redis-server`` is Debian's
(``apt-get install redis-server``); without it the test is skipped (failed under CONEXOOS_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

from tests.support.services import REQUIRE_SERVICES

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """``redis-server --port <free> --save '' --appendonly no``: start(), stop(), freeze(), thaw()."""

    def __init__(self, port: int | None = None) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            reason = "redis-server is not installed (apt-get install redis-server)"
            if REQUIRE_SERVICES:
                pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
            pytest.skip(reason)
        self._executable = executable
        self.port = port or _free_port()
        self._folder = Path(tempfile.gettempdir()) / f"conexoos-redis-{self.port}-{os.getpid()}"
        self._process: subprocess.Popen[bytes] | None = None
        self._frozen = False

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def service(self) -> dict[str, object]:
        """The ``SERVICES.redis`` entry of a configuration using this server."""
        return {"HOST": "127.0.0.1", "PORT": self.port, "DB": 0}

    def start(self) -> None:
        """Start (or restart) the server on the same port, empty, and wait until it answers PING."""
        if self._process is not None and self._process.poll() is None:
            return
        self._folder.mkdir(exist_ok=True)
        arguments = [self._executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--appendonly", "no", "--dir", str(self._folder), "--logfile", ""]
        self._process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._frozen = False
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (thawing it first if frozen) and remove its folder; start() may follow."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            if self._frozen:
                process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._frozen = False
        shutil.rmtree(self._folder, ignore_errors=True)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but nothing answers (a hung server)."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGSTOP)
            self._frozen = True

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        if self._process is not None and self._frozen:
            os.kill(self._process.pid, signal.SIGCONT)
            self._frozen = False

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False
