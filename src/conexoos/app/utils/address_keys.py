"""Keys that tell whether two spellings of a web address name the same thing, for what moderators hid
(``controllers/hidden_addresses.py``):

- :func:`address_key`, any address: the host in lower case without ``www.`` or a trailing dot, a port
  other than http's and https's own, the path with dot segments resolved, repeated slashes and its
  trailing slash dropped, and the query's parameters in order without empty ones or tracking ones
  (``utm_*``, ``fbclid``, ``si``...); letters, digits and ``-._~`` written as ``%XX`` escapes are read as
  themselves. The scheme (http or https) and the fragment do not count. A ``mailto:`` address is its
  mailbox in lower case, without its subject or body;
- :func:`profile_key`, a profile on a social network: the same, with the network's other hosts
  (``instagr.am``, ``m.instagram.com``) as its own, the path in lower case (profile names ignore case)
  and ``/users/<name>`` as ``/@<name>`` (Mastodon's two spellings);
- :func:`player_key`, a video or a track: its player's address from the start, at any of the provider's
  addresses (``youtu.be/<id>`` is ``youtube.com/watch?v=<id>``), over http or https.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from .link_icons import network_for_host
from .players import recognise

TRACKING = frozenset({"fbclid", "gclid", "igsh", "igshid", "mibextid", "ref", "ref_src", "si", "feature"})
"""Query parameters that say where a visitor came from, not what the address names (``utm_*`` too)."""
UNRESERVED_ESCAPE = re.compile(r"%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|2[Ee]|5[Ff]|7[Ee])")
"""An escape of a letter, a digit or ``-._~``: the same address unescaped (RFC 3986, section 6.2.2.2)."""
PLAYER_HOSTS = {"music.youtube.com": "youtube.com", "youtube-nocookie.com": "youtube.com"}
"""Hosts whose addresses a provider also plays from, as the host :func:`recognise` knows."""
MASTODON_USERS = re.compile(r"^/users/([^/]+)")


def address_key(url: str) -> str:
    """What every spelling of ``url`` shares (see the module's description)."""
    text = url.strip()
    if text.lower().startswith("mailto:"):
        return "mailto:" + _unescaped(text[len("mailto:") :].split("?", 1)[0]).lower()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # an address no URL parser reads: only itself matches it
        return text
    host = _host(parts.hostname).removeprefix("www.")
    named_port = f":{port}" if port not in (None, 80, 443) else ""
    return f"{host}{named_port}{_path(parts.path)}{_query(parts.query)}"


def profile_key(url: str) -> str:
    """What every spelling of one social profile shares (see the module's description)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    host = _host(parts.hostname)
    network = network_for_host(host)
    if network is not None and network.key != "mastodon":  # Mastodon's servers are each their own
        host = network.domains[0]
    else:
        host = host.removeprefix("www.").removeprefix("m.")
    path = MASTODON_USERS.sub(r"/@\1", _path(parts.path).lower())
    return f"{host}{path}{_query(parts.query)}"


def player_key(url: str) -> str | None:
    """The player's address of the video or track ``url`` names, from its start; None for a URL that
    no player plays."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = _host(parts.hostname).removeprefix("www.")
    secure = parts._replace(scheme="https", netloc=PLAYER_HOSTS.get(host, host)).geturl()
    player = recognise(secure)
    return re.sub(r"start=\d+&|#t=\d+s$", "", player.player_url) if player else None


def _host(hostname: str | None) -> str:
    return (hostname or "").rstrip(".")


def _unescaped(text: str) -> str:
    return UNRESERVED_ESCAPE.sub(lambda escape: unquote(escape.group()), text)


def _path(path: str) -> str:
    """The path's segments without empty ones, ``.`` and ``..`` resolved (RFC 3986, section 5.2.4)."""
    segments: list[str] = []
    for segment in _unescaped(path).split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in ("", "."):
            segments.append(segment)
    return "".join(f"/{segment}" for segment in segments)


def _query(query: str) -> str:
    """The query's parameters in order, without empty or tracking ones ("" when none is left)."""
    kept = sorted(
        (_unescaped(name), _unescaped(value))
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name and not name.lower().startswith("utm_") and name.lower() not in TRACKING
    )
    return f"?{urlencode(kept)}" if kept else ""
