"""Where the user name and password of ``scheme://user:password@host`` end, and whether every program that
reads the URL would end them at the same ``@``.

SQLAlchemy ends the user name at the first ``:`` and the password at the first ``@`` after it:
``postgresql://postgres:pa:ss@wor@d@db`` is password ``pa:ss`` at host ``wor@d@db``. Python's ``urlsplit``
(redis, memcached and limits read their URLs with it; browsers and HTTP clients follow the same RFC 3986)
ends the host part at the first ``/``, ``?`` or ``#`` and the user name and password at the last ``@``
before it. An ``@``, ``/``, ``?`` or ``#`` written as such in a user name or password makes them disagree,
and part of the password is then read, and printed, as the host; an ``@`` after the password (in the
database name or the query) could be the password's end too. Such a URL is *ambiguous*: the log redactor
hides its text up to its last ``@``, and the configuration refuses it (:func:`ambiguous_url_problem`).
Percent-encoded (``%40``, ``%2F``, ``%3F``, ``%23``), every reader agrees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

URL_START = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-_]*://")
"""Where a URL starts in a text: its scheme and ``://``."""
_SQLALCHEMY_USERINFO = re.compile(r"[^:/]*(?::[^@]*)?@")
"""The user name and password as ``sqlalchemy.engine.url._parse_url`` reads them, with their ``@``."""
_HOST_PART_END = re.compile(r"[/?#]")
_LOCATION = re.compile(r"\S*")
_HOST_AND_PORT = re.compile(r"(?:\[[^\]]*\]|[^:\[\]]*)(?::\d+)?")
"""A host part a program can connect to: a name or address (an IPv6 one in brackets), maybe a port."""
WEB_SCHEMES = frozenset({"http", "https", "ws", "wss"})
"""Schemes that SQLAlchemy never reads: their URLs are read by RFC 3986's rules alone, so
``https://example.org:8443/a?b=c@d`` holds no user name nor password."""


@dataclass(frozen=True)
class Userinfo:
    """The user name and password of a URL: ``location[:end]``, ``location`` being its text after ``://``.

    ``ambiguous``: readers disagree on where they end, or another ``@`` follows a password; ``end`` is then
    the last ``@`` of the URL, so that whatever any reader takes as the password lies before it."""

    end: int
    ambiguous: bool


@dataclass(frozen=True)
class FoundUrl:
    """A URL found in a text: ``start`` of its ``location`` (after ``://``), its scheme and its userinfo."""

    scheme: str
    start: int
    location: str
    userinfo: Userinfo | None


def read_userinfo(scheme: str, location: str) -> Userinfo | None:
    """The user name and password of the URL ``scheme://location`` (``location`` up to the first white
    space), None when no reader sees any."""
    web = scheme.lower() in WEB_SCHEMES
    by_rfc = _rfc_userinfo_end(location)
    by_sqlalchemy = None if web else _sqlalchemy_userinfo_end(location)
    last = location.rfind("@")
    if by_rfc is None and by_sqlalchemy is None:
        # No reader sees one; but a host part no program could connect to ('app:pa', 'app:') before an '@'
        # is a user name and the start of a password holding a '/', '?' or '#'.
        usable = _HOST_AND_PORT.fullmatch(_host_part(location)) is not None
        return None if usable or last < 0 else Userinfo(last, True)
    end = by_sqlalchemy if by_sqlalchemy is not None else by_rfc
    assert end is not None
    has_password = ":" in location[:end]
    ambiguous = (
        (by_rfc != by_sqlalchemy and not web) or "@" in location[:end] or (has_password and last != end)
    )
    return Userinfo(last if ambiguous else end, ambiguous)


def _host_part(location: str) -> str:
    """What RFC 3986 (``urlsplit``) reads as the user name, password, host and port: up to ``/?#``."""
    return _HOST_PART_END.split(location, maxsplit=1)[0]


def _rfc_userinfo_end(location: str) -> int | None:
    """The ``@`` ending the user name and password by RFC 3986 (``urlsplit``): the last of the host part."""
    at = _host_part(location).rfind("@")
    return at if at >= 0 else None


def _sqlalchemy_userinfo_end(location: str) -> int | None:
    """The ``@`` ending the user name and password as SQLAlchemy reads a database URL."""
    found = _SQLALCHEMY_USERINFO.match(location)
    return found.end() - 1 if found else None


def urls_in(text: str) -> Iterator[FoundUrl]:
    """Each URL of ``text`` with its user name and password, in order; a URL written inside another's path
    or query (``?next=https://u:p@h``) is found too, unless an ambiguous userinfo already covers it."""
    position = 0
    while (found := URL_START.search(text, position)) is not None:
        start = found.end()
        written = _LOCATION.match(text, start)
        location = written[0] if written else ""  # \S* always matches: "" is for the type checker
        userinfo = read_userinfo(found[0][:-3], location)
        yield FoundUrl(found[0][:-3], start, location, userinfo)
        position = start + (userinfo.end + 1 if userinfo else 0)


def ambiguous_url_problem(text: str) -> str | None:
    """Why a configured value whose URL is ambiguous (see the module) is refused, without the URL (it
    holds a password); None when every URL of ``text`` reads alike everywhere."""
    if not any(url.userinfo and url.userinfo.ambiguous for url in urls_in(text)):
        return None
    return (
        "its user name or password holds an '@', '/', '?' or '#' written as such, or an '@' follows the "
        "password: programs would end the password at different places and could print part of it as the "
        "host (the URL is not shown). Percent-encode them: '@' as %40, '/' as %2F, '?' as %3F, '#' as %23, "
        "':' in the user name as %3A, and an '@' after the host as %40 too"
    )
