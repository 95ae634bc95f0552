"""``conexoos plugins list|enable|disable``: the switches in ``plugin_state``, applied at the next start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from ..database import db
from .state import plugin_statuses, set_enabled

CommandFunction = Callable[..., Any]
MakeApp = Callable[[str | None, str | None], Flask]
OPERATOR = "operator (command line)"
RESTART = "applies at the next restart of the server"


def plugins_group(
    project_options: Callable[[CommandFunction], CommandFunction], make_app: MakeApp
) -> click.Group:
    """The ``plugins`` group; ``make_app(project, config)`` builds the app without loading plugins."""

    @click.group("plugins")
    @project_options
    def group(project: str | None, config: str | None) -> None:
        """List, enable and disable installed plugins (pip packages of the conexoos.plugins group).

        A change is stored in the database and applies at the next restart of the server.
        """

    @group.command("list")
    @project_options
    def list_plugins(project: str | None, config: str | None) -> None:
        """One line per plugin: name, version, state (as the next start applies it), description."""
        app = make_app(project, config)
        with app.app_context():
            statuses = plugin_statuses(app)
        if not statuses:
            click.echo("No plugin is installed (pip install one: its package declares conexoos.plugins).")
            return
        width = max(len(status.name) for status in statuses)
        for status in statuses:
            version = status.version or "-"
            click.echo(
                f"{status.name:<{width}}  {version:<10}  {status.saved_state:<22}  {status.description}"
            )
        click.echo("A change applies at the next restart of the server.")

    @group.command("enable")
    @project_options
    @click.argument("name")
    def enable(project: str | None, config: str | None, name: str) -> None:
        """Enable plugin NAME from the next restart (its migrations run then, or by `conexoos db upgrade`)."""
        _switch(make_app(project, config), name, True)

    @group.command("disable")
    @project_options
    @click.argument("name")
    def disable(project: str | None, config: str | None, name: str) -> None:
        """Disable plugin NAME from the next restart (its tables and their rows are kept)."""
        _switch(make_app(project, config), name, False)

    return group


def _switch(app: Flask, name: str, enabled: bool) -> None:
    with app.app_context():
        set_enabled(name, enabled, OPERATOR)
        db.session.commit()
    click.echo(f"{name}: {'enabled' if enabled else 'disabled'}; this {RESTART}.")
