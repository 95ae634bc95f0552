"""Upgrading a database made by release 0.1.0 (its tables, its rows, no ``alembic_version``).

Through the real command line: ``conexoos db upgrade`` recognises the 0.1.0 tables, stamps them 0001 and
brings them to head without losing a row; ``conexoos run`` stamps them too and never upgrades on its own.
Marked ``database_matrix``: SQLite in the fast suite, PostgreSQL and MariaDB in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import MetaData, create_engine, insert, select, text
from sqlalchemy.engine import Engine

from conexoos.framework import migrations
from tests.conftest import AppFactory, base_overrides
from tests.fixtures.empty_database import database_url, empty_product_app
from tests.framework.test_cli import conexoos, free_port, http_get, server

pytestmark = pytest.mark.database_matrix

CREATED = datetime(2026, 3, 1, 9, 30, 15)  # whole seconds: MariaDB's DATETIME keeps no fraction
LATER = datetime(2026, 4, 2, 18, 0, 0)
DELETED_USER_ID = 3
"""A 0.1.0 user deleted before the upgrade: its id must never be given to a new account afterwards."""

ROWS_0_1_0: dict[str, list[dict[str, Any]]] = {
    # Numeric ids are those the database gives (1, 2, ... in insertion order); they are not inserted.
    "user": [
        {
            "id": 1,
            "email": "ana@example.com",
            "username": "ana",
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            "display_name": "Ana Olá — ñ",
            "bio": "Fotos e livros 📚",
            "avatar": "avatars/1/ana.webp",
            "is_admin": True,
            "subscription_plan": "gratis",
            "stripe_customer_id": None,
            "stripe_subscription_id": None,
            "subscription_status": "",
            "past_due_since": None,
            "billing_event_at": 0,
            "created_at": CREATED,
        },
        {
            "id": 2,
            "email": "bo@example.com",
            "username": "bo",
            "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdDI$aGFzaDI",
            "display_name": "",
            "bio": "",
            "avatar": None,
            "is_admin": False,
            "subscription_plan": "pro",
            "stripe_customer_id": "cus_Q1w2e3r4",
            "stripe_subscription_id": "sub_1Pz9Yx",
            "subscription_status": "past_due",
            "past_due_since": LATER,
            "billing_event_at": 1_775_000_000,
            "created_at": LATER,
        },
        {
            "id": DELETED_USER_ID,
            "email": "gone@example.com",
            "username": "gone",
            "password_hash": "x",
            "display_name": "",
            "bio": "",
            "avatar": None,
            "is_admin": False,
            "subscription_plan": "gratis",
            "stripe_customer_id": None,
            "stripe_subscription_id": None,
            "subscription_status": "",
            "past_due_since": None,
            "billing_event_at": 0,
            "created_at": CREATED,
        },
    ],
    "user_link": [
        {
            "id": 1,
            "title": "Blog",
            "url": "https://ana.example.com/",
            "owner_id": 1,
            "order_index": 0,
            "enabled": True,
            "starts_at": None,
            "ends_at": None,
            "created_at": CREATED,
            "updated_at": CREATED,
        },
        {
            "id": 2,
            "title": "Promo de março",
            "url": "https://shop.example.com/promo?utm_source=bio",
            "owner_id": 2,
            "order_index": 3,
            "enabled": False,
            "starts_at": CREATED,
            "ends_at": LATER,
            "created_at": CREATED,
            "updated_at": LATER,
        },
    ],
    "product": [
        {
            "id": 1,
            "owner_id": 2,
            "title": "E-book",
            "description": "120 páginas",
            "price": 1990,
            "currency": "BRL",
            "image": "products/2/cover.webp",
            "buy_url": "https://pay.example.com/ebook",
            "enabled": True,
            "order_index": 0,
            "created_at": CREATED,
            "updated_at": LATER,
        }
    ],
    "analytics_event": [
        {
            "id": 1,
            "owner_id": 1,
            "link_id": None,
            "kind": "view",
            "occurred_at": CREATED,
            "referrer_host": "instagram.com",
            "utm_source": "ig",
            "utm_medium": "social",
            "utm_campaign": "spring",
            "device": "mobile",
            "os": "iOS",
            "browser": "Safari",
            "country": "PT",
            "visitor_hash": "0123456789abcdef0123456789abcdef",
        },
        {
            "id": 2,
            "owner_id": 2,
            "link_id": 1,
            "kind": "buy",
            "occurred_at": LATER,
            "referrer_host": "",
            "utm_source": "",
            "utm_medium": "",
            "utm_campaign": "",
            "device": "desktop",
            "os": "Linux",
            "browser": "Firefox",
            "country": "",
            "visitor_hash": "",
        },
    ],
    "stats_rollup": [
        {
            "id": 1,
            "owner_id": 1,
            "grain": "q",
            "bucket": 1_969_000,
            "kind": "view",
            "link_id": 0,
            "dimension": "",
            "value": "",
            "events": 12,
            "uniques": 9,
        },
        {
            "id": 2,
            "owner_id": 1,
            "grain": "d",
            "bucket": 1_968_960,
            "kind": "view",
            "link_id": 0,
            "dimension": "referrer",
            "value": "instagram.com",
            "events": 5,
            "uniques": 0,
        },
    ],
    "stats_visitor": [{"id": 1, "owner_id": 1, "day": date(2026, 3, 1), "visitor_hash": "f" * 32}],
    "stats_salt": [{"day": date(2026, 3, 1), "salt": "9" * 64}],
    "stats_watermark": [{"id": 1, "last_event_id": 2}],
    "stripe_event": [
        {
            "id": "evt_1Pz9YxAbc",
            "type": "customer.subscription.updated",
            "outcome": "applied: past_due",
            "processed_at": LATER,
        }
    ],
    "stripe_subscription_seen": [
        {"id": "sub_1Pz9Yx", "status": "past_due", "event_created": 8_589_934_592, "updated_at": LATER}
    ],
}


@pytest.fixture
def release_0_1_0(make_app: AppFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database as 0.1.0 left it: its tables (revision 0001, proved to be the same), its
    rows, a deleted account, and no ``alembic_version`` (0.1.0 had no migrations)."""
    with empty_product_app(make_app, tmp_path_factory) as app:
        fill_as_0_1_0(app)
        yield app


