"""What a page view or a click through ``/go/<id>`` records: bots, the owner and repeat visitors included.

Every figure is read back through ``GET /api/stats``, the way the creator sees it.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select

from conexoos.app.controllers import rollups
from conexoos.app.models.persistent import AnalyticsEvent, User
from conexoos.framework import db
from tests.conftest import AppFactory
from tests.support.live_server import run_live_server
from tests.support.services import DATABASE_KINDS, fresh_database

from .analytics_support import (
    ANALYTICS_OVERRIDES,
    FIREFOX_UA,
    IPHONE_UA,
    RECORDED_AT,
    Clock,
    Visitor,
    analytics_app,
    count_events,
    day_stats,
    flush_events,
    freeze_clock,
    roll_up,
    stats,
)
from .conftest import BROWSER_UA, Account, sign_up

BOT_AGENTS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "googlebot-smartphone": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "whatsapp": "WhatsApp/2.23.20.0",
    "slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "telegrambot": "TelegramBot (like TwitterBot)",
    "discordbot": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "twitterbot": "Twitterbot/1.0",
    "linkedinbot": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "imessage-preview": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
        "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
    ),
    "snapchat-preview": "Mozilla/5.0 (compatible; Snap URL Preview Service; bot; snap-preview@snap.com)",
    "viber-preview": "Viber/20.9.0.8 CFNetwork/1410.0.3 Darwin/22.6.0",
    "empty": "",
    "blank": "   ",
    "made-up-long": BROWSER_UA + " " + "x" * 5000,  # over LONGEST_BROWSER_AGENT: made up
    # Outside tester: link-card fetchers of Bluesky and the fediverse, a feed reader, Lighthouse.
    "bluesky-cardyb": "Mozilla/5.0 (compatible; Bluesky Cardyb/1.1; +mailto:support@bsky.app)",
    "akkoma": "Akkoma 3.10.0; https://social.example <admin@social.example>",
    "pleroma": "Pleroma 2.6.0; https://pleroma.example <admin@pleroma.example>",
    "friendica": "Friendica 'Giant Rhubarb' 2023.05-1518; https://friendica.example",
    "lemmy": "Lemmy/0.19.3; +https://lemmy.example",
    "feedly": "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)",
    "lighthouse": (
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse"
    ),
}

# (user-agent, device class, browser) of people, including the in-app browsers link-in-bio traffic comes from.
PEOPLE_AGENTS = {
    "chrome-windows": (BROWSER_UA, "desktop", "Chrome"),
    "firefox-linux": (FIREFOX_UA, "desktop", "Firefox"),
    "safari-iphone": (IPHONE_UA, "mobile", "Mobile Safari"),
    "safari-ipad": (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "tablet",
        "Mobile Safari",
    ),
    "instagram-app": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 Instagram 300.0.0.18.111 (iPhone14,2; iOS 17_0; en_US; en; scale=3.00; 1170x2532; "
        "516178472)",
        "mobile",
        "Instagram",
    ),
    "tiktok-app": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 musical_ly_30.5.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US",
        "mobile",
        "TikTok",
    ),
    "snapchat-app": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 Snapchat/12.40.0.40 (like Safari/8615.2.9.10.4, panda)",
        "mobile",
        "Snapchat",
    ),
    "line-app": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 Safari Line/13.3.0",
        "mobile",
        "LINE",
    ),
    "pinterest-app": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 15_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 [Pinterest/iOS]",
        "mobile",
        "Pinterest",
    ),
    "facebook-in-app-long": (  # an in-app browser's agent (266 characters) padded to 449: still counted
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 [FBAN/FBIOS;FBAV/471.0.0.38.98;FBBV/617045185;FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;"
        "FBSV/17.5.1;FBSS/3;FBID/phone;FBLC/en_GB;FBOP/5;FBRV/619542452;IABMV/1]" + " " * 3 + "x" * 180,
        "mobile",
        "Facebook",
    ),
    "cubot-phone": (
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Chrome Mobile",
    ),
}


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product configured for the analytics tests."""
    return analytics_app(make_app)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """New events are stamped with a fixed time."""
    return freeze_clock(monkeypatch)


