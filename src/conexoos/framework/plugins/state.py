"""Which plugins are enabled: ``plugin_state`` in the default database, a table the framework owns.

A plugin without a row is disabled. A change is read at the next start of the app, never while it runs:
a plugin's routes, models and tasks are set up once, at app creation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Boolean, DateTime, String, inspect, select
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db
from .discovery import PluginError, installed_plugins

PLUGIN_STATE_TABLE = "plugin_state"
ACTIVE, ENABLED_NEXT, DISABLED_NEXT, DISABLED, GONE = (
    "enabled, active",
    "enabled at next restart",
    "disabled at next restart",
    "disabled",
    "not installed any more",
)


def utcnow() -> datetime:
    """Now in naive UTC whole seconds, as SQLite and MariaDB keep it."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class PluginState(db.Model):  # type: ignore[name-defined]
    """One plugin's switch: enabled or not, since when and by whom."""

    __tablename__ = PLUGIN_STATE_TABLE

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(255), nullable=False, default="")


@dataclass(frozen=True)
class PluginStatus:
    """One plugin as the admin page and ``conexoos plugins list`` show it."""

    name: str
    version: str
    description: str
    installed: bool
    enabled: bool
    active: bool

    @property
    def saved_state(self) -> str:
        """What the database says (the next start applies it): enabled, disabled, not installed any more."""
        if not self.installed:
            return GONE
        return "enabled" if self.enabled else DISABLED

    @property
    def state(self) -> str:
        """In words, including what the next restart changes."""
        if not self.installed:
            return GONE
        if self.enabled:
            return ACTIVE if self.active else ENABLED_NEXT
        return DISABLED_NEXT if self.active else DISABLED


def has_state_table() -> bool:
    """Whether the default database has ``plugin_state`` (not before ``conexoos db upgrade`` made it)."""
    return inspect(db.engine).has_table(PLUGIN_STATE_TABLE)


def enabled_names() -> set[str]:
    """The names enabled in the database (inside an app context); none before the table exists."""
    if not has_state_table():
        return set()
    rows = db.session.execute(select(PluginState.name).where(PluginState.enabled.is_(True))).scalars()
    return set(rows)


def plugin_statuses(app: Flask) -> list[PluginStatus]:
    """Every installed plugin, and every plugin with a row that is not installed any more, by name."""
    from .loading import active_plugins  # loading imports this module for enabled_names

    installed = installed_plugins()
    rows = (
        {row.name: row for row in db.session.execute(select(PluginState)).scalars()}
        if has_state_table()
        else {}
    )
    active = set(active_plugins(app).names)
    statuses = []
    for name in sorted(set(installed) | set(rows)):
        plugin, row = installed.get(name), rows.get(name)
        statuses.append(
            PluginStatus(
                name=name,
                version=plugin.version if plugin else "",
                description=plugin.description if plugin else "",
                installed=plugin is not None,
                enabled=bool(row and row.enabled),
                active=name in active,
            )
        )
    return statuses


def set_enabled(name: str, enabled: bool, changed_by: str) -> PluginState:
    """Enable or disable ``name`` from the next start, in the current transaction (the caller commits).

    Raises :class:`PluginError` for what :func:`switch_refusal` refuses.
    """
    problem = switch_refusal(name, enabled)
    if problem is not None:
        raise PluginError(problem)
    row = db.session.get(PluginState, name)
    if row is None:
        row = PluginState(name=name)
        db.session.add(row)
    row.enabled, row.changed_at, row.changed_by = enabled, utcnow(), changed_by[:255]
    return row


def switch_refusal(name: str, enabled: bool) -> str | None:
    """Why :func:`set_enabled` refuses to switch ``name``, or None: enabling needs the plugin installed,
    disabling also accepts one not installed any more that has a saved state; neither works on a
    database without ``plugin_state``."""
    if not has_state_table():
        return f"the database has no {PLUGIN_STATE_TABLE} table yet: run `conexoos db upgrade` first"
    installed = installed_plugins()
    if name not in installed and (enabled or db.session.get(PluginState, name) is None):
        return f"no plugin named {name!r} is installed; {describe_installed(installed)}"
    return None


def describe_installed(installed: Mapping[str, object] | None = None) -> str:
    """``installed: a, b`` (or ``none is installed``), for messages about an unknown name."""
    names = sorted(installed if installed is not None else installed_plugins())
    return f"installed: {', '.join(names)}" if names else "no plugin is installed"
