"""``app.cli`` with the project's commands added at its first use: a server's worker never lists or runs
them, and ``server/commands.py`` imports what its commands do (account deletion, exports, second
factors, ...): 40 modules and 1.3 MiB that a worker would otherwise load before its first answer.

``conexoos`` itself reads a project's commands without building the app (``framework/cli.py``);
``app.cli`` serves ``flask --app``, ``app.test_cli_runner()`` and any code that reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

CommandsLoader = Callable[[click.Group], None]
"""Adds commands to the group it is given (a project's ``Commands`` class, called)."""


class DeferredCommands(AppGroup):
    """An app's command group whose loaders run, in the order they were added, the first time its
    commands are read: listed, looked up, or read as its ``commands`` dict."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pending: list[CommandsLoader] = []
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        self._load()
        return self._commands

    @commands.setter
    def commands(self, commands: dict[str, click.Command]) -> None:
        self._commands = commands

    def defer(self, loader: CommandsLoader) -> None:
        """Run ``loader(self)`` when the commands are first read (at once if they have been already)."""
        self._pending.append(loader)

    def _load(self) -> None:
        while self._pending:  # a loader may read the commands itself: each runs once, in order
            self._pending.pop(0)(self)


def defer_commands(app: Flask, loader: CommandsLoader) -> None:
    """Add ``loader``'s commands to ``app.cli`` at their first use (``app.cli`` made deferring first)."""
    if not isinstance(app.cli, DeferredCommands):
        deferring = DeferredCommands(name=app.cli.name)
        deferring.commands.update(app.cli.commands)
        app.cli = deferring
    app.cli.defer(loader)
