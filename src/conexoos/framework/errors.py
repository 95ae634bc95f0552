"""Errors the framework raises for a person to act on."""

from __future__ import annotations

from typing import Any


class ConexoosError(Exception):
    """Base class of every error the framework raises on purpose."""


class ConfigError(ConexoosError):
    """The configuration cannot be used; ``problems`` holds one line per mistake, ``notes`` what may help
    to read them (the environment variables that were used empty)."""

    def __init__(self, problems: list[str], notes: list[str] | None = None, read: Any = None) -> None:
        self.problems = list(problems)
        self.notes = list(notes or [])
        self.read = read
        """The settings as far as they could be read (each refused value at its default), for the checks
        that come after validation to report their problems with these, not in one more run."""
        super().__init__("\n".join(self.problems + self.notes))


class ProjectError(ConexoosError):
    """A project cannot be located or one of its modules is malformed."""


class ReadOnlyDatabaseError(ConexoosError):
    """A write was attempted through a connection configured with ``readonly: true``."""
