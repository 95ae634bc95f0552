"""Plan limits hold when many adds arrive at once: 20 parallel adds on a plan of 10 leave exactly 10.

Each add is a real request through the whole app (login, CSRF, blueprint, controller) from its own thread,
with its own app context and database session, released together by a barrier so that they overlap. Run
on SQLite here and on PostgreSQL and MariaDB by CI (``database_matrix``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from conexoos.framework import db
from conexoos.framework.config import deep_merge
from conexoos.framework.database import create_schema
from tests.conftest import TEST_DATABASE, AppFactory

from .conftest import QUIET, RATE_LIMITS_OFF, TEMPLATE_CACHE, Account, _no_fsync

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

LIMIT = 10
PARALLEL = 20
PLANS = {
    "gratis": {"NAME": "Gratis", "MAX_LINKS": LIMIT, "MAX_PRODUCTS": LIMIT, "HISTORY_DAYS": 30},
    "pro": {"NAME": "Pro", "MAX_LINKS": 50, "MAX_PRODUCTS": 50, "HISTORY_DAYS": 365},
}
BOOK = {"price": 900, "currency": "EUR", "buy_url": "https://shop.example/book"}


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product with a free plan of 10 links and 10 products, and room for 20 connections at once."""
    overrides = deep_merge(
        deep_merge(RATE_LIMITS_OFF, QUIET),
        {"APP": {"PLANS": PLANS}, "FLASK": {"CONFIG": {"SQLALCHEMY_ENGINE_OPTIONS": _pool_options()}}},
    )
    built = make_app(overrides=overrides, schema=False)
    built.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with built.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _no_fsync)
    create_schema(built, built.extensions["conexoos"].settings)
    return built


def _pool_options() -> dict[str, Any]:
    # Every thread holds a connection while it waits for the lock: the pool must not be the bottleneck.
    if TEST_DATABASE == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": PARALLEL, "max_overflow": 5, "pool_pre_ping": True}


def clone(account: Account, app: Flask) -> FlaskClient:
    """A new test client carrying the account's cookies: the same login, usable from another thread."""
    browser = app.test_client()
    for cookie in account.client._cookies.values():
        browser.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return browser


def at_once(app: Flask, account: Account, request: Callable[[FlaskClient, int], Any]) -> list[int]:
    """Run ``request(client, n)`` for n in 0..19 from 20 threads released together; their statuses."""
    clients = [clone(account, app) for _ in range(PARALLEL)]
    barrier = threading.Barrier(PARALLEL)

    def run(number: int) -> int:
        barrier.wait(timeout=30)
        return int(request(clients[number], number).status_code)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(run, range(PARALLEL)))


def post(account: Account, path: str, body: dict[str, Any]) -> Callable[[FlaskClient, int], Any]:
    """A request function posting ``body`` (its title numbered) as ``account`` with its CSRF token."""

    def request(browser: FlaskClient, number: int) -> Any:
        headers = {"X-CSRFToken": account.csrf, "Accept": "application/json"}
        return browser.post(path, json={**body, "title": f"Item {number}"}, headers=headers)

    return request


@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        ("links", "/api/add/link", {"url": "https://example.com/"}),
        ("products", "/api/add/product", BOOK),
    ],
)
def test_twenty_parallel_adds_on_a_plan_of_ten_leave_exactly_ten(
    app: Flask, alice: Account, kind: str, path: str, body: dict[str, Any]
) -> None:
    statuses = at_once(app, alice, post(alice, path, body))

    assert sorted(statuses) == [201] * LIMIT + [403] * (PARALLEL - LIMIT), statuses
    items = alice.api("GET", f"/api/{kind}").get_json()
    assert len(items) == LIMIT
    # Each add saw the ones before it: the page order has no duplicates and no holes.
    assert sorted(item["order_index"] for item in items) == list(range(LIMIT))


def test_parallel_adds_never_exceed_the_limit_from_any_starting_count(app: Flask, alice: Account) -> None:
    for number in range(LIMIT - 3):
        alice.add_link(title=f"Existing {number}", url=f"https://example.com/{number}")

    statuses = at_once(app, alice, post(alice, "/api/add/link", {"url": "https://example.com/new"}))

    assert statuses.count(201) == 3 and statuses.count(403) == PARALLEL - 3, statuses
    assert len(alice.links()) == LIMIT


def test_parallel_reorders_and_deletes_never_fail_with_a_server_error(app: Flask, alice: Account) -> None:
    ids = [alice.add_link(title=f"L{n}", url=f"https://example.com/{n}")["id"] for n in range(LIMIT)]
    deleted = ids[: PARALLEL // 4]
    headers = {"X-CSRFToken": alice.csrf, "Accept": "application/json"}

    def reorder_or_delete(browser: FlaskClient, number: int) -> Any:
        if number % 4 == 1:
            return browser.delete(f"/api/delete/link/{deleted[number // 4]}", headers=headers)
        return browser.post("/api/links/reorder", json={"ids": list(reversed(ids))}, headers=headers)

    statuses = at_once(app, alice, reorder_or_delete)

    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(204) == len(deleted)  # every delete went through
    remaining = alice.links()
    assert {link["id"] for link in remaining} == set(ids) - set(deleted)
    assert len({link["order_index"] for link in remaining}) == len(remaining)
