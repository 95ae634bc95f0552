"""Whether a request comes from the server itself and not through any reverse proxy.

A reverse proxy on the same host connects from a loopback address, so the peer address alone proves
nothing: a request is local only when its peer is a loopback address, no trusted proxy rewrote that
address (``framework/proxy.py`` keeps the proxy's own address under ``ORIGINAL_ADDRESS_KEY``), and it
carries no header a proxy adds - any ``X-Forwarded-*`` (also those the framework removed, listed under
``REMOVED_HEADERS_KEY``), ``Forwarded``, ``X-Real-IP``, ``Via`` or a CDN's client-address header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

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
