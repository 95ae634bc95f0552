"""(network, handle or URL) -> the canonical https URL of a profile, for a row of social icons.

A handle is checked against the network's own rules (length, characters) and placed in the network's
profile URL; a URL must be http(s) on one of the network's domains (or a subdomain of one) and is
returned as https, without credentials, port or fragment (but for Signal, whose fragment names the
contact). Networks without a handle form (Spotify, Discord...) accept URLs only. Mastodon is federated:
a handle ``@user@instance`` names its server, and a URL on any server is accepted when its path is a
profile (``/@user``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .icon_networks import NETWORKS
from .link_icons import network_for_host

URL_MAX = 500
FRAGMENT_HOSTS = frozenset({"signal.me", "signal.group"})
"""Hosts whose addresses name their target in the fragment (``signal.me/#eu/<id>``): it is kept there."""


class SocialURLError(ValueError):
    """A handle or URL that is not one of the network's; the message says why, for a person."""


@dataclass(frozen=True)
class HandleRule:
    """How a network's handles look (matched after one leading ``@`` is dropped) and where they live."""

    pattern: str
    profile: str
    """The profile URL, with ``{handle}`` (or the pattern's named groups) filled in."""
    example: str


HANDLES: dict[str, HandleRule] = {
    "instagram": HandleRule(r"[A-Za-z0-9._]{1,30}", "https://www.instagram.com/{handle}/", "ana.makes"),
    "tiktok": HandleRule(r"[A-Za-z0-9._]{2,24}", "https://www.tiktok.com/@{handle}", "ana.makes"),
    "youtube": HandleRule(r"[A-Za-z0-9._-]{3,30}", "https://www.youtube.com/@{handle}", "@AnaMakes"),
    "x": HandleRule(r"[A-Za-z0-9_]{1,15}", "https://x.com/{handle}", "ana_makes"),
    "facebook": HandleRule(r"[A-Za-z0-9.]{5,50}", "https://www.facebook.com/{handle}", "ana.makes"),
    "linkedin": HandleRule(r"[A-Za-z0-9-]{3,100}", "https://www.linkedin.com/in/{handle}/", "ana-makes"),
    "github": HandleRule(
        r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}", "https://github.com/{handle}", "ana"
    ),
    "gitlab": HandleRule(r"[A-Za-z0-9_][A-Za-z0-9_.-]{1,254}", "https://gitlab.com/{handle}", "ana"),
    "soundcloud": HandleRule(r"[a-z0-9_-]{3,25}", "https://soundcloud.com/{handle}", "ana-makes"),
    "twitch": HandleRule(r"[A-Za-z0-9_]{4,25}", "https://www.twitch.tv/{handle}", "anamakes"),
    "kick": HandleRule(r"[A-Za-z0-9_]{4,25}", "https://kick.com/{handle}", "anamakes"),
    "telegram": HandleRule(r"[A-Za-z][A-Za-z0-9_]{4,31}", "https://t.me/{handle}", "anamakes"),
    "whatsapp": HandleRule(r"\+?(?P<number>[1-9][0-9]{6,14})", "https://wa.me/{number}", "+34600000000"),
    "snapchat": HandleRule(
        r"[A-Za-z][A-Za-z0-9._-]{2,14}", "https://www.snapchat.com/add/{handle}", "anamakes"
    ),
    "pinterest": HandleRule(r"[A-Za-z0-9_]{3,30}", "https://www.pinterest.com/{handle}/", "anamakes"),
    "reddit": HandleRule(
        r"(?:u/)?(?P<user>[A-Za-z0-9_-]{3,20})", "https://www.reddit.com/user/{user}", "u/ana"
    ),
    "tumblr": HandleRule(r"[a-z0-9-]{1,32}", "https://{handle}.tumblr.com/", "anamakes"),
    "mastodon": HandleRule(
        r"(?P<user>[A-Za-z0-9_]{1,30})@(?P<server>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
        "https://{server}/@{user}",
        "@ana@mastodon.social",
    ),
    "bluesky": HandleRule(
        r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+",
        "https://bsky.app/profile/{handle}",
        "ana.bsky.social",
    ),
    "threads": HandleRule(r"[A-Za-z0-9._]{1,30}", "https://www.threads.net/@{handle}", "ana.makes"),
    "vk": HandleRule(r"[A-Za-z0-9_.]{5,32}", "https://vk.com/{handle}", "anamakes"),
    "patreon": HandleRule(r"[A-Za-z0-9_]{1,64}", "https://www.patreon.com/{handle}", "anamakes"),
    "kofi": HandleRule(r"[A-Za-z0-9_]{1,64}", "https://ko-fi.com/{handle}", "anamakes"),
    "buymeacoffee": HandleRule(r"[A-Za-z0-9_]{3,50}", "https://buymeacoffee.com/{handle}", "anamakes"),
    "onlyfans": HandleRule(r"[A-Za-z0-9_.-]{1,30}", "https://onlyfans.com/{handle}", "anamakes"),
    "cashapp": HandleRule(r"\$?(?P<tag>[A-Za-z][A-Za-z0-9]{0,19})", "https://cash.app/${tag}", "$AnaMakes"),
    "paypal": HandleRule(r"[A-Za-z0-9]{1,20}", "https://paypal.me/{handle}", "AnaMakes"),
    "venmo": HandleRule(r"[A-Za-z0-9_-]{5,30}", "https://venmo.com/u/{handle}", "Ana-Makes"),
    "gumroad": HandleRule(r"[A-Za-z0-9]{1,50}", "https://{handle}.gumroad.com/", "anamakes"),
    "substack": HandleRule(r"[a-z0-9-]{1,63}", "https://{handle}.substack.com/", "anamakes"),
    "medium": HandleRule(r"[A-Za-z0-9._-]{1,50}", "https://medium.com/@{handle}", "@anamakes"),
    "behance": HandleRule(r"[A-Za-z0-9_-]{3,40}", "https://www.behance.net/{handle}", "anamakes"),
    "dribbble": HandleRule(r"[A-Za-z0-9_-]{2,40}", "https://dribbble.com/{handle}", "anamakes"),
    "artstation": HandleRule(r"[A-Za-z0-9_-]{2,30}", "https://www.artstation.com/{handle}", "anamakes"),
    "deviantart": HandleRule(r"[A-Za-z0-9-]{3,20}", "https://www.deviantart.com/{handle}", "anamakes"),
    "unsplash": HandleRule(r"[A-Za-z0-9_]{1,30}", "https://unsplash.com/@{handle}", "@anamakes"),
    "vsco": HandleRule(r"[A-Za-z0-9_-]{1,30}", "https://vsco.co/{handle}", "anamakes"),
    "bandcamp": HandleRule(r"[a-z0-9-]{1,63}", "https://{handle}.bandcamp.com/", "anamakes"),
    "etsy": HandleRule(r"[A-Za-z0-9]{4,20}", "https://www.etsy.com/shop/{handle}", "AnaMakesShop"),
    "letterboxd": HandleRule(r"[A-Za-z0-9_]{2,15}", "https://letterboxd.com/{handle}/", "anamakes"),
    "calendly": HandleRule(r"[A-Za-z0-9_-]{1,60}", "https://calendly.com/{handle}", "anamakes"),
    "linktree": HandleRule(r"[A-Za-z0-9_.]{1,30}", "https://linktr.ee/{handle}", "anamakes"),
    "producthunt": HandleRule(r"[A-Za-z0-9_]{1,30}", "https://www.producthunt.com/@{handle}", "@anamakes"),
}
FEDERATED = frozenset({"mastodon"})
"""Networks whose profiles live on any server: a URL's path, not its host, says it is one."""
FEDERATED_PROFILE = re.compile(r"/@[A-Za-z0-9_]{1,30}/?")


