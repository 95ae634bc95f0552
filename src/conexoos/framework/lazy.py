"""Modules imported on first use: a library that only some requests need (Stripe, Pillow, pypdf, ...) should
cost a worker neither start-up time nor memory until one of them comes.

A module names it as usual for type checkers and lazily at run time::

    if TYPE_CHECKING:
        import stripe
    else:
        stripe = lazy_module("stripe")

``stripe.StripeError`` then imports Stripe at the first attribute read (in an ``except`` clause too: the
clause's expression is evaluated only when an exception reaches it).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for the module ``name`` and imports it when one of its attributes is first read."""

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # copy, pickle and inspect probe these: no import for them
        module = importlib.import_module(self.__name__)  # thread-safe: the import system locks per module
        value = getattr(module, attribute)
        setattr(self, attribute, value)  # the next read is a plain attribute
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r}>"


def lazy_module(name: str) -> ModuleType:
    """A stand-in for the module ``name`` (dotted names work: ``"PIL.Image"``), imported at first use."""
    return LazyModule(name)
