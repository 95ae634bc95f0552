"""``${VAR}`` and ``${VAR:-default}`` substitution inside configuration strings.

``$${`` stands for a literal ``${``. Substitution walks dicts and lists and only touches strings. Any
other ``${`` that is no such expression (``${VAR`` with its brace missing, ``${VAR:default}``, ``${1X}``)
is recorded in :attr:`Substitution.malformed`: kept as written, it would be a value no one meant, such as a
secret key that is the text ``${APP_KEY``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|(\$\{)")


@dataclass
class Substitution:
    """The outcome of substituting one configuration tree."""

    value: Any
    missing: list[str] = field(default_factory=list)
    whole: set[str] = field(default_factory=set)
    """Key paths whose string was a single ``${...}`` expression (its type may be inferred)."""
    malformed: list[str] = field(default_factory=list)
    """Key paths whose string holds a ``${`` that starts no ``${VAR}`` or ``${VAR:-default}``."""
    hints: dict[str, str] = field(default_factory=dict)
    """For each malformed path, what its ``${`` most likely lacks (its value is not repeated: a secret?)."""
    variables: dict[str, list[str]] = field(default_factory=dict)
    """For each key path, the environment variables whose values its string took (to name them when the
    value is refused: the mistake is in the environment, not in the file)."""
    unset: dict[str, list[str]] = field(default_factory=dict)
    """For each key path, the environment variables its string names that are not set (read as empty)."""


def substitute(tree: Any, environ: Mapping[str, str]) -> Substitution:
    """Return ``tree`` with every ``${...}`` replaced from ``environ``."""
    result = Substitution(value=None)
    result.value = _walk(tree, environ, result, path="")
    return result


def _walk(node: Any, environ: Mapping[str, str], result: Substitution, path: str) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value, environ, result, _join(path, key)) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(item, environ, result, f"{path}[{index}]") for index, item in enumerate(node)]
    if isinstance(node, str):
        return _substitute_string(node, environ, result, path)
    return node


def _substitute_string(text: str, environ: Mapping[str, str], result: Substitution, path: str) -> str:
    match = _TOKEN.fullmatch(text)
    if match and match.group(1):
        result.whole.add(path)

    def malformed(hint: str) -> str:
        if path not in result.malformed:
            result.malformed.append(path)
            result.hints[path] = hint
        return "${"

    def replace(found: re.Match[str]) -> str:
        if found.group(0) == "$${":
            return "${"
        if found.group(3):
            return malformed(_hint(text[found.start() :]))
        name, default = found.group(1), found.group(2)
        if default is not None and _NESTED.search(default):  # ${A:-${B}}: the regex stops at B's brace
            return malformed(f"the default of ${{{name}}} holds another ${{...}}, which is not substituted")
        value = environ.get(name)
        if value is not None and (value != "" or default is None):
            used = result.variables.setdefault(path, [])
            if name not in used:
                used.append(name)
            return value
        if default is not None:
            return default
        if name not in result.missing:
            result.missing.append(name)
        unset = result.unset.setdefault(path, [])
        if name not in unset:
            unset.append(name)
        return ""

    return _TOKEN.sub(replace, text)


_NESTED = re.compile(r"(?<!\$)\$\{")
_WITHOUT_DASH = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):[^-]")


def _hint(rest: str) -> str:
    """What the ``${`` at the start of ``rest`` lacks, said without its value."""
    without_dash = _WITHOUT_DASH.match(rest)
    if without_dash:
        name = without_dash.group(1)
        return f"the - is missing: write ${{{name}:-default}} for a default"
    if "}" not in rest:
        return "a closing brace missing?"
    return "a variable's name is letters, digits and _, not starting with a digit"


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
