"""A database URL's query with an item SQLAlchemy would not pass on as written: a value without a name
(``?=require``), a name without ``=`` (``?sslmode``), a name with an empty value (``?sslmode=``), or
one that holds a percent-encoded ``=`` or ``&``, once or more (``?sslmode%3Drequire``,
``?sslmode%253Drequire``, ``?%26sslmode=require``).

SQLAlchemy splits a query on the ``&`` written as such, each item on its first ``=`` written as such, then
decodes once: ``sslmode`` and ``sslmode%3Drequire`` are names without a value, which it drops (as it does
``sslmode%3Drequire`` of ``sslmode%253Drequire``), ``sslmode=`` a name with an empty value, which it drops
too (Python's ``parse_qsl`` keeps no blank value), and ``%26sslmode`` a name no driver knows. The setting
the operator meant never reaches the driver (no TLS where ``sslmode`` was to be set, perhaps by a
``${VAR}`` left unset), and nothing says so; ``config check`` and start refuse it here, whatever the
driver. A value's encoded ``=`` or ``&`` is the value's own (``password=Tr0ub%26dor%3D42x``,
``options=-c%20search_path%3Dlinks``): it is taken as written, and a driver's own checks judge it (libpq
refuses ``connect_timeout=5%26sslmode=require``, not a number).
"""

from __future__ import annotations

from urllib.parse import unquote, unquote_plus

from .redaction import REDACTED, redact_credentials
from .schema import is_secret_name

_UNKNOWN = "<value>"
"""What the suggestion writes for a value the query does not give (``?sslmode``: ``?sslmode=<value>``)."""
_MOST_DECODINGS = 8
"""How many times a name is decoded, at most, to find the ``=`` or ``&`` it was meant to hold."""


def encoded_separator_problem(url: str) -> str | None:
    """Why the query of ``url`` would not give the driver what it says (an item without ``=`` or with an
    empty value, or a name holding an ``=`` or ``&`` percent-encoded, whatever its encoding), with the query
    to write instead; None when SQLAlchemy reads it as written. No value of a secret parameter
    (``password``, ``sslpassword``...) is in the message."""
    items = _query_items(url)
    nameless = sum(1 for item in items if item.startswith("="))
    if nameless:  # its value is not shown: nothing says it is not a secret
        return (
            f"the query has {nameless} item(s) with a value but no parameter name before its '=' (?=...), "
            "which no driver takes: remove it, or write the parameter's name before the '='"
        )
    encoded = [item for item in items if _separators(item)]
    bare = [item for item in items if not _separators(item) and _name_and_value(item)[1] is None]
    empty = [item for item in items if not _separators(item) and _is_empty(item)]
    if not encoded and not bare and not empty:
        return None
    reasons = []
    if encoded:
        written = " and ".join(sorted({found for item in encoded for found in _separators(item)}))
        reasons.append(
            f"the query writes {_names(encoded)} with {written}, which SQLAlchemy does not read as a "
            "separator in a parameter's name"
        )
    if bare:
        reasons.append(f"the query gives {_names(bare)} without '=', a name SQLAlchemy drops")
    if empty:
        reasons.append(
            f"the query gives {_names(empty)} an empty value, which SQLAlchemy drops with the name"
        )
    meant = "&".join(_shown(name, value) for item in items for name, value in _meant(item))
    problems = f"{'; '.join(reasons)}: the driver would not get {_names(encoded + bare + empty)} as meant"
    default = f" (or leave {_names(empty)} out, for the driver's default)" if empty else ""
    return f"{problems}; write ?{meant}{default}"


def _names(items: list[str]) -> str:
    """The parameter names ``items`` meant, each once, in order."""
    return ", ".join(dict.fromkeys(name for item in items for name, _ in _meant(item)))


def _query_items(url: str) -> list[str]:
    """The query's items as written (``name=value``), split on ``&`` as SQLAlchemy splits them."""
    return [item for item in _query(url).split("&") if item]


def _query(url: str) -> str:
    """What follows the ``?`` of ``url``'s location: SQLAlchemy ends the userinfo at its first ``@`` after
    the password's ``:`` (a password holds no ``@`` unencoded, and may hold a ``?``)."""
    _, scheme_ends, rest = url.partition("://")
    if not scheme_ends:
        return ""
    user, colon, after_user = rest.partition(":")
    password, at, location = after_user.partition("@")
    if not (colon and at and "/" not in user):
        user_only, at, location = rest.partition("@")  # no password, or no userinfo at all
        if not at or "/" in user_only or "?" in user_only:
            location = rest
    return location.partition("?")[2]


def _is_empty(item: str) -> bool:
    """Whether an item is a name with ``=`` and nothing after it (``sslmode=``)."""
    name, value = _name_and_value(item)
    return value == "" and name != ""


def _name_and_value(item: str) -> tuple[str, str | None]:
    """An item's name, decoded until it shows an ``=`` or ``&`` (or no more), and its value as written,
    None without ``=``."""
    name, equals, value = item.partition("=")
    return _decoded(name)[0], (value if equals else None)


def _decoded(name: str) -> tuple[str, int]:
    """``name`` decoded as SQLAlchemy decodes it, then again while that changes it and shows no ``=`` or
    ``&`` (``sslmode%253Drequire``: ``sslmode=require``), with how many decodings that took."""
    text, times = unquote_plus(name), 1
    while "=" not in text and "&" not in text and times < _MOST_DECODINGS:
        again = unquote(text)
        if again == text:
            break
        text, times = again, times + 1
    return text, times


def _separators(item: str) -> list[str]:
    """The separators an item's name holds percent-encoded: ``'=' as %3D``, ``'&' as %26``; encoded twice,
    ``'=' as %253D``."""
    name, _ = _name_and_value(item)
    escapes = "25" * (_decoded(item.partition("=")[0])[1] - 1)
    return [f"{separator!r} as %{escapes}{ord(separator):02X}" for separator in "=&" if separator in name]


def _meant(item: str) -> list[tuple[str, str | None]]:
    """The parameters an item meant, each a name and its value as written: the item itself, or, when its
    name holds an encoded ``&`` or ``=``, the pairs that name spells (``&sslmode=require``: sslmode)."""
    name, value = _name_and_value(item)
    if not _separators(item):
        return [(item.partition("=")[0], value if value is not None else _UNKNOWN)]
    spelled = name if value is None else f"{name}={value}"
    pairs = [piece.partition("=") for piece in spelled.split("&") if piece]
    return [(piece_name, piece_value if equals else None) for piece_name, equals, piece_value in pairs]


def _shown(name: str, value: str | None) -> str:
    """``name=value`` for the message, the value hidden when the name is a secret's; an empty value is one
    to write (``sslmode=<value>``)."""
    if value is None:
        return name
    return f"{name}={REDACTED if _is_secret(name) else (value or _UNKNOWN)}"


def _is_secret(name: str) -> bool:
    """Whether a query parameter named ``name`` holds a secret: the configuration's rule for a key's name,
    or the log redactor's for ``name=value`` (password, sslpassword, token...)."""
    plain = unquote_plus(name)
    return is_secret_name(plain) or redact_credentials(f"{plain}=x") != f"{plain}=x"
