"""Checking and normalising the URLs people put on their page."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

from .text import has_control_characters

ALLOWED_SCHEMES = ("http", "https", "mailto", "tel")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_HOST = re.compile(r"^[a-z0-9\-._~]+$")
_TEL = re.compile(r"^\+?[0-9().\- ]{3,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UnsafeURL(ValueError):
    """A URL that may not go on a page; the message says why, in words a person can act on."""


def normalise_url(raw: str) -> str:
    """Return ``raw`` as a canonical http(s), mailto or tel URL, or raise :class:`UnsafeURL`."""
    text = raw.strip()
    if not text:
        raise UnsafeURL("a URL is required")
    # Browsers drop tabs and newlines inside URLs ("java\tscript:"), so control characters are refused
    # outright; a plain space is kept and percent-encoded below.
    if has_control_characters(text):
        raise UnsafeURL("a URL may not contain tabs, line breaks or control characters")
    match = _SCHEME.match(text)
    if match is None:
        text = "https:" + text if text.startswith("//") else "https://" + text
        match = _SCHEME.match(text)
    assert match is not None
    scheme = match.group(1).lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"the {scheme}: scheme is not allowed; use http, https, mailto or tel")
    if scheme == "mailto":
        return _mailto(text[len("mailto:") :])
    if scheme == "tel":
        return _tel(text[len("tel:") :])
    return _web(scheme, text)


def _web(scheme: str, text: str) -> str:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"not a valid URL ({error})") from None
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("a URL with a user name or password is not allowed")
    host = _host(parts.hostname or "")
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="=&%:@!$'()*+,;/?-._~")
    fragment = quote(parts.fragment, safe="=&%:@!$'()*+,;/?-._~")
    return urlunsplit((scheme, netloc, path, query, fragment))


def _host(raw: str) -> str:
    """The host as it goes in the URL: IDNA-encoded name, dotted IPv4, or a bracketed IPv6 literal."""
    host = raw.rstrip(".")
    if not host:
        raise UnsafeURL("the URL has no host name")
    if ":" in host:  # urlsplit strips the brackets of an IPv6 literal
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise UnsafeURL(f"{host!r} is not a valid IPv6 address") from None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL(f"{host!r} is not a valid host name") from None
    if not _HOST.match(host) or ("." not in host and host != "localhost"):
        raise UnsafeURL(f"{host!r} is not a valid host name")
    return host


def _mailto(address: str) -> str:
    target = address.split("?", 1)[0]
    if not _EMAIL.match(target):
        raise UnsafeURL("a mailto: link needs an email address")
    return "mailto:" + quote(address, safe="@=&?+.-_~%")


def _tel(number: str) -> str:
    if not _TEL.match(number):
        raise UnsafeURL("a tel: link needs a phone number")
    return "tel:" + re.sub(r"[ ().\-]", "", number)
