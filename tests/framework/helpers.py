"""Helpers for the framework tests: sample projects on disk, free ports, and child processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (relative path → dedented text) under ``root`` and return ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def write_project(root: Path, files: Mapping[str, str]) -> Path:
    """Write a project; every folder holding a ``.py`` file gets an ``__init__.py`` unless given one."""
    write_files(root, files)
    for relative in files:
        if not relative.endswith(".py"):
            continue
        folder = (root / relative).parent
        while folder != root:
            (folder / "__init__.py").touch(exist_ok=True)
            folder = folder.parent
    return root


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds have passed; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host``:``port`` (default 127.0.0.1)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def python_process(script: Path, *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``script`` with the test interpreter; it is always terminated (then killed) on exit."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)])}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(script), *args], stdout=output, stderr=subprocess.STDOUT, env=environment
        )
        try:
            yield process
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` and wait for it, killing it if it does not stop within 5 seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
