"""Keys that tell whether two spellings of a web address name the same thing, for what moderators hid
(``controllers/hidden_addresses.py``):

- :func:`address_key`, any address: the host in lower case without ``www.`` or a trailing dot (an IPv6
  address that is an IPv4 one written as such, as that IPv4 address), a port other than http's and
  https's own, the path with dot segments resolved, repeated slashes and its trailing slash dropped, and
  the query's parameters in order without empty ones or tracking ones (``utm_*``, ``fbclid``...; on a
  social network's host also ``ref``, ``si``, ``feature``...). Escapes of letters, digits and ``-._~``
  are read as themselves and the others compared in upper case (RFC 3986, section 6.2.2). The scheme
  (http or https) and the fragment do not count. A ``mailto:`` address is its mailbox in lower case,
  without its subject, body or fragment;
- :func:`profile_key`, a profile on a social network, or a page below it: its host (the network's other
  hosts, such as ``instagr.am`` or ``m.instagram.com``, as its own; its other subdomains, such as
  ``docs.github.com``, are sites of their own), its path with the profile's name (the first segment,
  with or without ``@``, or the one after ``/in/``, ``/c/``...) in any case and the rest as it is
  (Mastodon's ``/users/<name>`` as ``/@<name>``; X's ``intent/user?screen_name=<name>`` and Instagram's
  ``/_u/<name>`` as ``/<name>``), and only the query parameters that name a profile
  (``profile.php?id=``): the share buttons' ``?s=20``, ``?hl=en`` and the like do not count. The
  network's short-link and invitation hosts (``youtu.be``, ``discord.gg``, ``pin.it``...) and
  ``t.me/+<code>`` are codes, whose case counts; ``signal.me``'s fragment names its contact;
- :func:`player_key`, a video or a track: its player's address from the start, at any of the provider's
  addresses (``youtu.be/<id>``, ``/watch/<id>`` and a share's ``attribution_link?u=/watch?v=<id>`` are
  ``youtube.com/watch?v=<id>``; Spotify's and SoundCloud's player addresses are their tracks'), over http
  or https.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from .icon_networks import IconNetwork
from .link_icons import BY_DOMAIN
from .players import recognise
from .social_urls import FRAGMENT_HOSTS
from .urls import embedded_ipv4, mailboxes

TRACKING = frozenset({"fbclid", "gclid", "msclkid", "igsh", "igshid", "mibextid"})
"""Query parameters that only say where a visitor came from, on any host (``utm_*`` too)."""
NETWORK_TRACKING = frozenset({"ref", "ref_src", "si", "feature", "s", "t", "hl", "lang", "_t", "sk"})
"""Parameters a social network's share buttons and pages add, ignored on its hosts only (elsewhere
``?ref=branch`` or ``?feature=`` may name what the address is)."""
PROFILE_PARAMETERS = frozenset({"id", "v", "user_id"})
"""The query parameters that name a profile (``facebook.com/profile.php?id=``, X's ``intent/user?user_id=``)
or a video."""
NAMED_IN_QUERY = {("x", "/intent/user"): "screen_name", ("x", "/intent/follow"): "screen_name"}
"""A network's pages that name a profile in a parameter (``x.com/intent/user?screen_name=<name>``): the
profile ``/<name>`` itself."""
NAMED_AFTER = {"instagram": "/_u"}
"""A network's prefix before a profile's name (the app's ``instagram.com/_u/<name>``)."""
PROFILE_PATH = re.compile(r"^/(?:in|company|c|user)/[^/]+$")
"""A profile's name below a fixed word (``/in/name``): in any case, as a first segment is."""
NETWORK_PREFIXES = ("www.", "m.", "mobile.", "web.")
"""The prefixes of a network's own hosts that serve its pages (``m.instagram.com``); any other subdomain
(``docs.github.com``, ``help.instagram.com``) is a site of its own."""
ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
UNRESERVED = re.compile(r"[A-Za-z0-9._~-]")
PLAYER_HOSTS = {
    "music.youtube.com": "youtube.com",
    "gaming.youtube.com": "youtube.com",
    "youtube-nocookie.com": "youtube.com",
    "play.spotify.com": "open.spotify.com",
}
"""Hosts whose addresses a provider also plays from, as the host :func:`recognise` knows."""
CODE_HOSTS = frozenset(
    {"youtu.be", "lnkd.in", "spotify.link", "discord.gg", "pin.it", "redd.it", "b23.tv", "flic.kr", "etsy.me"}
    | {"boxd.it", "signal.me", "signal.group"}
)
"""A network's hosts whose paths are codes (short links, invitations), not profiles: their case counts."""
MASTODON_USERS = re.compile(r"^/users/([^/]+)")
FIRST_SEGMENT = re.compile(r"^/@?([^/+][^/]*)")
"""A profile's name: the path's first segment, without its ``@`` (``t.me/+<code>`` is an invitation)."""


def address_key(url: str) -> str:
    """What every spelling of ``url`` shares (see the module's description)."""
    text = url.strip()
    if text.lower().startswith("mailto:"):
        mailbox = re.split(r"[?#]", text[len("mailto:") :], maxsplit=1)[0]
        return "mailto:" + unquote(mailbox).strip().lower().rstrip(".")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # an address no URL parser reads: only itself matches it
        return text
    host = _host(parts.hostname).removeprefix("www.")
    named_port = f":{port}" if port not in (None, 80, 443) else ""
    ignored = TRACKING | NETWORK_TRACKING if network_of(host) else TRACKING
    fragment = f"#{parts.fragment}" if host in FRAGMENT_HOSTS and parts.fragment else ""
    query = _query(parts.query, lambda name: name not in ignored)
    return f"{host}{named_port}{_path(parts.path)}{query}{fragment}"


def mail_recipients(url: str) -> set[str]:
    """The :func:`address_key` of every mailbox a ``mailto:`` URL writes to: the path's and those of its
    ``to``, ``cc`` and ``bcc`` parameters (a hidden mailbox in ``cc`` is still written to), however they
    are listed (``,`` or ``;``) or named (``Name <box>``); none for another URL."""
    return {address_key(f"mailto:{box}") for box in mailboxes(url)}


def profile_key(url: str) -> str:
    """What every spelling of one social profile shares (see the module's description)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    host = _host(parts.hostname)
    network = network_of(host)
    own_host = network is not None and network.key != "mastodon"  # Mastodon's servers are each their own
    host = network.domains[0] if network is not None and own_host else _without_prefix(host)
    path = MASTODON_USERS.sub(r"/\1", _path(parts.path))
    path, query = _profile_path(network, path, parts.query)
    if host in CODE_HOSTS:  # a short link's or an invitation's code: its case counts
        return f"{host}{path}{query}"
    named = (
        path.lower()
        if PROFILE_PATH.match(path)
        else FIRST_SEGMENT.sub(lambda name: f"/{name[1].lower()}", path)
    )
    return f"{host}{named}{query}"


def _profile_path(network: IconNetwork | None, path: str, query: str) -> tuple[str, str]:
    """The path and the query of a profile's address as compared: a page naming the profile in a parameter
    or after a prefix (:data:`NAMED_IN_QUERY`, :data:`NAMED_AFTER`) as ``/<name>``, and only the parameters
    that name a profile."""
    key = network.key if network is not None else ""
    parameter = NAMED_IN_QUERY.get((key, path))
    name = parse_qs(query).get(parameter, [""])[0].strip().lstrip("@") if parameter else ""
    if name and "/" not in name:
        return f"/{name}", ""
    prefix = NAMED_AFTER.get(key)
    if prefix is not None and path.startswith(f"{prefix}/"):
        path = path[len(prefix) :]
    return path, _query(query, lambda parameter: parameter in PROFILE_PARAMETERS)


def network_of(host: str) -> IconNetwork | None:
    """The social network whose profiles ``host`` serves: one of its domains, or one with a prefix of
    :data:`NETWORK_PREFIXES`; None for any other host, its other subdomains and its
    :data:`CODE_HOSTS` included."""
    domain = _without_prefix(host.lower().rstrip("."))
    return None if domain in CODE_HOSTS else BY_DOMAIN.get(domain)


def _without_prefix(host: str) -> str:
    for prefix in NETWORK_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def player_key(url: str) -> str | None:
    """The player's address of the video or track ``url`` names, from its start; None for a URL that
    no player plays."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = _host(parts.hostname).removeprefix("www.")
    if host == "w.soundcloud.com" and parts.path.rstrip("/") == "/player":  # the player of ?url=
        played = parse_qs(parts.query).get("url", [""])[0]
        return (
            player_key(played)
            if played.startswith(("https://soundcloud.com/", "http://soundcloud.com/"))
            else None
        )
    host = PLAYER_HOSTS.get(host, host)
    if host == "youtube.com" and parts.path.rstrip("/") == "/attribution_link":  # a share: ?u=/watch?v=…
        shared = parse_qs(parts.query).get("u", [""])[0]
        return player_key(f"https://youtube.com{shared}") if shared.startswith("/") else None
    path = parts.path.removeprefix("/embed") if host == "open.spotify.com" else parts.path
    secure = parts._replace(scheme="https", netloc=host, path=path).geturl()
    player = recognise(secure)
    return re.sub(r"start=\d+&|#t=\d+s$", "", player.player_url) if player else None


def _host(hostname: str | None) -> str:
    """The host as compared: no trailing dot, an IPv6 literal that reaches an IPv4 host as that host."""
    return embedded_ipv4((hostname or "").rstrip("."))


def _escapes_read(text: str) -> str:
    """``text`` with escapes of unreserved characters unescaped and the others in upper case."""

    def read(escape: re.Match[str]) -> str:
        character = chr(int(escape.group()[1:], 16))
        return character if UNRESERVED.fullmatch(character) else escape.group().upper()

    return ESCAPE.sub(read, text)


def _path(path: str) -> str:
    """The path's segments without empty ones, ``.`` and ``..`` resolved (RFC 3986, section 5.2.4)."""
    segments: list[str] = []
    for segment in _escapes_read(path).split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in ("", "."):
            segments.append(segment)
    return "".join(f"/{segment}" for segment in segments)


def _query(query: str, kept: Callable[[str], bool]) -> str:
    """The query's parameters ``kept`` says to keep (by their lower-case name), decoded and in order,
    each once (``a=1&a=1`` is ``a=1``), without pieces that name none (``&&``) and never ``utm_*`` (""
    when none is left)."""
    pairs = sorted(
        {
            (name, value)
            for name, value in parse_qsl(query, keep_blank_values=True)
            if name and not name.lower().startswith("utm_") and kept(name.lower())
        }
    )
    return f"?{urlencode(pairs)}" if pairs else ""
