"""The connection parameters libpq (PostgreSQL's client library, under psycopg) takes, and their values.

psycopg hands any keyword to libpq, which refuses an unknown one, or a value it cannot use, only when it
connects: ``run`` would retry such a connection until STARTUP_WAIT ends. ``config check`` asks here first.
The values are those of libpq's documentation ("Parameter Key Words"), for the parameters whose values
libpq itself checks; one a server judges (client_encoding, options...) is left to the server.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from .schema import MAX_PORT

INTEGERS = (
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
)
"""Parameters libpq reads as a decimal integer (``strtol`` with nothing but spaces around)."""

NOT_NEGATIVE = ("keepalives_idle", "keepalives_interval", "keepalives_count")
"""Integers the socket refuses below 0 (setsockopt fails)."""

CHOICES: dict[str, tuple[str, ...]] = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": ("disable", "prefer", "require"),
    "channel_binding": ("disable", "prefer", "require"),
    "target_session_attrs": ("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
    "load_balance_hosts": ("disable", "random"),
    "sslnegotiation": ("postgres", "direct"),
    "sslcertmode": ("disable", "allow", "require"),
    "min_protocol_version": ("3.0", "3.2", "latest"),
    "max_protocol_version": ("3.0", "3.2", "latest"),
}
"""Parameters libpq takes one of a few exact (case-sensitive) words for."""

TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
"""ssl_min_protocol_version and ssl_max_protocol_version: one of these in any case, or empty."""

AUTH_METHODS = ("password", "md5", "gss", "sspi", "scram-sha-256", "oauth", "none")
"""require_auth: a comma-separated list of these, with no spaces; all of them negated (``!md5``) or none."""

_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_PORT = re.compile(r"\s*\+?[0-9]+\s*", re.ASCII)


def known_keywords() -> list[str]:
    """The connection parameters the installed libpq knows, sorted."""
    from psycopg import pq  # only for a PostgreSQL connection, whose engine imports it anyway

    return sorted(option.keyword.decode() for option in pq.Conninfo.get_defaults())


def keywords_problem(names: set[str]) -> str | None:
    """Which of ``names`` libpq knows no connection parameter by (e.g. ``sslmod``, or ``SSLMODE``: its
    keywords are lower case), each with the keyword it is closest to; None when it knows them all."""
    known = known_keywords()
    unknown = sorted(names - set(known))
    if not unknown:
        return None
    described = []
    for name in unknown:
        lower = name.lower()
        close = [lower] if lower in known else difflib.get_close_matches(lower, known, n=1, cutoff=0.6)
        described.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return (
        f"PostgreSQL (libpq) knows no connection parameter {', '.join(described)}: remove it, or check its "
        "spelling"
    )


def values_problem(params: Mapping[str, object]) -> str | None:
    """Which of ``params``' values libpq would refuse when connecting, each with what it accepts; None when
    it takes them all. Parameters it does not check (or knows nothing of) are left alone."""
    refused = []
    for name, value in sorted(params.items()):
        accepted = _accepted(name, "" if value is None else str(value))
        if accepted is not None:
            shown = "null (no value)" if value is None else repr(str(value))  # not Python's 'None'
            refused.append(f"{name} {shown} (expected {accepted})")
    if not refused:
        return None
    return f"PostgreSQL (libpq) cannot use {'; '.join(refused)}"


def _accepted(name: str, value: str) -> str | None:
    """What parameter ``name`` takes when libpq would refuse ``value``, else None."""
    if name in INTEGERS:
        if not _INTEGER.fullmatch(value):
            return "a whole number"
        if name in NOT_NEGATIVE and int(value) < 0:
            return "a whole number, 0 or more"
    elif name == "port":  # one per host, an empty one is the default
        if not all(not port.strip() or _port(port) for port in value.split(",")):
            return f"a port number from 1 to {MAX_PORT} (one per host, separated by commas)"
    elif name in CHOICES and value not in CHOICES[name]:
        return "one of " + ", ".join(CHOICES[name])
    elif name in ("ssl_min_protocol_version", "ssl_max_protocol_version"):
        if value and value.lower() not in (version.lower() for version in TLS_VERSIONS):
            return "one of " + ", ".join(TLS_VERSIONS)
    elif name == "require_auth":
        methods = value.split(",") if value else []
        negated = {method.startswith("!") for method in methods}
        if len(negated) > 1 or not all(method.removeprefix("!") in AUTH_METHODS for method in methods):
            return f"a comma-separated list of {', '.join(AUTH_METHODS)}, all or none of them after a !"
    return None


def _port(text: str) -> bool:
    return bool(_PORT.fullmatch(text)) and 1 <= int(text) <= MAX_PORT
