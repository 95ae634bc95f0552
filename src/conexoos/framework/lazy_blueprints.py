"""Blueprints registered from their recorded URL rules, whose module is imported at their first request.

A worker serving public pages should not import the code of the settings, admin or login pages (their
views, controllers, forms) until one of them is asked for. Flask needs a blueprint's URL rules at
registration (``url_for``, ``flask routes``, the 404/405 answers); everything else it needs only when a
request reaches the blueprint. So a :class:`LazyBlueprint` carries its rules, written into a route table
module by ``python -m conexoos.framework.lazy_blueprints TABLE_MODULE`` from the blueprints themselves,
and :func:`register_blueprints` adds them with stand-in views. At the first request to one of its URLs,
the blueprint's own URL value preprocessor (Flask runs those before any ``before_request`` function)
imports the module and installs the real blueprint as Flask's registration would have: its views, its
``before_request``/``after_request``/teardown functions, its error handlers. Every hook of the app that
looks at the request's view or blueprint (CSRF exemptions, rate limits, ``session_optional``, roles) then
sees the real ones, as if the blueprint had been imported with the app.

Code that looks at the view or blueprint of another endpoint than the request's (a 405's allowed route)
calls :func:`load_blueprint` first, and so does code that wraps a view at start-up and reads its marks
(a wrapper of a stand-in is kept, and reaches the real view through it). Only a blueprint whose
registration adds nothing but URL rules can be lazy: one with app-wide functions
(``before_app_request``, ``app_template_global``...), URL defaults or value preprocessors, static or
template folders, CLI commands or nested blueprints is refused by :func:`record_blueprint`, and must be
imported with the app.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app
from flask.typing import ResponseReturnValue
from werkzeug.local import LocalProxy

from .signals import blueprint_installed

EXTENSION = "conexoos.lazy_blueprints"
URL_RULE_LAMBDA = "Blueprint.add_url_rule.<locals>.<lambda>"
"""The qualified name of the function Flask's ``Blueprint.add_url_rule`` records: a blueprint whose
deferred functions are all of it only adds URL rules when it is registered."""
VIEW_ATTRIBUTES = ("methods", "required_methods", "provide_automatic_options")
"""Attributes of a view that ``Flask.add_url_rule`` reads (class-based views): a stand-in would lack them."""
RuleRecord = tuple[str, str, dict[str, Any]]
"""``(rule, endpoint, keyword arguments)`` as the blueprint's registration passes them to
``Flask.add_url_rule``."""


class NotLazyError(ValueError):
    """A blueprint's registration does more than add URL rules: it cannot be registered lazily."""


class StaleRouteTableError(RuntimeError):
    """A blueprint's rules differ from those its route table recorded."""


@dataclass(frozen=True)
class LazyBlueprint:
    """A blueprint known by its module's ``module:attribute`` reference and the rules it registers."""

    reference: str
    name: str
    rules: tuple[RuleRecord, ...]
    table: str = ""
    """The route table module that holds it (named in the error when its rules went stale)."""

    def load(self) -> Blueprint:
        """Import the blueprint's module and return the blueprint."""
        module_name, _, attribute = self.reference.partition(":")
        blueprint = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(blueprint, Blueprint) or blueprint.name != self.name:
            raise StaleRouteTableError(
                f"{self.reference} is not the blueprint {self.name!r}; {_fix(self.table)}"
            )
        return blueprint


@dataclass
class _Pending:
    """An app's lazy blueprints whose module is not installed yet, by name."""

    blueprints: dict[str, LazyBlueprint] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stand_ins: dict[str, Callable[..., ResponseReturnValue]] = field(default_factory=dict)
    views: dict[str, Callable[..., ResponseReturnValue]] = field(default_factory=dict)
    """The installed blueprints' real views by endpoint, which their stand-ins call."""


