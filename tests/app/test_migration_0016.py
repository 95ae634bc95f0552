"""Revision 0016 adds ``plugin_state`` and goes back; an enabled plugin's own history (the sample contact
plugin's) is then upgraded by ``conexoos db upgrade`` with the product's, in its own version table, and
left out of the product's comparison. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, inspect

from conexoos.framework import db
from conexoos.framework.cli import cli
from conexoos.framework.migrations import (
    current_revisions,
    downgrade,
    migration_target,
    plugin_targets,
    prepare_databases,
    upgrade,
)
from conexoos.framework.plugins import installed_plugins
from tests.conftest import AppFactory
from tests.fixtures.empty_database import database_url, empty_product_app
from tests.framework.test_cli import ENV_TO_CLEAR
from tests.support.plugins import plugin_modules_forgotten, switch_plugin

from .plugin_support import CONTACT, CONTACT_PACKAGE
from .test_migrations import product_metadata

pytestmark = pytest.mark.database_matrix


@pytest.fixture
def app(make_app: AppFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The product on a new, empty database of the matrix's kind (the revisions build it)."""
    with plugin_modules_forgotten(CONTACT_PACKAGE), empty_product_app(make_app, tmp_path_factory) as built:
        yield built


def tables(app: Flask) -> set[str]:
    engine = create_engine(database_url(app))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0016_adds_plugin_state_and_goes_back(app: Flask) -> None:
    with migration_target(app) as target:
        upgrade(target, "0015")
        assert "plugin_state" not in tables(app)
        upgrade(target, "0016")
        assert "plugin_state" in tables(app)
    switch_plugin(app, "contact")  # a row is kept as written
    with migration_target(app) as target:
        downgrade(target, "0015")
    assert "plugin_state" not in tables(app)


def db_upgrade(app: Flask, tmp_path: Path) -> str:
    """Run `conexoos db upgrade` on the app's database, as an operator does; return its output."""
    config = tmp_path / "config.yml"
    config.write_text(
        f"SERVER_ENV:\n  ENV: DEV\n  INSTANCE_PATH: {tmp_path / 'instance'}\n  APP_KEY: {'k' * 48}\n"
        f"DATABASE:\n  default: main\n  main: {{url: '{database_url(app)}'}}\n",
        encoding="utf-8",
    )
    clear = {name: None for name in ENV_TO_CLEAR}
    result = CliRunner().invoke(
        cli, ["db", "upgrade", "--config", str(config)], prog_name="conexoos", env=clear
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.skipif(CONTACT not in installed_plugins(), reason="the sample plugin is not installed")
def test_db_upgrade_runs_an_enabled_plugins_own_history_after_the_products(
    app: Flask, tmp_path: Path
) -> None:
    first = db_upgrade(app, tmp_path)
    assert re.search(r"main: \d{4} \(head\)", first) and "plugin contact" not in first  # disabled: skipped
    assert "contact_message" not in tables(app)
    switch_plugin(app, CONTACT)

    second = db_upgrade(app, tmp_path)
    assert "plugin contact: 0001 (head)" in second
    assert {"contact_message", "alembic_version_contact", "alembic_version"} <= tables(app)
    assert "plugin contact: 0001 (head)" in db_upgrade(app, tmp_path)  # again: nothing to do

    # The product's history still matches its models: the plugin's tables are the plugin's history's.
    with migration_target(app) as target, target.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": target.includes}
        )
        assert compare_metadata(context, product_metadata()) == []
        assert "contact_message" in target.owned_tables  # left out of the product's history
    with app.app_context():
        db.session.remove()


@pytest.mark.skipif(CONTACT not in installed_plugins(), reason="the sample plugin is not installed")
def test_starting_with_a_plugin_enabled_from_the_admin_applies_its_history(
    app: Flask, make_app: AppFactory
) -> None:
    """Enabled in the browser, then restarted: `run` and `serve` apply a never-applied plugin history."""
    with migration_target(app) as target:
        upgrade(target)
    switch_plugin(app, CONTACT)
    restarted = make_app(database_url=database_url(app), schema=False)
    assert prepare_databases(restarted) == []
    assert {"contact_message", "alembic_version_contact"} <= tables(app)
    with plugin_targets(restarted) as [target]:
        assert (target.plugin, current_revisions(target)) == (CONTACT, ("0001",))
        downgrade(target, "base")  # tables gone, history recorded as nothing: the next start applies it again
    assert "contact_message" not in tables(app)
    assert prepare_databases(restarted) == [] and "contact_message" in tables(app)
