"""Route targets resolved when the app is made, not at their first request.

``add_url_rule`` keeps whatever it is given as the view: a dotted string (``"controllers.web.home"``) or
an object that is no function answered its first request with a 500 (``'str' object is not callable``).
Here a string is imported and replaced by the function it names (``package.module.function``, a class's
method ``package.module.Class.method``, or ``package.module:function``), and a target that names nothing
callable stops start-up with a :class:`ProjectError` naming the route and the target.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from flask import Flask

from .errors import ProjectError
from .project import import_project_module, module_exists

TARGET_FORMS = "give the function itself, or a dotted path to it (package.module.function)"


def resolve_route_targets(app: Flask) -> None:
    """Replace each view named by a dotted string with the function it names; a :class:`ProjectError` for
    one that names nothing callable."""
    for endpoint, view in list(app.view_functions.items()):
        if callable(view):
            continue
        problem = _not_callable(view) if not isinstance(view, str) else None
        if problem is None:
            resolved, problem = _resolve(view)
            if problem is None and not callable(resolved):
                problem = f"it names {_kind(resolved)}, which is not callable"
            if problem is None:
                app.view_functions[endpoint] = resolved
                continue
        raise ProjectError(
            f"{_routes_of(app, endpoint)} (endpoint {endpoint!r}) has the view {view!r}: {problem}; "
            + TARGET_FORMS
        )


def _resolve(target: str) -> tuple[Any, str | None]:
    """The object the dotted path ``target`` names, or the reason it names none."""
    module_part, colon, attribute_part = target.partition(":")
    parts = module_part.split(".")
    attributes = attribute_part.split(".") if colon else []
    if not all(part.isidentifier() for part in [*parts, *attributes]):
        return None, "it is no dotted path of Python names"
    if not module_exists(parts[0]):
        return None, f"there is no module {parts[0]!r}"
    found: Any = import_project_module(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        name = ".".join(parts[: index + 1])
        if isinstance(found, ModuleType) and module_exists(name):
            found = import_project_module(name)
        elif colon or not hasattr(found, part):
            return None, _missing(found, ".".join(parts[:index]), part)
        else:
            found = getattr(found, part)
    for index, part in enumerate(attributes):
        if not hasattr(found, part):
            return None, _missing(found, ".".join([module_part, *attributes[:index]]), part)
        found = getattr(found, part)
    return found, None


def _missing(owner: object, path: str, part: str) -> str:
    kind = "module" if isinstance(owner, ModuleType) else "class" if isinstance(owner, type) else "object"
    return f"{kind} {path} has no attribute {part!r}"


def _not_callable(view: object) -> str:
    return f"it is {_kind(view)}, which is not callable"


def _kind(value: object) -> str:
    # "an object of type int": a type's name after "a" reads wrongly as often as not ("a int", "a object").
    return "a module" if isinstance(value, ModuleType) else f"an object of type {type(value).__name__}"


def _routes_of(app: Flask, endpoint: str) -> str:
    rules = [rule.rule for rule in app.url_map.iter_rules(endpoint)]
    return f"the route {', '.join(rules)}" if rules else "a view function"