@pytest.fixture
def link_id(alice: Account) -> int:
    """The id of one of Alice's links."""
    return int(alice.add_link("Shop", "https://shop.example/")["id"])


# ---------------------------------------------------------------- bots and people


def test_bots_are_not_counted(app: Flask, alice: Account, link_id: int, clock: Clock) -> None:
    counted = []
    for name, user_agent in BOT_AGENTS.items():
        bot = Visitor(user_agent=user_agent)
        bot.view(app.test_client(), "alice")
        bot.click(app.test_client(), link_id)  # still redirected, just not counted
        if count_events(app):
            counted.append(name)
            _delete_events(app)
    assert counted == [], "these bots were counted"
    totals = day_stats(alice)["totals"]
    assert (totals["views"], totals["clicks"], totals["unique_visitors"]) == (0, 0, 0)

    Visitor().view(app.test_client(), "alice")  # the same page does count a person
    assert day_stats(alice)["totals"]["views"] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"Purpose": "prefetch"},
        {"X-Purpose": "preview"},
        {"X-Moz": "prefetch"},
    ],
    ids=["sec-purpose", "prerender", "purpose", "x-purpose", "x-moz"],
)
def test_prefetches_answer_but_are_not_counted(
    app: Flask, alice: Account, link_id: int, clock: Clock, headers: dict[str, str]
) -> None:
    """A browser fetching a page or a link in case the visitor goes there: nobody has, yet."""
    client = app.test_client()
    Visitor().view(client, "alice", headers=headers)  # answered (200, 302): checked by the helpers
    Visitor().click(client, link_id, headers=headers)
    assert count_events(app) == 0
    Visitor().view(client, "alice")  # the visit itself counts
    assert count_events(app) == 1
    Visitor().view(client, "alice", headers=headers)  # the page cached now: answered before Flask
    assert count_events(app) == 1


def test_head_requests_answer_but_are_not_counted(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    client = app.test_client()
    headers = {"User-Agent": Visitor().user_agent}
    assert client.head("/alice", headers=headers).status_code == 200
    assert client.head(f"/go/{link_id}", headers=headers).status_code == 302
    assert count_events(app) == 0
    Visitor().click(client, link_id)  # the same browser's GET does count
    assert count_events(app) == 1


def test_people_are_counted_with_their_device_and_browser(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    for number, (user_agent, _, _) in enumerate(PEOPLE_AGENTS.values()):
        person = Visitor(ip=f"198.51.100.{number + 1}", user_agent=user_agent)
        person.view(app.test_client(), "alice")
        person.click(app.test_client(), link_id)

    flush_events(app)
    with app.app_context():
        events = db.session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)).all()
        recorded = [(event.kind, event.device, event.browser) for event in events]
    expected = [
        (kind, device, browser) for _, device, browser in PEOPLE_AGENTS.values() for kind in ("view", "click")
    ]
    assert recorded == expected

    people = len(PEOPLE_AGENTS)
    report = day_stats(alice)
    assert report["totals"] == {
        "views": people,
        "clicks": people,
        "unique_visitors": people,
        "click_through_rate": 1.0,
        "product_clicks": 0,
    }
    devices = Counter(device for _, device, _ in PEOPLE_AGENTS.values())
    assert {item["value"]: item["count"] for item in report["top"]["devices"]} == devices
    browsers = Counter(browser for _, _, browser in PEOPLE_AGENTS.values())
    assert {item["value"]: item["count"] for item in report["top"]["browsers"]} == browsers


def _delete_events(app: Flask) -> None:
    with app.app_context():
        db.session.execute(delete(AnalyticsEvent))
        db.session.commit()


# ---------------------------------------------------------------- unique visitors


