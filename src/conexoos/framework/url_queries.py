"""A database URL's query whose ``=`` or ``&`` is written percent-encoded (``?sslmode%3Drequire``,
``?connect_timeout=5%26sslmode=require``).

SQLAlchemy splits a query on the ``&`` and ``=`` written as such, then decodes: ``sslmode%3Drequire`` is
a name without a value, which it drops, and ``5%26sslmode=require`` one value. Either way, the setting the
operator meant never reaches the driver, and nothing says so; ``config check`` and start refuse it here,
whatever the driver.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url

from .redaction import redact_credentials

_A_FURTHER_PARAMETER = re.compile(r"&[^&=]+=")
"""``&name=`` inside a decoded value: a parameter joined to the one before by a ``%26``."""
_NAMES = re.compile(r"(?:^|&)([^&=]+)(?=[=&]|$)")
"""The parameter names in ``name=value&name=value`` (a bare ``name`` too)."""


def encoded_separator_problem(url: str) -> str | None:
    """Why the query of ``url`` would not give the driver what it says (an ``=`` or ``&`` in it written
    percent-encoded), with the query to write instead; None when SQLAlchemy reads it as written."""
    query = make_url(url, keep_blank_values=True).query  # as SQLAlchemy parses it, keeping what it drops
    pieces = [(name, value) for name, values in query.items() for value in _listed(values)]
    encoded = sorted({written for name, value in pieces for written in _encoded(name, value)})
    if not encoded:
        return None
    names = ", ".join(
        dict.fromkeys(
            found for name, value in pieces if _encoded(name, value) for found in _names(name, value)
        )
    )
    meant = "&".join(_meant(name, value) for name, value in pieces)
    return (
        f"the query writes {names} with {' and '.join(encoded)}, which SQLAlchemy does not read as a "
        f"separator: the driver would not get {names} as meant; write ?{meant}"
    )


def _meant(name: str, value: str) -> str:
    """``name=value`` as the operator meant it, a password in it hidden: the message is shown and logged."""
    return redact_credentials(f"{name}={value}" if value else name)


def _names(name: str, value: str) -> list[str]:
    """The parameter names in ``name=value`` read as meant (``sslmode`` of ``sslmode%3Drequire``)."""
    return _NAMES.findall(f"{name}={value}" if value else name)


def _listed(values: str | tuple[str, ...]) -> tuple[str, ...]:
    """A parameter's values: SQLAlchemy keeps one given twice as a tuple."""
    return (values,) if isinstance(values, str) else values


def _encoded(name: str, value: str) -> list[str]:
    """The separators written percent-encoded in ``name`` and ``value`` (both decoded): an ``=`` or ``&``
    in a name, or ``&name=`` in a value (an ``=`` alone in a value is the value's: ``options=-c x%3Dy``)."""
    found = ["'=' as %3D"] if "=" in name else []
    if "&" in name or _A_FURTHER_PARAMETER.search(value):
        found.append("'&' as %26")
    return found