def fill_as_0_1_0(app: Flask) -> None:
    with migrations.migration_target(app) as target:
        migrations.upgrade(target, "0001")
    engine = create_engine(database_url(app))
    try:
        tables = reflect(engine)
        with engine.begin() as connection:
            for name, rows in ROWS_0_1_0.items():
                # As 0.1.0 wrote them: numeric ids come from the database (its sequence, AUTOINCREMENT).
                numbered = isinstance(rows[0].get("id"), int)
                values = [{k: v for k, v in row.items() if k != "id"} for row in rows] if numbered else rows
                connection.execute(insert(tables[name]), values)
            connection.execute(tables["user"].delete().where(tables["user"].c.id == DELETED_USER_ID))
            connection.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
    finally:
        engine.dispose()


def reflect(engine: Engine) -> dict[str, Any]:
    metadata = MetaData()
    metadata.reflect(bind=engine)
    return dict(metadata.tables)


def config_file(tmp_path: Path, app: Flask) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(base_overrides(tmp_path, database_url(app))))
    return path


def plain(value: Any) -> Any:
    """A value as the test compares it (MariaDB gives booleans back as 0 and 1)."""
    return int(value) if isinstance(value, bool) else value


def stored_rows(engine: Engine, table: str, columns: list[str]) -> list[dict[str, Any]]:
    """The rows of ``table`` (only ``columns``), in primary-key order."""
    reflected = reflect(engine)[table]
    query = select(*(reflected.c[name] for name in columns)).order_by(*reflected.primary_key.columns)
    with engine.connect() as connection:
        rows = connection.execute(query)
        return [{key: plain(value) for key, value in row._mapping.items()} for row in rows]


