"""Django's ``csrf_exempt`` for a view, view class or blueprint that checks its requests itself (a signed
webhook): a mark on that object, honoured by the framework's protection (``csrf.CSRFProtect``, the
product's too) and by a project's own Flask-WTF ``CSRFProtect`` (``csrf.honour_marks``), view by view.

The mark is read from the request's view at its check: a lazily registered blueprint
(:mod:`.lazy_blueprints`) is installed before it, so its own views are read, never the stand-ins. Flask-WTF
keys its own exemptions by coarser names (a view by ``module.function``, which two views of one module can
share); the mark is on the object itself. This module imports no Flask-WTF (``conexoos.framework`` exports
``csrf_exempt`` without loading it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Flask, current_app, request

EXEMPT_MARK = "conexoos_csrf_exempt"
"""The attribute :func:`csrf_exempt` sets on a view, view class or blueprint (kept by ``functools.wraps``)."""
Exemptible = TypeVar("Exemptible", bound=Callable[..., object] | Blueprint)


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
