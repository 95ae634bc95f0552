"""Where a redirect may go when its target comes from input (a log-in form's ``next``): only here."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from werkzeug.urls import iri_to_uri

_BROWSER_REMOVES = str.maketrans("", "", "\t\n\r")
"""The WHATWG URL parser drops every tab and line break anywhere in a URL."""
_EDGES = "".join(chr(code) for code in range(0x21))
"""...and C0 controls and spaces at either end."""
_DECODING_ROUNDS = 3
"""Encoded slashes are decoded this many times over: a target still encoded after that is refused."""


def safe_local_target(value: str | None) -> str | None:
    """``value`` as a browser would read it, when that is a path on this site; None otherwise.

    Refused: absolute URLs (any scheme), scheme-relative ``//host`` and its spellings (``/\\host``,
    ``\\\\host``, tabs or line breaks inside ``//``, ``%2f%2f``, leading spaces), and anything holding
    control characters once decoded (CR/LF could split a header). A path that merely contains ``@`` or
    ``:`` stays a path on this site.
    """
    if not value:
        return None
    target = value.translate(_BROWSER_REMOVES).strip(_EDGES)
    if not target.startswith("/") or not target.isprintable():
        return None
    candidate = target
    for _ in range(_DECODING_ROUNDS):
        if not _is_local_path(candidate):
            return None
        try:
            decoded = unquote(candidate, errors="strict")
        except UnicodeDecodeError:  # %ED%A0%80 and the like: no browser sends such a path of ours
            return None
        if decoded == candidate:
            return iri_to_uri(target)  # a Location header holds ASCII only
        candidate = decoded
    return None


def _is_local_path(candidate: str) -> bool:
    """Whether ``candidate`` starts with one slash and names no other host, however a browser or a
    server in front of us normalises it (backslashes as slashes, full-width solidi, NFKC)."""
    for form in (candidate, unicodedata.normalize("NFKC", candidate)):
        slashed = form.replace("\\", "/").translate(_BROWSER_REMOVES).strip(_EDGES)
        if not slashed.startswith("/") or slashed.startswith("//") or not slashed.isprintable():
            return False
        parts = urlsplit(slashed)
        if parts.scheme or parts.netloc:
            return False
    return True