def canonical_url(network: str, value: str) -> str:
    """The https profile URL of ``value`` (a handle, or a URL on ``network``'s domains) on ``network``;
    :class:`SocialURLError` with a message a person can act on otherwise."""
    known = NETWORKS.get(network)
    if known is None:
        raise SocialURLError(f"{network!r} is not a network this site knows.")
    text = value.strip()
    if not text:
        raise SocialURLError(f"Enter your {known.name} handle or the address of your profile.")
    if len(text) > URL_MAX:
        raise SocialURLError(f"That is longer than {URL_MAX} characters.")
    if "://" in text or text.lower().startswith(("http:", "https:")):
        url = _from_url(network, text)
    else:
        url = _from_handle(network, text)
    if network in FEDERATED and not _is_domain_name(urlsplit(url).hostname or ""):
        raise SocialURLError(
            f"“{text}” names no {known.name} server by its domain name (for example mastodon.social)."
        )
    return url


def _is_domain_name(host: str) -> bool:
    """Whether ``host`` is a public-looking domain name: dotted, its last label letters (no IP address,
    no ``localhost``): a server people can follow."""
    labels = host.rstrip(".").split(".")
    return len(labels) > 1 and labels[-1].isalpha() and all(labels)


def _from_handle(network: str, handle: str) -> str:
    rule = HANDLES.get(network)
    name = NETWORKS[network].name
    if rule is None:
        raise SocialURLError(f"{name} has no handles here: paste the address of your profile (https://...).")
    bare = handle[1:] if handle.startswith("@") and network not in ("whatsapp", "cashapp") else handle
    match = re.fullmatch(rule.pattern, bare)
    if match is None:
        raise SocialURLError(f"“{handle}” is not a valid {name} handle (for example {rule.example}).")
    fields = match.groupdict() or {"handle": bare}
    return rule.profile.format(
        **{key: value.lower() if key == "server" else value for key, value in fields.items()}
    )


def _from_url(network: str, text: str) -> str:
    name = NETWORKS[network].name
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018 (a port that is not a number raises ValueError here)
    except ValueError:
        raise SocialURLError(f"“{text}” is not a web address.") from None
    if parts.scheme.lower() not in ("http", "https") or not host or not host.isascii():
        raise SocialURLError(f"“{text}” is not a web address (https://...).")
    if any(ch.isspace() or ch in "<>\"'`\\" for ch in text):
        raise SocialURLError(f"“{text}” holds characters a web address cannot hold.")
    if parts.port is not None or parts.username is not None:
        raise SocialURLError(f"“{text}” names a port or a user name: give the profile's plain address.")
    if network in FEDERATED:
        if not FEDERATED_PROFILE.fullmatch(parts.path):
            raise SocialURLError(f"“{text}” is not a {name} profile (https://server/@you).")
    elif getattr(network_for_host(host), "key", None) != network:
        domains = ", ".join(NETWORKS[network].domains)
        raise SocialURLError(f"“{text}” is not on {name} ({domains}).")
    fragment = parts.fragment if host.lower().removeprefix("www.") in FRAGMENT_HOSTS else ""
    return urlunsplit(("https", host, parts.path or "/", parts.query, fragment))
