"""The brand icon of a link, found from its URL's domain (``instagram.com``, ``m.youtube.com``,
``youtu.be``...), with the networks of the sprite (:mod:`conexoos.app.utils.icon_networks`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .icon_networks import NETWORKS, IconNetwork

BY_DOMAIN: dict[str, IconNetwork] = {
    domain: network for network in NETWORKS.values() for domain in network.domains
}


def network_for_host(host: str) -> IconNetwork | None:
    """The network whose domain is ``host`` or a parent of it (``www.``, ``m.``, ``open.``, a creator's
    ``name.substack.com``); None for any other host. ``instagram.com.evil.example`` is not Instagram."""
    labels = host.lower().rstrip(".").split(".")
    for start in range(len(labels) - 1):
        network = BY_DOMAIN.get(".".join(labels[start:]))
        if network is not None:
            return network
    return None


def network_for_url(url: str) -> IconNetwork | None:
    """The network of an http(s) URL's host; None for mailto:, tel:, an unknown host or a malformed URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return network_for_host(host)
