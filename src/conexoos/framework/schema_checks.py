"""A project's ``SCHEMA`` checked before anything reads it: each declaration is a :class:`Key`, an
:class:`Entries` or a section (a mapping of them), of a kind the framework knows, and each default is a
value its own key accepts. A mistake is a line naming the key, not a traceback on the first start that
reads it, nor a default no configuration could have given.
"""

from __future__ import annotations

from .config import check_value
from .schema import Entries, Key, Schema

KINDS = ("str", "int", "bool", "choice", "dict", "list")
"""The kinds a :class:`Key` may be."""


def declaration_problems(declared: Schema, prefix: str) -> list[str]:
    """One line per mistake in the declarations of the section at ``prefix`` (``APP``...)."""
    problems: list[str] = []
    for name, spec in declared.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{prefix}: {name!r} is no key name; name keys with text, e.g. MODE")
            continue
        path = f"{prefix}.{name}"
        if isinstance(spec, Key):
            problems += _key_problems(spec, path)
        elif isinstance(spec, Entries):
            problems += _entries_problems(spec, path)
        elif isinstance(spec, dict):
            problems += declaration_problems(spec, path)
        else:
            problems.append(
                f"{path}: {spec!r} is no declaration; declare a Key, an Entries or a mapping of them"
            )
    return problems


def _key_problems(key: Key, path: str) -> list[str]:
    shape = _shape_problem(key)
    if shape:
        return [f"{path}: {shape}"]
    if key.default is None or (key.required and key.default == ""):
        return []  # None: the key's value when absent; a required key needs no usable default
    if check_value(key.default, key, path).problems:
        return [f"{path}: its default {key.default!r} is not valid; expected {key.expectation()}"]
    return []


def _shape_problem(key: Key) -> str | None:
    """What is wrong with ``key``'s own arguments, before its default is tried."""
    if key.kind not in KINDS:
        return f"kind {key.kind!r} is not one of {', '.join(KINDS)}"
    if key.kind == "choice" and (
        not isinstance(key.choices, (tuple, list))
        or not key.choices
        or not all(isinstance(c, str) for c in key.choices)
    ):
        return "a choice needs its choices as a tuple of strings, e.g. choices=('live', 'test')"
    if (key.minimum is not None or key.maximum is not None) and key.kind != "int":
        return f"minimum and maximum bound an int key, not a {key.kind} one"
    if key.minimum is not None and key.maximum is not None and key.minimum > key.maximum:
        return f"its minimum {key.minimum} is above its maximum {key.maximum}"
    if key.convert is not None and not callable(key.convert):
        return f"convert is {key.convert!r}; give a function that returns the value or raises ValueError"
    if key.kind == "bool" and key.default is not None and not isinstance(key.default, bool):
        return f"its default {key.default!r} is not True or False"
    return None


def _entries_problems(entries: Entries, path: str) -> list[str]:
    if not isinstance(entries.shape, dict):
        return [f"{path}: the shape of its entries is {entries.shape!r}; give a mapping of keys"]
    problems = declaration_problems(entries.shape, f"{path}.<{entries.label}>")
    if not isinstance(entries.required, (tuple, list)) or not all(
        isinstance(n, str) for n in entries.required
    ):
        problems.append(f"{path}: required names the ids that must exist, as a tuple of strings")
    if problems or not entries.default:
        return problems
    refused = check_value(dict(entries.default), entries, path).problems
    if refused:
        problems.append(f"{path}: its default entries are not valid ({refused[0]})")
    return problems
