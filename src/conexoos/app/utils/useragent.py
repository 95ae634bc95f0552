"""User-agent classification with ua-parser: device class, OS, browser, and whether it is a bot.

The device domain (633 patterns, compiled one by one until one matches) is only read for two answers,
"Spider" and "iPhone". :class:`DeviceFamilies` finds the few patterns that can give either; when none of
them matches a string, the first device pattern that matches it (whichever it is) gives neither, so the
other patterns are not compiled and tried. A desktop browser's first classification costs about half the
CPU and memory it did, with the same results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

from ua_parser.basic import Resolver
from ua_parser.core import Domain, Matchers

# Link-preview fetchers of messaging and social apps (Bluesky's cardyb and the fediverse's servers
# included), feed readers, auditors (Lighthouse), and crawlers ua-parser may not flag. The in-app
# browsers of those apps (Snapchat/..., Line/..., [Pinterest/iOS], Mozilla/... Viber/...) are people, and
# "Cubot" is a phone brand: their names alone must not make a bot.
_BOT_PATTERN = re.compile(
    r"(?<!cu)bot\b|bot/|spider|crawl|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|twitterbot|"
    r"slackbot|slack-imgproxy|whatsapp|telegrambot|discordbot|linkedinbot|skypeuripreview|pinterestbot|"
    r"redditbot|embedly|iframely|vkshare|applebot|bingpreview|google-inspectiontool|googleother|"
    r"mastodon|headlesschrome|phantomjs|python-requests|curl/|wget/|httpx|go-http-client|okhttp|"
    r"preview|^viber/|kakaotalk-scrap|zalo|yandex|baiduspider|duckduckbot|petalbot|"
    r"cardyb|akkoma|pleroma|friendica|lemmy/|misskey|gotosocial|feedly|chrome-lighthouse",
    re.IGNORECASE,
)
DESKTOP_SYSTEMS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "macOS", "Debian"}
)
LONGEST_BROWSER_AGENT = 1024
"""Characters of the longest User-Agent counted as a person's, about four times the longest in the tests
(Facebook's in-app browser on an iPhone, 266): a longer one is made up; it is not counted, nor queued,
nor kept in :func:`classify`'s cache."""
DEVICE_FAMILIES_READ = ("Spider", "iPhone")
"""The only device families the classification reads (see :func:`classify`)."""
_REFERENCE = re.compile(r"\$\d")
"""A capture group in a ua-parser replacement (``$1``), as ``ua_parser.utils.replacer`` reads it."""
_ONE_REFERENCE = re.compile(r"\s*\$\d\s*")


class DeviceMatcher(Protocol):
    """What this module reads of a ua-parser device matcher (``ua_parser.lazy.DeviceMatcher``)."""

    family: str

    def __call__(self, ua: str) -> object: ...


class DeviceFamilies:
    """Tells, without trying every device pattern, when a string's device family cannot be one of
    :data:`DEVICE_FAMILIES_READ`.

    ua-parser makes a device family from the first pattern that matches: its ``family`` replacement with
    ``$n`` replaced by capture ``n`` (an empty string for a missing one), stripped. A replacement without
    ``$`` gives itself; one that is a single ``$n`` gives a piece of the string itself, so it can give
    "iPhone" only to a string that contains "iPhone"; any other (``$1 $2``, ``Samsung $1``) can give a
    family only if each of its stripped literal parts is in it. Every pattern that could give a family read
    here is *relevant*; if no relevant pattern matches, the first match is not one and the family is
    neither (an over-approximation of the relevant patterns only costs time, never a wrong answer)."""

    def __init__(self, matchers: list[DeviceMatcher]) -> None:
        self.always: list[DeviceMatcher] = []
        self.when_contained: dict[str, list[DeviceMatcher]] = {family: [] for family in DEVICE_FAMILIES_READ}
        for matcher in matchers:
            self._sort(matcher)

    def _sort(self, matcher: DeviceMatcher) -> None:
        replacement = matcher.family
        if _ONE_REFERENCE.fullmatch(replacement):
            for family in DEVICE_FAMILIES_READ:
                self.when_contained[family].append(matcher)
            return
        literals = [part.strip() for part in _REFERENCE.split(replacement)]
        if "$" not in replacement:
            relevant = literals[0] in DEVICE_FAMILIES_READ
        else:
            relevant = any(all(part in family for part in literals) for family in DEVICE_FAMILIES_READ)
        if relevant:
            self.always.append(matcher)

    def may_be_read(self, user_agent: str) -> bool:
        """False when the device family of ``user_agent`` is certainly not one of those read here."""
        candidates = list(self.always)
        for family, matchers in self.when_contained.items():
            if family in user_agent:
                candidates.extend(matchers)
        return any(matcher(user_agent) for matcher in candidates)


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


@lru_cache(maxsize=1)
def _device_families() -> DeviceFamilies:
    return DeviceFamilies(cast(list[DeviceMatcher], _resolver().device_matchers))


def looks_like_bot(user_agent: str) -> bool:
    """Whether the string alone says bot (empty, longer than any browser's, or a crawler's or link-preview
    fetcher's name): one regular expression, for a request to decide whether to count a visit without
    ua-parser. :func:`classify` says bot for these and for what ua-parser knows as a spider too."""
    return len(user_agent) > LONGEST_BROWSER_AGENT or _named_bot(user_agent)


@lru_cache(maxsize=512)
def _named_bot(user_agent: str) -> bool:
    """Empty, or a bot's name in it. Cached: the pattern's search (case-insensitive, 42
    alternatives; 36 µs for a desktop Chrome agent) was the costliest step of a cached page's answer,
    and the same few agents come again and again."""
    return not user_agent.strip() or _BOT_PATTERN.search(user_agent) is not None


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> ClientInfo:
    """Classify a User-Agent header (cached: the same few strings come again and again).

    The same answer as from ua-parser's full parse (``Parser.parse``), whose device family is read only
    when it may be "Spider" or "iPhone" (see :class:`DeviceFamilies`)."""
    if looks_like_bot(user_agent):
        return ClientInfo("bot", "", "")
    result = _resolver()(user_agent, Domain.USER_AGENT | Domain.OS)
    os_family = result.os.family if result.os else ""
    browser = result.user_agent.family if result.user_agent else ""
    device_family = _device_family(user_agent)
    if device_family == "Spider":
        return ClientInfo("bot", os_family, browser)
    return ClientInfo(_device_class(user_agent, os_family, device_family), os_family[:40], browser[:40])


def _device_family(user_agent: str) -> str:
    """ua-parser's device family when it may be one read here, else "" (neither)."""
    if not _device_families().may_be_read(user_agent):
        return ""
    device = _resolver()(user_agent, Domain.DEVICE).device
    return device.family if device else ""


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
