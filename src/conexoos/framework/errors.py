"""Errors the framework raises for a person to act on."""

from __future__ import annotations


class ConexoosError(Exception):
    """Base class of every error the framework raises on purpose."""


class ConfigError(ConexoosError):
    """The configuration cannot be used; ``problems`` holds one line per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ProjectError(ConexoosError):
    """A project cannot be located or one of its modules is malformed."""


class ReadOnlyDatabaseError(ConexoosError):
    """A write was attempted through a connection configured with ``readonly: true``."""
