"""A memcached of the test's own on a free loopback port (never the shared one on 11211)."""

from __future__ import annotations

import shutil
import subprocess

from tests.framework.helpers import free_port, port_open, wait_until

START_TIMEOUT = 10.0


class MemcachedServer:
    """``memcached`` in a child process: start(), stop()."""

    def __init__(self) -> None:
        if shutil.which("memcached") is None:
            raise RuntimeError("memcached is not installed (apt-get install memcached)")
        self.host = "127.0.0.1"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def service(self) -> dict[str, object]:
        """The ``SERVICES.memcached`` entry for this server."""
        return {"HOST": self.host, "PORT": self.port}

    def start(self) -> MemcachedServer:
        """Start it and wait until it accepts connections."""
        command = ["memcached", "-l", self.host, "-p", str(self.port), "-U", "0", "-m", "16"]
        self._process = subprocess.Popen(command + ["-u", "root"], stderr=subprocess.DEVNULL)
        if not wait_until(lambda: port_open(self.port), START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"memcached did not start on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop it; the port is free when this returns."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(5)

    def close(self) -> None:
        """As :meth:`RedisServer.close`: stop it (memcached keeps no folder to remove)."""
        self.stop()
