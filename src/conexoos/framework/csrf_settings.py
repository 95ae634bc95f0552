"""Flask-WTF's settings under ``FLASK.CONFIG`` checked against ``SERVER_ENV.CSRF.ENABLED``, with the rest of
the configuration (``config check`` and every start): without importing Flask-WTF.

Flask-WTF reads ``WTF_CSRF_ENABLED`` and ``WTF_CSRF_CHECK_DEFAULT`` as true or false (``0``, ``''`` and
``null`` are false) and ``WTF_CSRF_METHODS`` as the exact, upper-case method names it checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header's name (RFC 9110's token)."""


def _misses_a_write(value: Any) -> bool:
    if not isinstance(value, list | tuple | set | frozenset):
        return True  # Flask-WTF's "in" on a string would match parts of it
    return not {method for method in value if isinstance(method, str)} >= WRITE_METHODS


UNCHECKED_BY: dict[str, Callable[[Any], bool]] = {
    "WTF_CSRF_ENABLED": lambda value: not value,
    "WTF_CSRF_CHECK_DEFAULT": lambda value: not value,
    "WTF_CSRF_METHODS": _misses_a_write,
}
"""Flask-WTF's settings that leave writes unchecked, each with the test of a value that does."""


def flask_wtf_problems(config: Mapping[str, Any], enabled: bool | None) -> list[str]:
    """What is wrong with Flask-WTF's settings in ``FLASK.CONFIG`` (``config``): one that leaves writes
    unchecked while ``SERVER_ENV.CSRF.ENABLED`` (``enabled``) is true, which would turn the protection off
    without a word (under null, a flask-framework project's ``WTF_CSRF_ENABLED: false`` is its way to turn
    it off), and a time limit that is not a whole number of seconds (every checked write would be a 500,
    or refused)."""
    problems = []
    if enabled is True:
        problems += [
            f"FLASK.CONFIG.{name}: {config[name]!r} leaves POST, PUT, PATCH or DELETE requests unchecked "
            "while SERVER_ENV.CSRF.ENABLED is true: remove it (or set SERVER_ENV.CSRF.ENABLED to false)"
            for name, unchecked in UNCHECKED_BY.items()
            if name in config and unchecked(config[name])
        ]
    problems += _token_place_problems(config)
    limit = config.get("WTF_CSRF_TIME_LIMIT")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        problems.append(
            f"FLASK.CONFIG.WTF_CSRF_TIME_LIMIT: {limit!r} is not valid; expected a whole number of seconds a "
            "token stays valid (0 or more), or null for as long as the session"
        )
    return problems


def _token_place_problems(config: Mapping[str, Any]) -> list[str]:
    """``WTF_CSRF_HEADERS`` as Flask-WTF reads it: names a header can have (one with a space, or an empty
    one, could never arrive). The ``FLASK.CONFIG`` table has made a list of a string (which Flask-WTF read
    letter by letter) and refused an empty ``WTF_CSRF_FIELD_NAME`` (any form field was read as the token);
    a value it refused is None here, said once, there."""
    headers = config.get("WTF_CSRF_HEADERS")
    if headers is None or all(isinstance(name, str) and HEADER_NAME.fullmatch(name) for name in headers):
        return []
    return [
        f"FLASK.CONFIG.WTF_CSRF_HEADERS: {headers!r} is not valid; expected a list of header names "
        "(such as [X-CSRFToken]), or [] for forms only"
    ]
