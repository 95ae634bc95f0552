"""``${VAR}`` and ``${VAR:-default}`` substitution inside configuration strings.

``$${`` stands for a literal ``${``. Substitution walks dicts and lists and only touches strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Substitution:
    """The outcome of substituting one configuration tree."""

    value: Any
    missing: list[str] = field(default_factory=list)
    whole: set[str] = field(default_factory=set)
    """Key paths whose string was a single ``${...}`` expression (its type may be inferred)."""


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
    if match and match.group(0) != "$${":
        result.whole.add(path)

    def replace(found: re.Match[str]) -> str:
        if found.group(0) == "$${":
            return "${"
        name, default = found.group(1), found.group(2)
        value = environ.get(name)
        if value is not None and (value != "" or default is None):
            return value
        if default is not None:
            return default
        if name not in result.missing:
            result.missing.append(name)
        return ""

    return _TOKEN.sub(replace, text)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)