@pytest.mark.database_matrix
def test_control_characters_in_tracking_values_are_ignored_not_a_500(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    """PostgreSQL cannot store NUL: a tracking value holding a control character is ignored (stored empty)."""
    query = "?utm_source=news%00letter&utm_medium=email&utm_campaign=spring%7F"
    headers = {"Referer": "https://ex\x01ample.com/page"}
    client = app.test_client()
    Visitor().view(client, "alice", query, headers)
    Visitor().click(client, link_id, query, headers)
    flush_events(app)
    with app.app_context():
        events = db.session.scalars(select(AnalyticsEvent)).all()
        stored = {(e.utm_source, e.utm_medium, e.utm_campaign, e.referrer_host) for e in events}
    assert len(events) == 2
    assert stored == {("", "email", "", "")}
    roll_up(app)
    assert day_stats(alice)["totals"]["views"] == 1


@pytest.mark.database_matrix
def test_tracking_values_that_are_not_utf8_are_ignored(app: Flask, link_id: int, clock: Clock) -> None:
    """``utm_source=%ff%fe`` was stored as the text "%FF%FE" (Werkzeug's way of keeping such bytes) and
    shown to the owner as a source."""
    query = "?utm_source=%ff%fe&utm_medium=e%E2%82%ACmail+list&utm_campaign=spring&utm_campaign=autumn"
    client = app.test_client()
    Visitor().view(client, "alice", query)
    Visitor().click(client, link_id, query)
    flush_events(app)
    with app.app_context():
        stored = {
            (e.utm_source, e.utm_medium, e.utm_campaign) for e in db.session.scalars(select(AnalyticsEvent))
        }
    assert stored == {("", "e\u20acmail list", "spring")}


@pytest.mark.database_matrix
def test_the_same_visitor_twice_is_one_unique_visitor(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    client = app.test_client()
    visitor = Visitor(ip="198.51.100.20", user_agent=BROWSER_UA)
    visitor.view(client, "alice")
    visitor.view(client, "alice")
    visitor.click(client, link_id)

    totals = day_stats(alice)["totals"]
    assert (totals["views"], totals["clicks"], totals["unique_visitors"]) == (2, 1, 1)

    Visitor(ip="198.51.100.20", user_agent=FIREFOX_UA).view(client, "alice")  # same address, other browser
    Visitor(ip="198.51.100.21", user_agent=BROWSER_UA).view(client, "alice")  # same browser, other address
    totals = day_stats(alice)["totals"]
    assert (totals["views"], totals["unique_visitors"]) == (4, 3)

    roll_up(app)
    assert day_stats(alice)["totals"] == totals


@pytest.mark.database_matrix
def test_a_visitor_is_unique_again_the_next_day_and_no_address_is_stored(
    app: Flask, alice: Account, clock: Clock
) -> None:
    visitor = Visitor(ip="192.0.2.55")
    visitor.view(app.test_client(), "alice")
    clock.now = RECORDED_AT + timedelta(days=1)
    visitor.view(app.test_client(), "alice")

    first_day = RECORDED_AT.date().isoformat()
    second_day = clock.now.date().isoformat()
    daily = stats(alice, from_=first_day, to=second_day)["daily"]
    assert [(row["views"], row["unique_visitors"]) for row in daily] == [(1, 1), (1, 1)]

    flush_events(app)
    with app.app_context():
        events = db.session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)).all()
        hashes = [event.visitor_hash for event in events]
        stored = [str(value) for event in events for value in vars(event).values()]
    assert len(hashes) == 2 and all(len(digest) == 32 for digest in hashes)
    assert hashes[0] != hashes[1], "the daily salt must make yesterday's hash unlinkable to today's"
    assert not any("192.0.2.55" in value for value in stored), "a raw IP address was stored"


def test_recording_sets_no_cookie(app: Flask, alice: Account, link_id: int, clock: Clock) -> None:
    client = app.test_client()
    page = Visitor().get(client, "/alice")
    click = Visitor().get(client, f"/go/{link_id}")
    assert (page.status_code, click.status_code) == (200, 302)
    assert page.headers.getlist("Set-Cookie") == []
    assert click.headers.getlist("Set-Cookie") == []
    assert count_events(app) == 2


# ---------------------------------------------------------------- the owner


