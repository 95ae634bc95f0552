"""User-agent classification (``conexoos.app.utils.useragent``): device class, OS and browser."""

from __future__ import annotations

from typing import cast

import pytest

from conexoos.app.utils.useragent import ClientInfo, classify

AGENTS = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36": (
        ClientInfo("desktop", "Linux", "Chrome")
    ),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0": (
        ClientInfo("desktop", "Windows", "Firefox")
    ),
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1": ClientInfo("mobile", "iOS", "Mobile Safari"),
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1": ClientInfo("tablet", "iOS", "Mobile Safari"),
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
    "Safari/537.36": ClientInfo("mobile", "Android", "Chrome Mobile"),
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": ClientInfo("bot", "", ""),
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)": ClientInfo("bot", "", ""),
    "": ClientInfo("bot", "", ""),
}


@pytest.mark.parametrize("agent", list(AGENTS))
def test_an_agent_is_classified_as_ua_parser_reads_it(agent: str) -> None:
    assert classify.__wrapped__(agent) == AGENTS[agent]


def test_the_classification_is_ua_parsers_full_parse() -> None:
    from ua_parser import Parser, basic, loaders  # the package's own parser, as it was used before

    parser = Parser(basic.Resolver(loaders.load_lazy_builtins()))
    for agent, info in AGENTS.items():
        if info.device != "bot":
            result = parser.parse(agent)
            assert (result.os.family if result.os else "", result.user_agent.family) == (
                info.os,
                info.browser,
            )


# Strings whose device family is read: ua-parser's "Spider" devices that the bot pattern does not catch,
# iPhone apps without "Mobi", and ordinary browsers, tablets and consoles whose device family is neither.
DEVICE_CASES = (
    "Mozilla/5.0 (compatible; StatusCake)",
    "Java/1.8.0_292",
    "Mozilla/5.0 (X11; Datanyze; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36 PTST/231109.130515",
    "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
    "(compatible; AspiegelBot)",
    "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "Mozilla/5.0 (iPhone; U; CPU like Mac OS X; en) AppleWebKit/420+ (KHTML, like Gecko) Version/3.0 "
    "Safari/419.3",
    "MyApp/2.1 (iPhone; iOS 17.2; Scale/3.00)",
    "iPhone8,1/16.3 CFNetwork/1404.0.5 Darwin/22.3.0",
    "Mozilla/5.0 (iPhone12,1; U; CPU OS 13_0 like Mac OS X) AppleWebKit/602.1.50 (KHTML, like Gecko) "
    "Version/10.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; SAMSUNG SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0 Mobile Safari/537.36",
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36",
    "Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.14912/870; U; id) Presto/2.4.15",
    "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/52.0 Mobile Safari/537.36 Edge/15.15063",
    "Dalvik/2.1.0 (Linux; U; Android 11; Redmi Note 8 Build/RKQ1.201004.002)",
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0 Safari/537.36",
    "okhttp-like/1.0 (iPhone; iPhone OS)",
    "Spider-iPhone",
)


def _full_parse(agent: str) -> ClientInfo:
    """The classification as it was made from ua-parser's full parse, every domain read."""
    from ua_parser import Parser, basic, loaders

    from conexoos.app.utils import useragent

    if not agent.strip() or useragent._BOT_PATTERN.search(agent):
        return ClientInfo("bot", "", "")
    result = Parser(basic.Resolver(loaders.load_lazy_builtins())).parse(agent)
    os_family = result.os.family if result.os else ""
    browser = result.user_agent.family if result.user_agent else ""
    device = result.device.family if result.device else ""
    if device == "Spider":
        return ClientInfo("bot", os_family, browser)
    return ClientInfo(useragent._device_class(agent, os_family, device), os_family[:40], browser[:40])


@pytest.mark.parametrize("agent", [*AGENTS, *DEVICE_CASES])
def test_reading_the_device_only_when_it_matters_gives_the_full_parses_answer(agent: str) -> None:
    assert classify.__wrapped__(agent) == _full_parse(agent)


def test_spider_devices_the_bot_pattern_misses_are_bots() -> None:
    assert classify.__wrapped__("Mozilla/5.0 (compatible; StatusCake)").is_bot
    assert classify.__wrapped__("Java/1.8.0_292").is_bot
    assert classify.__wrapped__("MyApp/2.1 (iPhone; iOS 17.2; Scale/3.00)").device == "mobile"


def test_a_desktop_browser_tries_few_device_patterns() -> None:
    from ua_parser_builtins.lazy import MATCHERS

    from conexoos.app.utils.useragent import DeviceFamilies, DeviceMatcher

    fresh = [type(matcher)(matcher.regex, matcher.regex_flag, matcher.family) for matcher in MATCHERS[2]]
    families = DeviceFamilies(cast(list[DeviceMatcher], fresh))
    agent = next(iter(AGENTS))  # a desktop Chrome: no device pattern gives a family read here
    assert not families.may_be_read(agent)
    compiled = [matcher for matcher in fresh if "pattern" in matcher.__dict__]
    assert 0 < len(compiled) < len(fresh) / 3
