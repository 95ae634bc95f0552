"""Whether a request comes from the server itself and not through any reverse proxy.

A reverse proxy on the same host connects from a loopback address, so the peer address alone proves
nothing: a request is local only when its peer is a loopback address, no trusted proxy rewrote that
address (``framework/proxy.py`` keeps the proxy's own address under ``ORIGINAL_ADDRESS_KEY``), and it
carries no header a proxy adds - any ``X-Forwarded-*`` (also those the framework removed, listed under
``REMOVED_HEADERS_KEY``), ``Forwarded``, ``X-Real-IP``, ``Via`` or a CDN's client-address header.

A browser on the server can be made to send a request from a loopback address too: a web page whose host
name its attacker re-points at 127.0.0.1 (DNS rebinding) reads and posts this site's pages as its own
origin. Such a request names the attacker's host in ``Host``, so a local request must also name a host
that only reaches this machine (``localhost``, a name under ``.localhost``, a loopback address) or the
site's own public host (:func:`names_this_host`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from conexoos.framework.proxy import ORIGINAL_ADDRESS_KEY, REMOVED_HEADERS_KEY

PROXY_HEADERS = frozenset(
    name.lower()
    for name in (
        "Forwarded",
        "X-Real-IP",
        "Via",
        "CF-Connecting-IP",
        "True-Client-IP",
        "X-Client-IP",
        "X-Cluster-Client-IP",
    )
)
PROXY_PREFIX = "x-forwarded-"


def has_proxy_header(names: Iterable[str]) -> bool:
    """Whether any of the header ``names`` is one a reverse proxy adds."""
    return any(name.lower() in PROXY_HEADERS or name.lower().startswith(PROXY_PREFIX) for name in names)


def is_local(remote_address: str | None, headers: Iterable[str], environ: Mapping[str, object]) -> bool:
    """Whether a request from ``remote_address`` with the header names ``headers`` and the WSGI
    ``environ`` comes from the server itself (see the module docstring)."""
    if (
        environ.get(REMOVED_HEADERS_KEY)
        or environ.get(ORIGINAL_ADDRESS_KEY, remote_address) != remote_address
    ):
        return False
    if has_proxy_header(headers):
        return False
    try:
        address = ipaddress.ip_address((remote_address or "").strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def names_this_host(host_header: str, public_url: str) -> bool:
    """Whether the ``Host`` header ``host_header`` names this machine: ``localhost`` (or a name under
    ``.localhost``, which browsers keep on the loopback interface whatever DNS says), a loopback address,
    or the host of ``public_url``; any other name may be one an attacker pointed at this machine."""
    host = _host_name(host_header)
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost") or host == _host_name(urlsplit(public_url).netloc):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _host_name(netloc: str) -> str:
    """The host of ``host[:port]`` (``[v6]:port`` too), lower case, without a trailing dot; "" if none."""
    try:
        host = urlsplit(f"//{netloc.strip()}").hostname or ""
    except ValueError:  # an unclosed bracket
        return ""
    return host.rstrip(".").lower()
