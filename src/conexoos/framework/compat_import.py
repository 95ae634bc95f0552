"""Serve ``flask_framework`` (flask-framework-mvc 1.1.x) from ``conexoos.compat.flask_framework``.

A project written for flask-framework imports it by name (``from flask_framework.Server import Process``).
When the real distribution is not installed, a :data:`sys.meta_path` finder loads our compatibility
modules under that name; they are not a top-level package of the wheel, so the two never clash. With the
real package installed, it is left alone and that is said once. A part of flask-framework the layer does
not provide fails on import with the name of the Conexoos equivalent.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from flask import Flask

from .config import Settings, load_settings

if TYPE_CHECKING:
    from .project import Project

log = logging.getLogger("conexoos.compat")

PACKAGE = "flask_framework"
DISTRIBUTION = "flask-framework-mvc"
COMPAT_ROOT = Path(__file__).resolve().parent.parent / "compat" / "flask_framework"
MISSING_MODULES = {
    "flask_framework.Task": "declare tasks in server/tasks.py (class Schedule) or use Process.add_task",
    "flask_framework.server": "run `conexoos run --project .`",
    "flask_framework.wsgi": "serve `conexoos.framework.wsgi:app` (or `conexoos serve --project .`)",
    "flask_framework.app": "run `conexoos run --project .`",
    "flask_framework.cli": "use the `conexoos` command (`conexoos --help`)",
    "flask_framework.azure": "nothing: Azure deployment helpers are not provided",
    "flask_framework.Server.Plugins": "load plugins from server/middleware.py",
    "flask_framework.Server.RequestHandler": "register before_request hooks in server/middleware.py",
    "flask_framework.Database.migration": "run `conexoos db upgrade` (Alembic migrations)",
    "flask_framework.Utils.module": "use `conexoos new` to scaffold a project",
    "flask_framework.Utils.utils": "use `conexoos new` to scaffold a project",
    "flask_framework.Utils.templates": "use `conexoos new` to scaffold a project",
}
_state = {"installed": False, "real_noted": False, "root": ""}


class CompatFinder:
    """Finds ``flask_framework`` and its submodules among the compatibility modules."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec loading the compatibility module for ``fullname`` under that very name, or None."""
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        if fullname in MISSING_MODULES:
            raise ModuleNotFoundError(
                f"{fullname} is not provided by Conexoos's flask-framework layer; "
                f"{MISSING_MODULES[fullname]}",
                name=fullname,
            )
        relative = Path(*fullname.split(".")[1:])
        package_init = COMPAT_ROOT / relative / "__init__.py"
        if package_init.is_file():
            return importlib.util.spec_from_file_location(
                fullname, package_init, submodule_search_locations=[str(package_init.parent)]
            )
        module_file = (COMPAT_ROOT / relative).with_suffix(".py")
        if module_file.is_file():
            return importlib.util.spec_from_file_location(fullname, module_file)
        raise ModuleNotFoundError(
            f"{fullname} is not provided by Conexoos's flask-framework layer (it serves Server, Database, "
            "Config, Utils.Auth, Extensions and Controllers.Web)",
            name=fullname,
        )


def real_package_installed() -> bool:
    """Whether the real flask-framework-mvc distribution is installed."""
    try:
        importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def install(root: Path) -> None:
    """Serve ``flask_framework`` to the project at ``root`` (a fresh copy when the project changes)."""
    if real_package_installed():
        if not _state["real_noted"]:
            log.info(
                "%s is installed: projects importing flask_framework use it, not Conexoos's layer",
                DISTRIBUTION,
            )
            _state["real_noted"] = True
        return
    if not _state["installed"]:
        sys.meta_path.append(CompatFinder)
        _state["installed"] = True
    if _state["root"] != str(root):
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]  # the previous project's copy, with its state
        _state["root"] = str(root)


def in_use(project: Project) -> bool:
    """Whether ``project`` imported our ``flask_framework`` (rather than the real one, or none): only a
    folder project the layer was installed for (:func:`install`) can, not a package project such as the
    product, even in a process that loaded a flask-framework project before (its copy stays imported)."""
    if project.package or _state["root"] != str(project.root):
        return False
    module = sys.modules.get(PACKAGE)
    return module is not None and getattr(module, "__conexoos_compat__", False)


def attach(app: Flask, project: Project) -> None:
    """After the project is loaded: give a project that uses the layer what flask-framework gave it."""
    if not in_use(project):
        return
    from conexoos.compat.runtime import attach_app  # only for projects that use the layer

    attach_app(app)


def default_error_pages(app: Flask, project: Project, error: ImportError) -> bool:
    """flask-framework's fallback when a project's error handler module fails to import what it names: log
    a warning and use flask-framework's default pages (the welcome page at ``/``, ``40x.html``,
    ``50x.html``). False (nothing done) for a project that does not use the layer: the error stands."""
    if not in_use(project):
        return False
    from flask_framework.Controllers.Web import HTTP40XController, HTTP50XController

    log.warning(
        "server error handler failed (%s: %s); using flask-framework's default error pages, as it did",
        type(error).__name__,
        error,
    )
    app.register_error_handler(404, HTTP40XController.page_or_error404)
    app.register_error_handler(500, HTTP50XController.error500)
    return True


_early: dict[str, Any] = {}


def expect_config(config: Any, overrides: dict[str, Any] | None) -> None:
    """Remember the configuration ``create_app`` is about to load: a flask-framework project may read
    ``Environment`` while its modules are imported, before the app exists (see :func:`early_settings`)."""
    _early.clear()
    _early.update(config=config, overrides=overrides)


def early_settings() -> Settings | None:
    """The configuration of the app being created, read once without the project's own sections; None
    outside ``create_app``."""
    if "config" not in _early:
        return None
    if "settings" not in _early:
        config = _early["config"]
        _early["settings"] = (
            config
            if isinstance(config, Settings)
            else load_settings(config, overrides=_early["overrides"], report_warnings=False)
        )
    settings: Settings = _early["settings"]
    return settings