REPLACED_COLUMNS = {"user": {"is_admin"}}
"""0.1.0 columns a later revision replaced (``is_admin`` became ``role`` in 0012)."""


def kept_columns(table: str) -> list[str]:
    """The 0.1.0 columns of ``table`` that head still has."""
    return [name for name in ROWS_0_1_0[table][0] if name not in REPLACED_COLUMNS.get(table, set())]


def expected_rows(table: str) -> list[dict[str, Any]]:
    rows = ROWS_0_1_0[table]
    if table == "user":
        rows = [row for row in rows if row["id"] != DELETED_USER_ID]
    return [{key: plain(row[key]) for key in kept_columns(table)} for row in rows]


def version_numbers(engine: Engine) -> list[str]:
    query = text(f"SELECT version_num FROM {migrations.VERSION_TABLE}")
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query)]


def test_db_upgrade_brings_a_0_1_0_database_to_head_with_every_row(
    release_0_1_0: Flask, tmp_path: Path
) -> None:
    config = config_file(tmp_path, release_0_1_0)
    result = conexoos("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "are those of revision 0001, the first migration; recorded as revision 0001" in result.stderr
    with migrations.migration_target(release_0_1_0) as target:
        heads = migrations.head_revisions(target)
    assert result.stdout.strip() == f"main: {', '.join(heads)} (head)"

    engine = create_engine(database_url(release_0_1_0))
    try:
        assert version_numbers(engine) == list(heads)
        for table in ROWS_0_1_0:
            assert stored_rows(engine, table, kept_columns(table)) == expected_rows(table), table
        # Revision 0012: the administrator flag became the role.
        assert stored_rows(engine, "user", ["username", "role"]) == [
            {"username": "ana", "role": "admin"},
            {"username": "bo", "role": "user"},
        ]
        # Revision 0003: accounts made before address verification existed count as verified then.
        verified = stored_rows(engine, "user", ["created_at", "email_verified_at"])
        assert verified and all(row["email_verified_at"] == row["created_at"] for row in verified)
        assert "mail_outbox" in reflect(engine)
        users = reflect(engine)["user"]
        account = {
            key: value for key, value in ROWS_0_1_0["user"][2].items() if key not in ("id", "is_admin")
        }
        with engine.begin() as connection:
            new_id = connection.execute(
                insert(users).values(**{**account, "username": "new", "email": "new@example.com"})
            ).inserted_primary_key[0]
        assert new_id > DELETED_USER_ID  # ids of deleted accounts are still never reused
    finally:
        engine.dispose()

    again = conexoos("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "recorded as revision" not in again.stderr


def test_run_stamps_a_0_1_0_database_and_never_upgrades_it(release_0_1_0: Flask, tmp_path: Path) -> None:
    config = config_file(tmp_path, release_0_1_0)
    with migrations.migration_target(release_0_1_0) as target:
        heads = migrations.head_revisions(target)
    engine = create_engine(database_url(release_0_1_0))
    try:
        if heads == ("0001",):
            port = free_port()
            arguments = ["run", "--config", str(config), "--port", str(port), "--no-reload"]
            with server(arguments, tmp_path, f"http://127.0.0.1:{port}/") as log:
                assert http_get(f"http://127.0.0.1:{port}/ana")[0] == 200
            assert "are those of revision 0001" in log.read_text()
        else:
            refused = conexoos("run", "--config", str(config), "--no-reload", cwd=tmp_path)
            assert refused.returncode == 2
            *_, said, stamped = refused.stderr.strip().splitlines()
            assert said == (
                f"error: database connection 'main' is at revision 0001 but this version needs "
                f"{', '.join(heads)}: run `conexoos db upgrade --database main --config {config}` first "
                "(back up the database before)"
            )
            assert stamped.startswith("note: database connection 'main': its tables, made before migrations")
        assert version_numbers(engine) == ["0001"]
        assert stored_rows(engine, "user", ["id", "username"]) == [
            {"id": 1, "username": "ana"},
            {"id": 2, "username": "bo"},
        ]
    finally:
        engine.dispose()


@pytest.fixture
def skipped_0019(make_app: AppFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database a side build upgraded along a history without revision 0019: recorded past it,
    but without the column it adds (``analytics_event.event_id``)."""
    with empty_product_app(make_app, tmp_path_factory) as app:
        with migrations.migration_target(app) as target:
            migrations.upgrade(target, "0018")
            migrations.stamp(target, "0019")
        yield app


SKIPPED_0019_PROBLEM = (
    "error: database connection 'main' is at head but lacks columns of the models "
    "(analytics_event.event_id), which this release's migrations make: the database's history is not "
    "this release's"
)


def test_db_upgrade_fails_on_a_database_whose_history_skipped_a_revision(
    skipped_0019: Flask, tmp_path: Path
) -> None:
    """It said `main: 0034 (head)`; then a scheduled task failed forever on the missing column."""
    config = config_file(tmp_path, skipped_0019)
    upgraded = conexoos("db", "upgrade", "--config", str(config), cwd=tmp_path)
    assert upgraded.returncode == 2, upgraded.stderr
    assert SKIPPED_0019_PROBLEM in upgraded.stderr
    restore = "Restore a backup taken before that and run `conexoos db upgrade --database main"
    assert f"{restore} --config {config}`" in upgraded.stderr  # the command as the site was given
    assert "or repair it: add those columns" in upgraded.stderr
    assert "(head)" not in upgraded.stdout

    refused = conexoos("run", "--config", str(config), "--no-reload", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert SKIPPED_0019_PROBLEM in refused.stderr


@pytest.fixture
def dropped_capture_entry(make_app: AppFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database at head from which a table of the models (``capture_entry``) was dropped."""
    with empty_product_app(make_app, tmp_path_factory) as app:
        with migrations.migration_target(app) as target:
            migrations.upgrade(target)
            with target.engine.begin() as connection:
                connection.execute(text("DROP TABLE capture_entry"))
        yield app


def test_a_table_this_releases_migrations_make_gets_restore_or_repair_advice(
    dropped_capture_entry: Flask, tmp_path: Path
) -> None:
    """It said `write their migration with conexoos db migrate`, which wrote a revision into the product's
    package, forking its history; `db upgrade` said `(head)`."""
    config = config_file(tmp_path, dropped_capture_entry)
    problem = (
        "error: database connection 'main' is at head but lacks tables of the models (capture_entry), which "
        "this release's migrations make: the database's history is not this release's"
    )
    for command in (["db", "upgrade"], ["run", "--no-reload"]):
        refused = conexoos(*command, "--config", str(config), cwd=tmp_path)
        assert refused.returncode == 2, refused.stderr
        assert problem in refused.stderr
        assert "or repair it: add those tables" in refused.stderr
        assert "db migrate" not in refused.stderr


def test_db_migrate_never_writes_into_the_products_package(tmp_path: Path) -> None:
    """A site's `db migrate` wrote its own revision into src/conexoos/app/migrations/default/versions."""
    versions = Path(migrations.__file__).parents[1] / "app" / "migrations" / "default" / "versions"
    before = sorted(versions.glob("*.py"))
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(base_overrides(tmp_path, f"sqlite:///{tmp_path / 'site.db'}")))
    refused = conexoos("db", "migrate", "-m", "mine", "--config", str(config), cwd=tmp_path)
    written = sorted(set(versions.glob("*.py")) - set(before))
    for path in written:  # a failing run must not leave its revision in the package
        path.unlink()
    assert refused.returncode == 2, refused.stderr
    assert "the product's migrations ship inside the installed package" in refused.stderr
    assert "give --project src/conexoos/app" in refused.stderr
    assert written == []
