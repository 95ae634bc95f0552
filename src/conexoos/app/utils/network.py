"""The network an address belongs to, as log-in throttling and the session list see it."""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 48
"""A /24 is what one IPv4 customer, office or NAT usually holds; a /48 is what one IPv6 site is given
(a /64 per address would let one site rotate through 65,536 of them)."""


def network_of(address: str) -> str:
    """``address``'s network in CIDR form (``203.0.113.0/24``, ``2001:db8:1::/48``); the text itself,
    shortened, when it is no IP address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:45] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