def register_blueprints(app: Flask, blueprints: Iterable[Blueprint | LazyBlueprint]) -> None:
    """Register each blueprint in order: a :class:`Blueprint` at once, a :class:`LazyBlueprint` by its
    rules (its module is imported at the first request to one of them)."""
    for blueprint in blueprints:
        if isinstance(blueprint, LazyBlueprint):
            _register_lazily(app, blueprint)
        else:
            app.register_blueprint(blueprint)


def _register_lazily(app: Flask, lazy: LazyBlueprint) -> None:
    pending: _Pending = app.extensions.setdefault(EXTENSION, _Pending())
    pending.blueprints[lazy.name] = lazy
    stand_in = Blueprint(lazy.name, lazy.reference.partition(":")[0], root_path=app.root_path)
    # Flask gives every blueprint its default context processor: the real one adds it when installed.
    stand_in.template_context_processors.clear()

    @stand_in.url_value_preprocessor
    def install(endpoint: str | None, values: dict[str, Any] | None) -> None:  # before any before_request
        if lazy.name in pending.blueprints:
            load_blueprint(current_app, lazy.name)

    app.register_blueprint(stand_in)
    for rule, endpoint, options in lazy.rules:
        view = pending.stand_ins.setdefault(endpoint, _stand_in_view(pending, lazy.name, endpoint))
        app.add_url_rule(rule, endpoint, view, **options)


def _stand_in_view(pending: _Pending, name: str, endpoint: str) -> Callable[..., ResponseReturnValue]:
    """A view that installs the blueprint and calls the real view: for a call that did not come through
    Flask's preprocessing (``app.view_functions[endpoint]`` called directly, or wrapped by code that ran
    before the blueprint was installed: the wrapper is kept, and calls the real view through this)."""

    def stand_in(**values: Any) -> ResponseReturnValue:
        load_blueprint(current_app, name)
        return current_app.ensure_sync(pending.views[endpoint])(**values)

    stand_in.__name__ = endpoint.rpartition(".")[2]
    stand_in.__qualname__ = f"lazy:{endpoint}"
    return stand_in


def load_blueprint(app: Flask, name: str) -> Blueprint | None:
    """The blueprint registered as ``name`` (None if none is), its module imported and installed first
    if it was registered lazily."""
    pending: _Pending | None = app.extensions.get(EXTENSION)
    if pending is not None and name in pending.blueprints:
        with pending.lock:  # two threads' first requests: one installs, the other waits for it
            lazy = pending.blueprints.get(name)
            if lazy is not None:
                _install(app, lazy)
                del pending.blueprints[name]
    blueprint = app.blueprints.get(name)
    return blueprint if isinstance(blueprint, Blueprint) else None


def load_all_blueprints(app: Flask) -> None:
    """Install every lazily registered blueprint of ``app`` (for code that needs all views)."""
    pending: _Pending | None = app.extensions.get(EXTENSION)
    for name in list(pending.blueprints if pending is not None else ()):
        load_blueprint(app, name)


def _install(app: Flask, lazy: LazyBlueprint) -> None:
    """What ``Blueprint.register`` does for the real blueprint, without adding its rules again."""
    pending: _Pending = app.extensions[EXTENSION]
    blueprint = lazy.load()
    recorded = _recorded_rules(blueprint)
    if [(rule, endpoint, options) for rule, endpoint, options, _ in recorded] != list(lazy.rules):
        raise StaleRouteTableError(f"the rules of {lazy.reference} changed; {_fix(lazy.table)}")
    app.blueprints[lazy.name] = blueprint
    blueprint._got_registered_once = True  # as registration does: no route may be added to it later
    blueprint._merge_blueprint_funcs(app, lazy.name)  # Flask's own merge of hooks and error handlers
    for _, endpoint, _, view in recorded:
        pending.views[endpoint] = view
        if app.view_functions.get(endpoint) is pending.stand_ins[endpoint]:  # else a wrapper, kept
            app.view_functions[endpoint] = view
    # The app itself, not current_app's proxy (blinker tells senders apart by their identity).
    sender = app._get_current_object() if isinstance(app, LocalProxy) else app
    blueprint_installed.send(sender, blueprint=blueprint)