def test_the_owner_logged_in_is_not_counted(
    app: Flask, alice: Account, bob: Account, link_id: int, clock: Clock
) -> None:
    owner = Visitor(ip="198.51.100.99")
    owner.view(alice.client, "alice")
    owner.click(alice.client, link_id)
    assert count_events(app) == 0
    totals = day_stats(alice)["totals"]
    assert (totals["views"], totals["clicks"], totals["unique_visitors"]) == (0, 0, 0)

    # Another logged-in user is a visitor like any other.
    Visitor(ip="198.51.100.98").view(bob.client, "alice")
    Visitor(ip="198.51.100.98").click(bob.client, link_id)
    totals = day_stats(alice)["totals"]
    assert (totals["views"], totals["clicks"], totals["unique_visitors"]) == (1, 1, 1)


def test_the_owner_logged_out_is_a_visitor(app: Flask, alice: Account, link_id: int, clock: Clock) -> None:
    logged_out = alice.client.post("/logout", data={"csrf_token": alice.csrf})
    assert logged_out.status_code == 302
    Visitor().view(alice.client, "alice")
    Visitor().click(alice.client, link_id)
    assert count_events(app) == 2


# ---------------------------------------------------------------- renames


@pytest.mark.database_matrix
def test_statistics_survive_a_rename_of_the_username(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    Visitor(ip="198.51.100.1").view(app.test_client(), "alice")
    Visitor(ip="198.51.100.2").view(app.test_client(), "alice")
    Visitor(ip="198.51.100.2").click(app.test_client(), link_id)
    before = day_stats(alice)
    assert before["totals"]["views"] == 2

    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.username = "alice_renamed"
        db.session.commit()

    assert day_stats(alice) == before
    assert Visitor().get(app.test_client(), "/alice").status_code == 404
    Visitor(ip="198.51.100.3").view(app.test_client(), "alice_renamed")
    after = day_stats(alice)
    assert after["totals"]["views"] == 3
    assert after["links"] == [{**before["links"][0], "click_through_rate": round(1 / 3, 4)}]

    roll_up(app)
    assert day_stats(alice) == after


# ---------------------------------------------------------------- concurrent clicks

THREADS = 8
CLICKS_PER_THREAD = 15


def _click_many(port: int, link_id: int, count: int, statuses: list[int]) -> None:
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", f"/go/{link_id}", headers={"User-Agent": BROWSER_UA})
            statuses.append(connection.getresponse().status)
        finally:
            connection.close()


@pytest.mark.parametrize(
    "database",
    [pytest.param(kind, marks=pytest.mark.services if kind != "sqlite" else ()) for kind in DATABASE_KINDS],
)
def test_concurrent_clicks_are_all_counted(tmp_path: Path, database: str) -> None:
    """N threads × M clicks through a real threaded HTTP server give exactly N×M clicks."""
    with (
        fresh_database(database) if database != "sqlite" else nullcontext() as database_url,
        run_live_server(tmp_path, _server_overrides(database_url)) as server,
    ):
        owner = sign_up(server.app, "alice")
        link_id = int(owner.add_link("Shop", "https://shop.example/")["id"])
        statuses: list[int] = []
        threads = [
            threading.Thread(target=_click_many, args=(server.port, link_id, CLICKS_PER_THREAD, statuses))
            for _ in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "clicks still running after 60 s"

        expected = THREADS * CLICKS_PER_THREAD
        assert statuses == [302] * expected
        assert count_events(server.app) == expected
        today = datetime.now(UTC).date()
        window = {
            "from_": (today - timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=1)).isoformat(),
        }
        report = stats(owner, **window)
        assert report["totals"]["clicks"] == expected
        assert report["links"][0]["clicks"] == expected
        with server.app.app_context():
            rollups.roll_up(now=datetime.now(UTC) + timedelta(minutes=1))
        assert stats(owner, **window)["totals"]["clicks"] == expected


def _server_overrides(database_url: str | None) -> dict[str, object]:
    overrides: dict[str, object] = dict(ANALYTICS_OVERRIDES)
    if database_url is not None:
        overrides["DATABASE"] = {"main": {"url": database_url}}
    return overrides
