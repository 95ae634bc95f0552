"""Django's ``csrf_exempt`` for a view, view class or blueprint that checks its requests itself (a signed
webhook), honoured by the framework's protection (``csrf.CSRFProtect``) and by a project's own Flask-WTF
``CSRFProtect`` (``app.extensions["csrf"]``), which knows nothing of the mark: :func:`lend_exemptions`
hands the marks over.

Flask-WTF keeps its exemptions in its instance, by keys coarser than the mark: a view by its dotted name
(``module.function``: every lambda of a module has the same one) and a blueprint by its object (exempt
under every name it is registered as). A mark is handed over only by a key that exempts no view left
unmarked; a marked view no key can exempt alone stays checked (a 400, never an unchecked write), named in
one warning. A lazily registered blueprint (:mod:`.lazy_blueprints`) is read when its module is installed,
before its first request's CSRF check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import flask_wtf.csrf
from flask import Blueprint, Flask, current_app, request

from .signals import blueprint_installed

log = logging.getLogger("conexoos.csrf")
EXEMPT_MARK = "conexoos_csrf_exempt"
"""The attribute :func:`csrf_exempt` sets on a view, view class or blueprint (kept by ``functools.wraps``)."""
Exemptible = TypeVar("Exemptible", bound=Callable[..., object] | Blueprint)
_UNLENT = "conexoos_csrf_unlent"
"""``app.extensions`` key: the marked endpoints already named in a warning (each is named once)."""
NOT_EXEMPT = (
    "%s sets up its own CSRF protection (%s), which cannot exempt these views marked by csrf_exempt alone, "
    "so they stay checked (a request without a token is refused): %s. A Flask-WTF CSRFProtect knows a view "
    "by its module and function name, which another view shares or may share (every lambda of a module "
    "has the same), and a blueprint by its object, exempt under every name it is registered as; another "
    "protection does not read the mark. Give each such view a name of its own, or exempt it with that "
    "protection's own means"
)


def csrf_exempt(target: Exemptible) -> Exemptible:
    """Leave ``target`` (a view function, a view class, or a blueprint and every blueprint inside it)
    out of the CSRF check, for requests it authenticates itself (a webhook's signature). A decorator."""
    setattr(target, EXEMPT_MARK, True)
    return target


def is_exempt_request() -> bool:
    """Whether the current request's view, its view class or one of its blueprints is marked by
    :func:`csrf_exempt`."""
    return is_exempt_endpoint(current_app, request.endpoint or "")


def is_exempt_endpoint(app: Flask, endpoint: str) -> bool:
    """Whether ``endpoint``'s view, its view class or one of its blueprints (the one it is in, and each
    one around that) is marked by :func:`csrf_exempt`."""
    view = app.view_functions.get(endpoint)
    if view is not None and (
        getattr(view, EXEMPT_MARK, False) or getattr(getattr(view, "view_class", None), EXEMPT_MARK, False)
    ):
        return True
    return any(getattr(app.blueprints.get(name), EXEMPT_MARK, False) for name in _blueprint_names(endpoint))


def _blueprint_names(endpoint: str) -> list[str]:
    """The blueprints ``endpoint`` is in, innermost first (``a.b.view``: ``a.b``, ``a``), as Flask's
    ``request.blueprints``."""
    name = endpoint.rpartition(".")[0]
    names = []
    while name:
        names.append(name)
        name = name.rpartition(".")[0]
    return names


def lend_exemptions(app: Flask) -> None:
    """Have ``app``'s own Flask-WTF ``CSRFProtect`` exempt what :func:`csrf_exempt` marks: now, and for a
    lazily registered blueprint when it is installed."""
    _lend(app)
    blueprint_installed.connect(_lend, app)


def _lend(app: Flask, **_details: Any) -> None:
    """Exempt each marked endpoint in ``app``'s own protection; warn once of those it cannot exempt."""
    own = app.extensions["csrf"]
    marked = [endpoint for endpoint in app.view_functions if is_exempt_endpoint(app, endpoint)]
    unlent = [endpoint for endpoint in marked if not _lend_one(app, own, endpoint)]
    warned: set[str] = app.extensions.setdefault(_UNLENT, set())
    new = [endpoint for endpoint in unlent if endpoint not in warned]
    if new:
        warned.update(new)
        log.warning(NOT_EXEMPT, app.name, type(own).__name__, ", ".join(sorted(new)))


def _lend_one(app: Flask, own: object, endpoint: str) -> bool:
    """Exempt ``endpoint`` in ``own`` by its blueprint or else its view's dotted name, whichever exempts
    only marked endpoints; False when neither does (or ``own`` is no Flask-WTF protection)."""
    if not isinstance(own, flask_wtf.csrf.CSRFProtect):
        return False
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
    if blueprint is not None and _only_marked(app, lambda other: _blueprint_of(app, other) is blueprint):
        own.exempt(blueprint)
        return True
    key = _dotted_name(app.view_functions[endpoint])
    if not key.endswith(".<lambda>") and _only_marked(
        app, lambda other: _dotted_name(app.view_functions[other]) == key
    ):
        own.exempt(key)
        return True
    return False


def _only_marked(app: Flask, covered: Callable[[str], bool]) -> bool:
    """Whether every endpoint of ``app`` that ``covered`` says a key exempts is marked."""
    return all(is_exempt_endpoint(app, endpoint) for endpoint in app.view_functions if covered(endpoint))


def _blueprint_of(app: Flask, endpoint: str) -> object:
    """The blueprint Flask-WTF looks ``endpoint`` up by: the one it is directly in (None for none)."""
    return app.blueprints.get(endpoint.rpartition(".")[0])


def _dotted_name(view: Callable[..., Any]) -> str:
    """A view's key among Flask-WTF's exempt views."""
    return f"{view.__module__}.{view.__name__}"
