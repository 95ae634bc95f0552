"""The test database pool hands a migration test a database without tables, whatever ran before it.

A database holding the models' emptied tables looks, to ``upgrade``, like one made before migrations
were recorded: it is adopted as head and an upgrade to an old revision does nothing (the 0.1.0-upgrade
tests then checked the head schema against itself, and failed after other tests in the same process).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import TEST_DATABASE
from tests.support.database_pool import DatabasePool

pytestmark = [
    pytest.mark.database_matrix,
    pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite tests use a new file each, no pool"),
]


@pytest.fixture
def pool() -> Iterator[DatabasePool]:
    """A pool of its own, so the session's pool is not disturbed."""
    made = DatabasePool(TEST_DATABASE)
    yield made
    made.close()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


COUNTED_ID = {"postgresql": "id SERIAL PRIMARY KEY", "mariadb": "id INTEGER AUTO_INCREMENT PRIMARY KEY"}


def _make_table(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE item ({COUNTED_ID[TEST_DATABASE]}, name VARCHAR(10))"))
            connection.execute(text("INSERT INTO item (name) VALUES ('a'), ('b')"))
    finally:
        engine.dispose()


def _add_item(url: str) -> int:
    """Insert a row; return its id."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO item (name) VALUES ('c')"))
            return int(connection.execute(text("SELECT MAX(id) FROM item")).scalar_one())
    finally:
        engine.dispose()


def test_a_database_that_held_tables_goes_only_to_tests_that_create_them(pool: DatabasePool) -> None:
    used = pool.acquire(tables=True)
    _make_table(used)
    pool.release(used, ["item"])

    blank = pool.acquire(tables=False)
    assert blank != used
    assert _tables(blank) == set()
    again = pool.acquire(tables=True)
    assert again == used
    assert _tables(again) == {"item"}
    assert _add_item(again) == 1  # the rows went, and the id counter restarted


def test_a_reused_database_starts_its_counters_again_each_time(pool: DatabasePool) -> None:
    url = pool.acquire(tables=True)
    _make_table(url)
    for _ in range(2):
        pool.release(url, ["item"])
        assert pool.acquire(tables=True) == url
        assert _add_item(url) == 1
        _add_item(url)


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="a PostgreSQL setting")
def test_commits_do_not_wait_for_the_disk_on_pooled_databases(pool: DatabasePool) -> None:
    engine = create_engine(pool.acquire(tables=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "off"
    finally:
        engine.dispose()


def test_a_database_left_without_tables_is_reused_by_either(pool: DatabasePool) -> None:
    blank = pool.acquire(tables=False)
    pool.release(blank, ["item"])
    assert pool.acquire(tables=False) == blank
    pool.release(blank, ["item"])
    assert pool.acquire(tables=True) == blank
