"""flask-framework's jobs (``Process.add_task``, ``add_cron``, ``add_parallel_task``) on Conexoos's
once-per-cluster scheduler (``framework/tasks.py``)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app

log = logging.getLogger("conexoos.compat")
UNITS = (1, 60, 3600, 86400, 604800)


def interval(seconds: int, minutes: int, hours: int, days: int, weeks: int) -> int:
    """The interval in seconds; flask-framework's default (every field 0) is one second."""
    total = sum(
        value * unit for value, unit in zip((seconds, minutes, hours, days, weeks), UNITS, strict=True)
    )
    if total < 0:
        raise ValueError(f"a task interval cannot be negative ({total} s)")
    return total or 1


def resolve(function: str | Callable[..., object]) -> Callable[..., object]:
    """The callable named ``"package.module.function"`` (or ``"module:function"``), or ``function``."""
    if callable(function):
        return function
    dotted = str(function).replace(":", ".")
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError as error:
            if error.name and dotted.startswith(error.name):
                continue  # a shorter module path may be the right one
            raise
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        if not callable(target):
            raise TypeError(f"task {function!r} is not callable")
        return target
    raise ValueError(f"task {function!r}: expected 'module.function' importable from the project")


def every(
    function: str | Callable[..., object], name: str | None, args: tuple[Any, ...], trigger: str, seconds: int
) -> None:
    """Schedule ``function(*args)`` every ``seconds`` on the app's scheduler, once per cluster."""
    if trigger != "interval":
        raise ValueError(
            f"Process.add_task: trigger {trigger!r} is not provided; only 'interval' is. For a cron schedule "
            "use runtime().scheduler.cron('*/5 * * * *', function) in server/tasks.py"
        )
    target = resolve(function)
    task_name = name or (function if isinstance(function, str) else target.__name__)
    scheduler = current_app.extensions["conexoos"].scheduler
    scheduler.every(seconds, _bound(target, args), name=str(task_name))


def once(
    function: str | Callable[..., object],
    name: str | None,
    args: tuple[Any, ...],
    trigger: str,
    date: datetime | None,
) -> threading.Thread:
    """Run ``function(*args)`` once in a thread of this process with the app's context, at ``date``."""
    if trigger != "date":
        raise ValueError(f"Process.add_parallel_task: trigger {trigger!r} is not provided; only 'date' is")
    target = resolve(function)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    delay = max((date - datetime.now(date.tzinfo)).total_seconds(), 0.0) if date else 0.0
    label = str(name or function)

    def run() -> None:
        with app.app_context():
            try:
                target(*args)
            except Exception:  # a background job's failure is logged with its traceback, not lost
                log.exception("parallel task %s failed", label)

    thread = threading.Timer(delay, run)
    thread.daemon = True
    thread.name = f"parallel-task-{label}"
    thread.start()
    return thread


def _bound(target: Callable[..., object], args: tuple[Any, ...]) -> Callable[[], object]:
    def run() -> object:
        return target(*args)

    run.__name__ = getattr(target, "__name__", "task")
    return run
