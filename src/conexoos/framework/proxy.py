"""Believe ``X-Forwarded-*`` headers only from the reverse proxies named in ``SERVER_ENV.TRUSTED_PROXIES``.

Any client can send ``X-Forwarded-For: 1.2.3.4``. Only a request that arrives from a trusted proxy has
its client address, scheme and host taken from those headers; from anyone else they are removed, so
nothing further in (rate limits, logs, analytics) can be fooled by them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .redaction import redact_credentials

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")
ORIGINAL_ADDRESS_KEY = "conexoos.proxy.remote_addr"
REMOVED_HEADERS_KEY = "conexoos.proxy.removed"
"""The environ key listing the ``X-Forwarded-*`` headers a request carried before they were removed."""


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of addresses and CIDRs; a ConfigError names a bad one."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                [
                    f"SERVER_ENV.TRUSTED_PROXIES: {redact_credentials(item)!r} is not an IP address or "
                    "network; e.g. 127.0.0.1, 10.0.0.0/8"
                ]
            ) from None
    return tuple(networks)


def trusted_proxies_problems(value: str) -> list[str]:
    """The configuration mistakes in ``SERVER_ENV.TRUSTED_PROXIES`` (for ``config check``)."""
    try:
        parse_trusted_proxies(value)
    except ConfigError as error:
        return list(error.problems)
    return []


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


SERVER_ENVIRON = "conexoos.server_environ"
"""The WSGI environ key of the server's own environ, set by this outermost layer: a layer below copies the
environ (Flask-SocketIO's), and what the app notes for the server (``logs.LOGGED_PATH``) must reach it."""


class TrustedProxies:
    """WSGI middleware: applies ``X-Forwarded-*`` from trusted proxies, drops it from everyone else."""

    def __init__(self, app: WSGIApplication, networks: Iterable[Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    def trusts(self, text: str) -> bool:
        """Whether ``text`` is the address of a trusted proxy."""
        address = _address(text)
        return address is not None and any(address in network for network in self.networks)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        environ[SERVER_ENVIRON] = environ  # the outermost layer: what the app notes for the server goes here
        remote = environ.get("REMOTE_ADDR", "")
        if self.networks and self.trusts(remote):
            self._apply(environ, remote)
        removed = tuple(header for header in FORWARDED_HEADERS if environ.pop(header, None) is not None)
        if removed:
            environ[REMOVED_HEADERS_KEY] = removed
        return self.app(environ, start_response)

    def _apply(self, environ: WSGIEnvironment, remote: str) -> None:
        environ[ORIGINAL_ADDRESS_KEY] = remote
        environ["REMOTE_ADDR"] = self.client_address(remote, environ.get("HTTP_X_FORWARDED_FOR", ""))
        proto = _last(environ.get("HTTP_X_FORWARDED_PROTO", "")).lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
        host = _last(environ.get("HTTP_X_FORWARDED_HOST", ""))
        if host:
            environ["HTTP_HOST"] = host

    def client_address(self, remote: str, forwarded_for: str) -> str:
        """Walk X-Forwarded-For from the right past trusted proxies: the first other hop is the client."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        address = remote
        while hops and self.trusts(address):
            hop = hops.pop()
            if _address(hop) is None:
                break  # a malformed hop: keep the last address we could verify
            address = hop.strip("[]")
        return address


def _last(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()
