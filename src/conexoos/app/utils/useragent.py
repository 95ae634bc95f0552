"""User-agent classification with ua-parser: device class, OS, browser, and whether it is a bot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from ua_parser.basic import Resolver
from ua_parser.core import Domain, Matchers

# Link-preview fetchers of messaging and social apps, and crawlers ua-parser may not flag. The in-app
# browsers of those apps (Snapchat/..., Line/..., [Pinterest/iOS], Mozilla/... Viber/...) are people, and
# "Cubot" is a phone brand: their names alone must not make a bot.
_BOT_PATTERN = re.compile(
    r"(?<!cu)bot\b|bot/|spider|crawl|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|twitterbot|"
    r"slackbot|slack-imgproxy|whatsapp|telegrambot|discordbot|linkedinbot|skypeuripreview|pinterestbot|"
    r"redditbot|embedly|iframely|vkshare|applebot|bingpreview|google-inspectiontool|googleother|"
    r"mastodon|headlesschrome|phantomjs|python-requests|curl/|wget/|httpx|go-http-client|okhttp|"
    r"preview|^viber/|kakaotalk-scrap|zalo|yandex|baiduspider|duckduckbot|petalbot",
    re.IGNORECASE,
)
DESKTOP_SYSTEMS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "macOS", "Debian"}
)


@dataclass(frozen=True)
class ClientInfo:
    """What the analytics keep of a user-agent."""

    device: str
    """``mobile``, ``tablet``, ``desktop``, ``bot`` or ``other``."""
    os: str
    browser: str

    @property
    def is_bot(self) -> bool:
        return self.device == "bot"


@lru_cache(maxsize=1)
def _resolver() -> Resolver:
    """ua-parser's pure-Python resolver over its regexes compiled one by one as a string needs them: about
    6 MiB per worker, where the Rust resolver (compiling every regex at the first parse) takes 25 MiB. A
    string it has not seen costs about half a millisecond more, once: :func:`classify` caches the result.

    Built from ua-parser's modules, not its ``Parser``: the package's ``__init__`` (loaded lazily, see
    ``conexoos.framework.lazy``) would import its YAML loader and so PyYAML (1 MiB) for nothing."""
    from ua_parser_builtins.lazy import MATCHERS  # what ua_parser.loaders.load_lazy_builtins() returns

    return Resolver(cast(Matchers, MATCHERS))  # as load_lazy_builtins() casts them


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> ClientInfo:
    """Classify a User-Agent header (cached: the same few strings come again and again)."""
    if not user_agent.strip() or _BOT_PATTERN.search(user_agent):
        return ClientInfo("bot", "", "")
    result = _resolver()(user_agent, Domain.ALL).complete()  # what ua_parser.Parser.parse does
    os_family = result.os.family if result.os else ""
    browser = result.user_agent.family if result.user_agent else ""
    device_family = result.device.family if result.device else ""
    if device_family == "Spider":
        return ClientInfo("bot", os_family, browser)
    return ClientInfo(_device_class(user_agent, os_family, device_family), os_family[:40], browser[:40])


def _device_class(user_agent: str, os_family: str, device_family: str) -> str:
    if (
        "iPad" in user_agent
        or "Tablet" in user_agent
        or (os_family == "Android" and "Mobile" not in user_agent)
    ):
        return "tablet"
    if "Mobi" in user_agent or os_family in ("iOS", "Android") or device_family == "iPhone":
        return "mobile"
    if os_family in DESKTOP_SYSTEMS:
        return "desktop"
    return "other"