def record_blueprint(reference: str, table: str = "") -> LazyBlueprint:
    """Import the blueprint ``module:attribute`` and record its rules; NotLazyError when registering it
    does more than add rules."""
    module_name, _, attribute = reference.partition(":")
    blueprint = getattr(importlib.import_module(module_name), attribute)
    _check_lazy(reference, blueprint)
    rules = tuple((rule, endpoint, options) for rule, endpoint, options, _ in _recorded_rules(blueprint))
    return LazyBlueprint(reference, blueprint.name, rules, table)


def _check_lazy(reference: str, blueprint: Blueprint) -> None:
    others = [
        function for function in blueprint.deferred_functions if function.__qualname__ != URL_RULE_LAMBDA
    ]
    reasons = {
        "registers app-wide functions (before_app_request, app_template_global, record...)": others,
        "has URL defaults or value preprocessors": blueprint.url_default_functions
        or blueprint.url_value_preprocessors,
        "has a static or template folder": blueprint.has_static_folder or blueprint.template_folder,
        "has CLI commands": blueprint.cli.commands,
        "has nested blueprints": blueprint._blueprints,
    }
    for reason, present in reasons.items():
        if present:
            raise NotLazyError(f"{reference} {reason}: register it with the app, not lazily")


class _RuleRecorder:
    """Stands for the app in a blueprint's setup state: keeps the rules instead of adding them."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, str, dict[str, Any], Callable[..., Any]]] = []

    def add_url_rule(self, rule: str, endpoint: str, view_func: Callable[..., Any], **options: Any) -> None:
        present = [name for name in VIEW_ATTRIBUTES if hasattr(view_func, name)]
        if present:
            raise NotLazyError(f"the view of {endpoint} has {', '.join(present)}: a stand-in view would not")
        self.rules.append((rule, endpoint, options, view_func))


def _recorded_rules(blueprint: Blueprint) -> list[tuple[str, str, dict[str, Any], Callable[..., Any]]]:
    """Every rule the blueprint's registration would add, with its view, in order."""
    recorder = _RuleRecorder()
    state = blueprint.make_setup_state(recorder, {}, first_registration=True)  # type: ignore[arg-type]
    for deferred in blueprint.deferred_functions:
        if deferred.__qualname__ == URL_RULE_LAMBDA:
            deferred(state)
    return recorder.rules


def _fix(table: str) -> str:
    return f"run: python -m conexoos.framework.lazy_blueprints {table or 'TABLE_MODULE'}"


TABLE_HEADER = '''"""{title}

Generated from the blueprints by
``python -m conexoos.framework.lazy_blueprints {table}``
(then ``ruff format``): run it again after changing their routes (a test fails until then). To make a
blueprint lazy, add an entry with its reference and no rules, then run it.
"""

from conexoos.framework.lazy_blueprints import LazyBlueprint

TABLE = {table!r}
'''


def route_table_source(table: str) -> str:
    """The source of the route table module ``table``, its blueprints' rules recorded afresh."""
    module = importlib.import_module(table)
    title = (module.__doc__ or "Lazily registered blueprints.").strip().splitlines()[0]
    lines = [TABLE_HEADER.format(title=title, table=table), "BLUEPRINTS = {"]
    for lazy in module.BLUEPRINTS.values():
        recorded = record_blueprint(lazy.reference, table)
        lines.append(f"    {recorded.name!r}: LazyBlueprint(")
        lines.append(f"        {recorded.reference!r},")
        lines.append(f"        {recorded.name!r},")
        lines.append("        (")
        lines.extend(f"            {rule!r}," for rule in recorded.rules)
        lines.append("        ),")
        lines.append("        TABLE,")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_route_table(table: str) -> Path:
    """Rewrite the route table module ``table`` with its blueprints' current rules."""
    source = route_table_source(table)
    path = Path(str(importlib.import_module(table).__file__))
    path.write_text(source, encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m conexoos.framework.lazy_blueprints TABLE_MODULE")
    print(f"wrote {write_route_table(sys.argv[1])}")
