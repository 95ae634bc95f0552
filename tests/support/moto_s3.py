"""An S3-compatible server of the tests' own: moto's standalone server in its own process, on a free port.

Skipped with the reason when it cannot start; with ``CONEXOOS_REQUIRE_SERVICES=1`` that fails instead.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, NoReturn

import pytest

from tests.framework.helpers import free_port, wait_until
from tests.support import process_signals
from tests.support.services import REQUIRE_SERVICES, is_listening

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class S3Server:
    """Where the test S3 server answers, and the keys it accepts (moto takes any)."""

    endpoint: str
    pid: int = 0
    """The server's process, for :meth:`freeze` and :meth:`thaw`."""

    def freeze(self) -> None:
        """SIGSTOP the server: connections are accepted by the kernel, nothing answers."""
        process_signals.freeze(self.pid)

    def thaw(self) -> None:
        """SIGCONT what :meth:`freeze` stopped."""
        process_signals.thaw(self.pid)

    def settings(self, bucket: str, prefix: str = "") -> dict[str, Any]:
        """A ``SERVICES.s3`` entry for ``bucket`` on this server."""
        return {
            "ENDPOINT_URL": self.endpoint,
            "BUCKET": bucket,
            "REGION": "us-east-1",
            "ACCESS_KEY_ID": "test-access",
            "SECRET_ACCESS_KEY": "test-secret",
            "PREFIX": prefix,
            "ADDRESSING_STYLE": "path",
        }

    def new_bucket(self) -> str:
        """Create an empty bucket of a unique name; return the name."""
        from conexoos.framework.storage.s3 import make_client

        name = f"media-{uuid.uuid4().hex[:12]}"
        make_client(self.settings(name)).create_bucket(Bucket=name)
        return name


@contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """Start ``python -m moto.server`` on a free port; stop it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    # Its request log goes to a file: a pipe nobody reads would fill up and stop the server.
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        except OSError as error:
            _unavailable(f"moto's S3 server cannot start: {error}")
        try:
            _wait_for(process, port, log)
            yield S3Server(f"http://127.0.0.1:{port}", process.pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a frozen server would not act on SIGTERM
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    def ready() -> bool:
        return process.poll() is not None or is_listening("127.0.0.1", port)

    if not wait_until(ready, START_TIMEOUT):
        _unavailable(f"moto's S3 server did not listen on port {port} within {START_TIMEOUT:.0f} s")
    if process.poll() is not None:
        log.seek(0)
        detail = log.read().decode(errors="replace")[-500:]
        _unavailable(f"moto's S3 server exited with status {process.returncode}: {detail}")


def _unavailable(reason: str) -> NoReturn:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
    pytest.skip(reason)
