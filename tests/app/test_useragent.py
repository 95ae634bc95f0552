"""User-agent classification (``conexoos.app.utils.useragent``): device class, OS and browser."""

from __future__ import annotations

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
