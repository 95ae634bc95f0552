"""Compile each of Werkzeug's URL builders once a test run instead of once per app.

Building the product's app compiles, for each of its ~150 URL rules, two small Python functions that
``url_for`` calls (``Rule._compile_builder``: an AST, then ``compile()``). That was three quarters of
``create_app`` (about 0.25 s of 0.35 s), and the suites build an app in nearly every test. The function
depends only on what the key below holds, and it is bound to its rule afterwards (``__get__``), so rules
that are alike in every app share one compiled function; the URLs built are the same. The tests'
apps are otherwise built exactly as in production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

Builder = Callable[..., tuple[str, str]]

_compile_builder = Rule._compile_builder
_compiled: dict[tuple[Any, ...], Builder] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple[Any, ...]:
    """Everything ``Rule._compile_builder`` reads: the rule's parsed parts (``_trace``), whether unknown
    arguments are appended as a query string, the names of its defaults, and the URL text of a default
    given for a part of the rule (computed in the compiled function as a constant)."""
    defaults = rule.defaults or {}
    constants = tuple(
        (name, rule._converters[name].to_url(defaults[name]))
        for is_dynamic, name in rule._trace
        if is_dynamic and name in defaults
    )
    return (rule.rule, tuple(rule._trace), append_unknown, tuple(str(name) for name in defaults), constants)


def _compile_once(self: Rule, append_unknown: bool = True) -> Builder:
    key = _key(self, append_unknown)
    builder = _compiled.get(key)
    if builder is None:
        builder = _compiled[key] = _compile_builder(self, append_unknown)
    return builder


def compile_url_builders_once() -> None:
    """Make every Rule made from now on in this process share compiled builders with its twins."""
    Rule._compile_builder = _compile_once  # type: ignore[method-assign]
