"""Flask's ``ensure_sync`` with its verdict remembered per function.

Flask asks ``inspect.iscoroutinefunction`` about every before-request, after-request and teardown
function and the view, on every request (24 calls for the public page, about 3 % of its CPU), although
whether a function is a coroutine function never changes. The verdict is kept per underlying function
(a bound method's ``__func__``), weakly, so that functions made per request (``after_this_request``)
leave nothing behind; anything else (a partial, a callable object) is asked of Flask as before.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction
from types import FunctionType, MethodType
from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask


def remember_sync_checks(app: Flask) -> None:
    """Make ``app.ensure_sync`` ask once per function whether it is a coroutine function."""
    flask_ensure_sync = app.ensure_sync
    verdicts: WeakKeyDictionary[FunctionType, bool] = WeakKeyDictionary()

    def ensure_sync(func: Callable[..., Any]) -> Callable[..., Any]:
        function = func.__func__ if isinstance(func, MethodType) else func
        if type(function) is not FunctionType:
            return flask_ensure_sync(func)
        verdict = verdicts.get(function)
        if verdict is None:
            verdict = verdicts[function] = iscoroutinefunction(func)
        return flask_ensure_sync(func) if verdict else func

    app.ensure_sync = ensure_sync  # type: ignore[method-assign]
