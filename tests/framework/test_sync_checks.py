"""``framework/sync_checks.py`` on a small app: Flask asks once per function whether it is a coroutine
function, and a coroutine function is still run through Flask's own ``ensure_sync``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask, after_this_request

from conexoos.framework import sync_checks
from conexoos.framework.sync_checks import remember_sync_checks


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each function's name was asked about."""
    counted: Counter[str] = Counter()
    check = sync_checks.iscoroutinefunction

    def counting(func: Any) -> bool:
        counted[getattr(func, "__name__", repr(func))] += 1
        return check(func)

    monkeypatch.setattr(sync_checks, "iscoroutinefunction", counting)
    return counted


class Hooks:
    """Hooks as bound methods (a new method object each time Flask reads one)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def before(self) -> None:
        self.seen.append("before")


def test_each_function_is_asked_about_once(asked: Counter[str]) -> None:
    app = Flask(__name__)
    remember_sync_checks(app)
    hooks = Hooks()
    app.before_request(hooks.before)

    @app.get("/")
    def page() -> str:
        @after_this_request
        def per_request(response: Any) -> Any:  # a new function every request: asked every time
            return response

        return "page"

    client = app.test_client()
    assert [client.get("/").get_data(as_text=True) for _ in range(3)] == ["page"] * 3
    assert hooks.seen == ["before"] * 3
    assert asked["before"] == 1 and asked["page"] == 1
    assert asked["per_request"] == 3


def test_a_coroutine_function_goes_to_flasks_own_ensure_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Flask(__name__)
    given: list[Any] = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: given.append(func) or (lambda: "converted"))
    remember_sync_checks(app)

    async def view() -> str:
        return "never awaited here"

    def plain() -> str:
        return "plain"

    assert app.ensure_sync(view)() == "converted" and given == [view]
    assert app.ensure_sync(plain) is plain
