"""URL rules whose URL builders are compiled at their first use.

For every rule, Werkzeug generates the source of two Python functions that build its URL (with and
without the query string of unknown values) and compiles them when the rule is added: for Conexoos's
140 rules that is 0.7 MiB and about a tenth of the CPU of a worker's start, though a public page builds
the URLs of a handful of endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    """A Werkzeug rule that compiles each URL builder at its first call (``url_for``), not when added."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_builder = super()._compile_builder
        attribute = "_build_unknown" if append_unknown else "_build"

        def build_first(rule: Rule, **values: Any) -> tuple[str, str]:
            built = compile_builder(append_unknown).__get__(rule, None)
            setattr(rule, attribute, built)  # the next build is Werkzeug's own (two threads: both the same)
            return built(**values)

        return build_first
