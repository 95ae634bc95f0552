"""flask-framework's extensions: packages under the project's ``extensions`` folder (see ``loader``)."""

from __future__ import annotations

from conexoos.compat.missing import module_getattr

from . import loader

PACKAGE = "extensions"


class Loader:
    """Import every extension, call its ``init(db)``, ``register_routes(app)`` and
    ``register_blueprints(app)`` (each optional)."""

    _loaded = False

    @classmethod
    def load(cls) -> None:
        """Load the extensions once."""
        loader.load_all(PACKAGE)
        cls._loaded = True

    reload = load

    @classmethod
    def loaded(cls) -> bool:
        """Whether :meth:`load` ran."""
        return cls._loaded


def all() -> list[str]:
    """The names of the project's extensions."""
    return loader.names(PACKAGE)


def load() -> None:
    """Load the project's extensions (once)."""
    if not Loader.loaded():
        Loader.load()


__getattr__ = module_getattr("flask_framework.Extensions", {})
