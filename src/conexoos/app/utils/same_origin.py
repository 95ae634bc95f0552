"""Whether a form post comes from this site's own pages, told by the browser's headers, not by a token.

A public page is cached for every anonymous visitor, so a form on it cannot carry a per-session CSRF token.
Browsers say where a request comes from instead: ``Sec-Fetch-Site`` (every current browser) and ``Origin``
(sent with every cross-origin post since long before). A post is refused when

- ``Sec-Fetch-Site`` is there and is not ``same-origin`` (it is decisive: an ``Origin`` of ``null``, sent
  under some referrer policies, does not matter then);
- else ``Origin`` is there and is not the origin of ``SERVER_ENV.PUBLIC_URL`` (``null`` included: a
  sandboxed frame or a page of a ``data:`` URL).

A post with neither header comes from no browser a page could make post for it (curl, a script), which
cannot ride on a visitor's cookies either: it is let through, and rate limits apply to it like to others.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit


class Headers(Protocol):
    """Request headers, read by name (``None`` when absent)."""

    def get(self, name: str) -> str | None: ...


CROSS_SITE = "This form was sent from another site. Open the page on this site and send the form from there."


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lowercased, without a default port or the host's trailing dot
    (``example.org.`` is ``example.org``), a host in other letters read as a browser reads it (full-width
    letters and dots, ``。``, a soft hyphen: IDNA's mapping); ValueError for a port that is no number."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), _host(parts.hostname or "")
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}"


def _host(host: str) -> str:
    if host.isascii():
        return host.lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:  # no host IDNA can write: compared as it is, it matches no site's
        return host.lower().rstrip(".")


def is_same_origin_post(headers: Headers, public_url: str) -> bool:
    """Whether a post with ``headers`` may come from this site's pages (see the module's rules)."""
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() == "same-origin"
    origin = headers.get("Origin")
    if origin is None:
        return True
    try:
        return origin.strip().lower() != "null" and origin_of(origin.strip()) == origin_of(public_url)
    except ValueError:  # an Origin with a port that is no number: not this site's
        return False
