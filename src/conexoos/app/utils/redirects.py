"""Where a redirect may go when its target comes from input (a log-in form's ``next``): only here."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import request
from werkzeug.urls import iri_to_uri

from conexoos.app.utils.text import has_control_characters
from conexoos.framework.urls import public_url

_DECODING_ROUNDS = 3
"""Percent-escapes are decoded this many times over; a target still encoded after that is refused."""


def safe_local_target(value: str | None) -> str | None:
    """``value`` (spaces around it removed, percent-encoded as a Location header needs) when it is a path
    on this site however a browser or a proxy reads it; None otherwise.

    Refused: absolute URLs (any scheme), scheme-relative ``//host`` and its spellings (``/\\host``,
    ``\\\\host``, full-width solidi, ``%2f%2f`` encoded once or more), and any control character, raw or
    percent-encoded: browsers drop tabs and line breaks (``/\\t/host`` is ``//host``), and CR/LF could
    split a header; ``..`` path segments (``/..//evil.example``), raw or encoded, and ``.`` ones that leave
    ``//`` in front once a browser drops them (``/.//evil.example``); a path that sends the
    visitor on to another site (:data:`OFF_SITE_PATHS`). A path that merely contains ``@`` or ``:`` stays a
    path on this site.
    """
    target = (value or "").strip(" ")
    candidate = target
    for _ in range(_DECODING_ROUNDS):
        if not _is_local_path(candidate):
            return None
        try:
            decoded = unquote(candidate, errors="strict")
        except UnicodeDecodeError:  # %ED%A0%80 and the like: no browser sends such a path of ours
            return None
        if decoded == candidate:
            return None if _leaves_the_site(decoded) else iri_to_uri(target)
        candidate = decoded
    return None


OFF_SITE_PATHS = ("/go/",)
"""Paths of this site that send a visitor on to another one (a link's redirect): a log-in page whose
``next`` names one would take the person who logs in to a creator's chosen address, a phishing page as
well as any, from a link that shows this site's own log-in form."""


def _leaves_the_site(path: str) -> bool:
    """Whether ``path`` (decoded) is one of :data:`OFF_SITE_PATHS` once its ``.`` segments are gone, as a
    browser drops them (``/./go/1`` is ``/go/1``)."""
    return _without_dot_segments(urlsplit(path).path).startswith(OFF_SITE_PATHS)


def _without_dot_segments(path: str) -> str:
    """``path`` without its ``.`` segments, as a browser resolves it (``/./go/1`` is ``/go/1``)."""
    return "/".join(segment for segment in path.split("/") if segment != ".")


def _is_local_path(candidate: str) -> bool:
    """Whether ``candidate`` starts with exactly one slash, names no scheme or host, has no ``..`` segment,
    and holds only printable characters, also once NFKC-normalised and with backslashes read as slashes."""
    for form in (candidate, unicodedata.normalize("NFKC", candidate)):
        slashed = form.replace("\\", "/")
        if has_control_characters(slashed) or not slashed.isprintable():
            return False
        if not slashed.startswith("/") or slashed.startswith("//"):
            return False
        parts = urlsplit(slashed)
        if parts.scheme or parts.netloc:
            return False
        if ".." in parts.path.split("/"):  # /..//host: a dot-segment a browser or proxy may resolve
            return False
        if _without_dot_segments(parts.path).startswith("//"):  # /.//host is //host once resolved
            return False
    return True


def referring_page() -> str | None:
    """The page of this site the request came from (its Referer, when it is under ``PUBLIC_URL`` and a safe
    local path), else None: where to go back to once a form sent too late (logged out) is sent again."""
    site = public_url() + "/"
    referrer = request.referrer or ""
    return safe_local_target(referrer[len(site) - 1 :]) if referrer.startswith(site) else None
