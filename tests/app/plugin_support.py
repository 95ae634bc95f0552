"""The sample contact plugin in product tests: enabled explicitly, then the app restarted on its database."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.conftest import AppFactory
from tests.fixtures.empty_database import database_url
from tests.support.plugins import switch_plugin

from .conftest import QUIET, RATE_LIMITS_OFF, TEMPLATE_CACHE, deep_merge

CONTACT = "contact"
CONTACT_PACKAGE = "conexoos_contact"


def restart(make_app: AppFactory, app: Flask, overrides: dict[str, Any] | None = None) -> Flask:
    """A new product app on ``app``'s database, as a restarted server builds it (tables created)."""
    merged = deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides or {})
    restarted = make_app(database_url=database_url(app), overrides=merged)
    restarted.jinja_env.bytecode_cache = TEMPLATE_CACHE
    return restarted


def with_contact_plugin(make_app: AppFactory, app: Flask, overrides: dict[str, Any] | None = None) -> Flask:
    """Enable the contact plugin in ``app``'s database and restart: the new app has it active."""
    switch_plugin(app, CONTACT)
    return restart(make_app, app, overrides)
