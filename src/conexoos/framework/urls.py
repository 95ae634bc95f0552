"""Absolute URLs from ``SERVER_ENV.PUBLIC_URL``, never from the request's Host header.

A Host header is whatever the client typed: building a link, a QR code or a payment return address
from it lets anyone make the site point elsewhere. The public address is configuration instead.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from flask import Flask, current_app, has_request_context, url_for
from flask.globals import request_ctx

from .errors import ConfigError
from .redaction import redact_credentials

if TYPE_CHECKING:
    from .config import Settings

PUBLIC_URL_KEY = "SERVER_ENV.PUBLIC_URL"
CONFIG_NAME = "CONEXOOS_PUBLIC_URL"
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "[::]", "")
DEFAULT_PORTS = {"http": 80, "https": 443}
DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
"""One label of a host name (RFC 1123): letters, digits and hyphens, neither first nor last a hyphen."""
HOST_EXPECTED = (
    "a DNS name (letters, digits and hyphens in dot-separated labels, none starting or ending with a "
    "hyphen), an IP address, [an IPv6 address] or localhost"
)


def public_url_problem(value: str) -> str | None:
    """Why ``value`` is not a usable public URL, or None when it is (``http(s)://host[:port]``, the site's
    root: under a path, pages would link to the root while mail linked under the path)."""
    shown = redact_credentials(value)  # an error is shown and logged: never the password in it
    try:
        parts = urlsplit(value)
    except ValueError:  # brackets around no IPv6 address: https://[zz]/
        return f"{PUBLIC_URL_KEY}: {shown!r}: its host in brackets is not an IPv6 address"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{PUBLIC_URL_KEY}: {shown!r} is not an absolute http(s) URL; e.g. https://links.example.org"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"{PUBLIC_URL_KEY}: {shown!r} must not hold a query, a fragment or credentials"
    if parts.path not in ("", "/"):
        return (
            f"{PUBLIC_URL_KEY}: {shown!r} has a path; give the site's root (a site is served at the root of "
            "its host, not under a path), e.g. https://links.example.org"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:  # urlsplit reads :0, which no browser connects to
        return f"{PUBLIC_URL_KEY}: {shown!r} has an invalid port"
    try:
        _host(parts)
    except ValueError as error:
        return f"{PUBLIC_URL_KEY}: {shown!r}: {error}"
    return None


def _host(parts: SplitResult) -> str:
    """The host of ``parts`` as browsers compare it: lower case, an international name as its punycode
    (``xn--``), an IPv6 address in brackets; ValueError saying why a host is none (``links_example.org``,
    ``-bad-.example.org``)."""
    host = parts.hostname or ""
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise ValueError(f"[{host}] is not an IPv6 address") from None
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    if not host.isascii():
        import idna  # here: only an international host name needs it, not every worker

        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise ValueError(
                f"the host {host!r} is not a valid international domain name ({error})"
            ) from None
    labels = host.split(".")
    if len(host) > 253 or not all(DNS_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"the host {host!r} is not valid; expected {HOST_EXPECTED}")
    _check_a_labels(host, labels)
    return host


def _check_a_labels(host: str, labels: list[str]) -> None:
    """ValueError when a punycode label (``xn--``) decodes to no international name (``xn--zz``): browsers
    refuse such a host."""
    if not any(label.startswith("xn--") for label in labels):
        return
    import idna  # here: only an international host name needs it, not every worker

    try:
        idna.decode(host)
    except idna.IDNAError as error:
        raise ValueError(f"the host {host!r} is not a valid international domain name ({error})") from None


def normalised_public_url(value: str) -> str:
    """``value``, a valid public URL (see :func:`public_url_problem`), as browsers compare it: scheme and host
    in lower case, an international host name as its punycode, no default port, no trailing slash."""
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    port = parts.port
    shown_port = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{_host(parts)}{shown_port}"


def public_url_problems(server: dict[str, Any]) -> list[str]:
    """The configuration mistakes in ``SERVER_ENV.PUBLIC_URL`` (for the start-up and ``config check``)."""
    value = str(server.get("PUBLIC_URL") or "").strip()
    if not value:
        if server["ENV"] == "DEV":
            return []
        return [
            f"{PUBLIC_URL_KEY}: is empty; {server['ENV']} needs the address people use "
            "(e.g. PUBLIC_URL: https://links.example.org)"
        ]
    problem = public_url_problem(value)
    return [problem] if problem else []


def resolve_public_url(settings: Settings) -> str:
    """The configured public URL without a trailing slash; under DEV, the bound address when unset."""
    server = settings.server
    problems = public_url_problems(server)
    if problems:
        raise ConfigError(problems)
    value = str(server.get("PUBLIC_URL") or "").strip()
    if not value:
        return bound_url(server["BIND"]["ADDRESS"], server["BIND"]["PORT"])
    return normalised_public_url(value)


def bound_url(address: str, port: int) -> str:
    """``http://ADDRESS:PORT``; a wildcard address becomes localhost, an IPv6 one gets brackets."""
    if address in WILDCARD_ADDRESSES:
        address = "localhost"
    elif ":" in address and not address.startswith("["):
        address = f"[{address}]"
    return f"http://{address}:{port}"


def install_public_url(app: Flask, settings: Settings) -> None:
    """Keep the resolved public URL in ``app.config`` and offer ``external_url`` to templates."""
    app.config[CONFIG_NAME] = resolve_public_url(settings)
    app.jinja_env.globals["external_url"] = external_url


def public_url() -> str:
    """The current app's public URL, without a trailing slash."""
    return str(current_app.config[CONFIG_NAME])


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` (as ``url_for``), on the configured public address.

    Works outside a request too (a task or a command writing mail): the path is built from the URL map.
    """
    values.pop("_external", None)
    if has_request_context() and request_ctx.url_adapter is not None:  # None: Flask refused the host
        return public_url() + url_for(endpoint, **values)
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return public_url() + path
