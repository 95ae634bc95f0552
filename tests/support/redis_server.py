"""A Redis server of the test's own, on a free loopback port, that the test may stop, freeze and restart.

Never the shared Redis on 6379: a fault test breaks this one. By default nothing is saved to disk
(``--save ''``, ``--appendonly no``), so a restarted server starts empty, as a Redis that lost its memory
would; ``persistent=True`` keeps an AOF fsync'd at every write (``appendfsync always``), the setting the
README asks operators for when Redis holds the write buffer, so a restart (even after kill -9) keeps it.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time

import redis

from tests.framework.helpers import free_port, port_open
from tests.support import process_signals

START_TIMEOUT = 10.0


class RedisServer:
    """``redis-server`` in a child process: start(), stop(), freeze() (SIGSTOP), thaw() (SIGCONT)."""

    def __init__(
        self, port: int | None = None, host: str = "127.0.0.1", password: str = "", persistent: bool = False
    ) -> None:
        """``host``: the address it listens on; away from loopback Redis wants a ``password`` (or it
        refuses every client in its protected mode). ``persistent``: every write fsync'd to an
        append-only file, as an operator keeping the click buffer in Redis must configure it."""
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = port or free_port()
        self.host = host
        self.password = password
        self._folder = tempfile.mkdtemp(prefix="conexoos-redis-")
        self._process: subprocess.Popen[bytes] | None = None
        self._persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else []

    @property
    def url(self) -> str:
        """``redis://[:PASSWORD@]HOST:PORT/0``."""
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}{self.host}:{self.port}/0"

    @property
    def service(self) -> dict[str, object]:
        """The ``SERVICES.redis`` entry for this server."""
        return {"HOST": self.host, "PORT": self.port, "DB": 0, "PASSWORD": self.password}

    def start(self) -> RedisServer:
        """Start the server (again, on the same port) and wait until it accepts connections."""
        if self._process is not None:
            raise RuntimeError("this Redis server is already running")
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            + self._persistence
            + ["--dir", self._folder, "--daemonize", "no", "--loglevel", "warning"]
            + (["--requirepass", self.password] if self.password else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        """Whether the server answers a PING: an open port is not enough, since a restarted persistent
        server refuses every command while it loads its append-only file (BusyLoadingError), which a
        loaded machine made last long enough for a test's first command to meet."""
        if not port_open(self.port, self.host):
            return False
        client = redis.Redis(host=self.host, port=self.port, password=self.password or None, socket_timeout=2)
        try:
            return bool(client.ping())
        except redis.exceptions.BusyLoadingError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (a frozen one too); the port is free when this returns."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def kill(self) -> None:
        """SIGKILL: the server dies at once, saving nothing more (what survives is what its AOF holds)."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(5)

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog) but nothing answers."""
        process_signals.freeze(self._pid())

    def thaw(self) -> None:
        """SIGCONT: a frozen server answers again."""
        process_signals.thaw(self._pid())

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _pid(self) -> int:
        if self._process is None:
            raise RuntimeError("this Redis server is not running")
        return self._process.pid

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()
