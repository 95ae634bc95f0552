"""flask-framework's extension loader: ``<package>.<name>`` modules with optional ``init(db)``,
``register_routes(app)`` and ``register_blueprints(app)``. Installing packages at run time is not provided.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from types import ModuleType

from flask import current_app

from conexoos.compat.missing import module_getattr, not_provided

log = logging.getLogger("conexoos.compat")


def names(package: str) -> list[str]:
    """The modules and packages directly inside ``package`` (none when the project has no such package)."""
    try:
        found = importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name == package:
            return []
        raise
    return sorted(info.name for info in pkgutil.iter_modules(getattr(found, "__path__", [])))


def load(package: str, ext: str) -> ModuleType:
    """Import extension ``ext`` of ``package``."""
    importlib.import_module(package)
    return importlib.import_module(f"{package}.{ext}")


def reload(package: str, ext: str) -> ModuleType:
    """Import ``ext`` again and call its ``reload()`` when it has one."""
    module = importlib.reload(load(package, ext))
    again = getattr(module, "reload", None)
    if callable(again):
        again()
    return module


def modules_loader(package: str) -> list[ModuleType]:
    """Import every extension of ``package``."""
    return [load(package, name) for name in names(package)]


modules_reloader = modules_loader


def _call_each(package: str, function: str, argument: object) -> None:
    for name in names(package):
        module = load(package, name)
        hook = getattr(module, function, None)
        if callable(hook) and not (function == "init" and getattr(module, "loaded", False)):
            hook(argument)
            log.info("extension %s.%s: %s done", package, name, function)


def routes_loader(package: str, app: object) -> None:
    """Call ``register_routes(app)`` of each extension that has it."""
    _call_each(package, "register_routes", app)


def blueprints_loader(package: str, app: object) -> None:
    """Call ``register_blueprints(app)`` of each extension that has it."""
    _call_each(package, "register_blueprints", app)


def init_modules(package: str, db: object) -> None:
    """Call ``init(db)`` of each extension that has it and is not ``loaded`` yet."""
    _call_each(package, "init", db)


def load_all(package: str) -> None:
    """Import, initialise and route every extension of ``package`` on the current app."""
    from flask_framework.Database import Database  # the project's copy of the layer

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    modules_loader(package)
    init_modules(package, Database)
    routes_loader(package, app)
    blueprints_loader(package, app)


def module(name: str) -> ModuleType | None:
    """Import module ``name`` of the project; None (logged) when it does not exist."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        log.warning("extension module %s not found", name)
        return None


def installer(module_name: str) -> None:
    """Not provided: installing packages from a running server."""
    not_provided(
        "flask_framework.Extensions.loader",
        "installer",
        f"list {module_name}'s packages in your requirements and install them before start-up",
    )


__getattr__ = module_getattr("flask_framework.Extensions.loader", {})
