"""Freezing a server process for fault tests, and waiting until the freeze has taken hold.

``os.kill(pid, SIGSTOP)`` returns once the signal is queued; a thread of the target running on another
processor goes on until the kernel stops it. On a loaded machine that was long enough for a frozen slapd
to answer one more bind (CI's "DID NOT RAISE LoginUnavailable"). :func:`freeze` returns only when every
thread of the process shows as stopped in ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

STOPPED_STATES = frozenset("Tt")
"""``/proc/<pid>/task/<tid>/stat`` states of a stopped thread (``T`` stopped, ``t`` traced)."""


def freeze(pid: int, timeout: float = 5.0) -> None:
    """SIGSTOP ``pid`` and wait until each of its threads has stopped (a zombie or gone process counts)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout
    while not _stopped(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} did not stop within {timeout} s of SIGSTOP")
        time.sleep(0.001)


def thaw(pid: int) -> None:
    """SIGCONT ``pid`` (a process that has ended meanwhile is left alone)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


def _stopped(pid: int) -> bool:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return True  # the process ended: nothing of it runs
    return all(_state(task) in STOPPED_STATES | {"Z", "X", ""} for task in tasks)


def _state(task: Path) -> str:
    """A thread's state letter ('' when it ended while being read). The name in ``stat`` is parenthesised
    and may hold spaces, so the state is the first field after its last ``)``."""
    try:
        stat = (task / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return stat.rsplit(")", 1)[1].split()[0]
