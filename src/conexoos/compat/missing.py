"""Loud failures for the parts of flask-framework's API the compatibility layer does not provide."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NoReturn


class NotProvided(AttributeError):
    """A flask-framework name the layer does not provide; the message names the Conexoos equivalent."""


def not_provided(where: str, name: str, equivalent: str) -> NoReturn:
    """Raise :class:`NotProvided` for ``where.name``."""
    raise NotProvided(
        f"{where}.{name} is not provided by Conexoos's flask-framework compatibility layer; "
        f"Conexoos equivalent: {equivalent}"
    )


def module_getattr(module: str, equivalents: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that raises :class:`NotProvided` for any name it is asked for."""

    def __getattr__(name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)  # importlib and pickle probe dunder names
        not_provided(module, name, equivalents.get(name, "see README.md, 'Migrating from flask-framework'"))

    return __getattr__
