"""The session's database pool (``spare=1``) empties a released database while the next test runs on
another, hands it back emptied, and raises an emptying's error instead of losing it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ArgumentError

from tests.support.database_pool import DatabasePool

pytestmark = pytest.mark.services

COUNTED_ID = {"postgresql": "id SERIAL PRIMARY KEY", "mariadb": "id INTEGER AUTO_INCREMENT PRIMARY KEY"}


@pytest.fixture(params=["postgresql", "mariadb"])
def pool(request: pytest.FixtureRequest) -> Iterator[DatabasePool]:
    """A pool of its own with one spare database, on each server."""
    made = DatabasePool(request.param, spare=1)
    yield made
    made.close()


def _run(url: str, *statements: str) -> list[object]:
    """Run the statements in one transaction; return the last one's first column."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = [connection.execute(text(statement)) for statement in statements][-1]
            return list(result.scalars()) if result.returns_rows else []
    finally:
        engine.dispose()


def _fill(url: str, kind: str) -> None:
    _run(url, f"CREATE TABLE item ({COUNTED_ID[kind]}, name VARCHAR(10))")
    _run(url, "INSERT INTO item (name) VALUES ('a'), ('b')")


def test_the_next_test_gets_another_database_and_then_a_released_one_emptied(pool: DatabasePool) -> None:
    first = pool.acquire()
    _fill(first, pool.kind)
    pool.release(first, ["item"])

    second = pool.acquire()  # does not wait for the emptying: a database of its own
    assert second != first
    _fill(second, pool.kind)
    pool.release(second, ["item"])

    third = pool.acquire()  # no third database: one of the two, emptied, its counter restarted
    assert third in {first, second}
    assert _run(third, "SELECT count(*) FROM item") == [0]
    assert _run(third, "INSERT INTO item (name) VALUES ('c')", "SELECT max(id) FROM item") == [1]
    assert pool.tables_in(third) == {"item"}
    pool.release(third, ["item"])


def test_an_error_while_emptying_is_raised_by_the_next_acquire(pool: DatabasePool) -> None:
    url = pool.acquire()
    pool.release(url, ["item"])
    pool.release("not-a-database-url", ["item"])
    with pytest.raises(ArgumentError, match="Could not parse SQLAlchemy URL"):
        for _ in range(10):  # the emptyings run in the pool's thread: the error comes once it is over
            pool.release(pool.acquire(), ["item"])
