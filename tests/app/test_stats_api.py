"""``GET /api/stats`` and ``/api/stats.csv``: who may ask, what is refused, and what the numbers are.

Days are counted in the requested time zone, and a report is the same before and after the roll-up.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conexoos.app.models.persistent.event import CLICK
from tests.conftest import AppFactory

from .analytics_support import (
    COUNTRY_HEADER,
    FIREFOX_UA,
    IPHONE_UA,
    RECORDED_DAY,
    UNLIMITED_HISTORY,
    Clock,
    Visitor,
    analytics_app,
    day_stats,
    freeze_clock,
    insert_event,
    roll_up,
    stats,
    stats_response,
)
from .conftest import BROWSER_UA, RATE_LIMITS_OFF, Account, sign_up

ERROR_KEYS = {"code", "message", "field"}
TOP_LISTS = {"referrers", "utm_sources", "devices", "browsers", "countries"}


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product configured for the analytics tests."""
    return analytics_app(make_app)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """New events are stamped with a fixed time."""
    return freeze_clock(monkeypatch)


def assert_error(response: TestResponse, status: int, field: str | None) -> dict[str, Any]:
    """``response`` is the JSON error ``{"error": {"code", "message", "field"}}`` with ``status``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["field"] == field
    assert error["message"]
    return error  # type: ignore[no-any-return]


# ---------------------------------------------------------------- who may ask


@pytest.mark.parametrize("path", ["/api/stats", "/api/stats.csv"])
def test_statistics_need_a_login(client: FlaskClient, path: str) -> None:
    response = client.get(
        path, query_string={"from": "2026-03-10", "to": "2026-03-10"}, headers={"Accept": "text/html"}
    )
    assert_error(response, 401, None)


@pytest.mark.parametrize("path", ["/api/stats", "/api/stats.csv"])
def test_another_users_link_is_not_found(alice: Account, bob: Account, path: str) -> None:
    bobs_link = bob.add_link("Bob's", "https://bob.example/")["id"]
    alices_link = alice.add_link("Alice's", "https://alice.example/")["id"]

    assert_error(
        stats_response(alice, path, from_=RECORDED_DAY, to=RECORDED_DAY, link_id=bobs_link), 404, None
    )
    assert_error(stats_response(alice, path, from_=RECORDED_DAY, to=RECORDED_DAY, link_id=9999), 404, None)
    assert (
        stats_response(alice, path, from_=RECORDED_DAY, to=RECORDED_DAY, link_id=alices_link).status_code
        == 200
    )
    assert (
        stats_response(bob, path, from_=RECORDED_DAY, to=RECORDED_DAY, link_id=bobs_link).status_code == 200
    )


@pytest.mark.database_matrix
def test_each_owner_sees_only_their_own_numbers(
    app: Flask, alice: Account, bob: Account, clock: Clock
) -> None:
    Visitor(ip="198.51.100.1").view(app.test_client(), "alice")
    Visitor(ip="198.51.100.2").view(app.test_client(), "alice")
    Visitor(ip="198.51.100.1").view(app.test_client(), "bob")
    for _ in range(2):
        assert day_stats(alice)["totals"]["views"] == 2
        assert day_stats(bob)["totals"]["views"] == 1
        roll_up(app)


# ---------------------------------------------------------------- what is refused

VALID = {"from": "2026-03-09", "to": "2026-03-11"}
INVALID_PARAMETERS = [
    ({"from": None}, "from"),
    ({"from": ""}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-02-30"}, "from"),
    ({"from": "2026-3-9"}, "from"),
    ({"from": "20260309"}, "from"),
    ({"from": "2026-W11-1"}, "from"),
    ({"from": "1969-12-31"}, "from"),
    ({"from": "0001-01-01", "tz": "America/New_York"}, "from"),
    ({"to": None}, "to"),
    ({"to": "2026-13-01"}, "to"),
    ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
    ({"from": "2026-03-11", "to": "2026-03-09"}, "to"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
    ({"tz": "Mars/Olympus_Mons"}, "tz"),
    ({"tz": "../../etc/passwd"}, "tz"),
    ({"tz": "+05:30"}, "tz"),
    ({"link_id": "abc"}, "link_id"),
    ({"link_id": "0"}, "link_id"),
    ({"link_id": "-3"}, "link_id"),
    ({"link_id": "1.5"}, "link_id"),
    ({"link_id": "²"}, "link_id"),
]


@pytest.mark.parametrize("path", ["/api/stats", "/api/stats.csv"])
def test_a_missing_or_invalid_parameter_is_a_400_naming_it(alice: Account, path: str) -> None:
    wrong = []
    for change, field in INVALID_PARAMETERS:
        query = {name: value for name, value in {**VALID, **change}.items() if value is not None}
        response = alice.api("GET", path, query_string=query)
        body = response.get_json(silent=True) or {}
        if response.status_code != 400 or body.get("error", {}).get("field") != field:
            wrong.append((query, response.status_code, body))
    assert wrong == []
    assert_error(alice.api("GET", path, query_string={"to": "2026-03-10"}), 400, "from")


def test_defaults_and_edges_of_valid_parameters(alice: Account) -> None:
    report = stats(alice, from_="2026-03-10", to="2026-03-10")
    assert report["range"] == {"from": "2026-03-10", "to": "2026-03-10", "tz": "UTC"}
    longest = stats(alice, from_="2025-01-01", to="2026-01-01", tz="Asia/Kathmandu")
    assert len(longest["daily"]) == 366
    assert longest["range"]["tz"] == "Asia/Kathmandu"


# ---------------------------------------------------------------- what the numbers are


def _traffic(app: Flask, shop: int, blog: int) -> None:
    """Three people: two views and a click; two views and a click; one view. Plus a bot."""
    page = app.test_client()
    phone = Visitor(ip="198.51.100.10", user_agent=IPHONE_UA)
    phone.view(
        page,
        "alice",
        "?utm_source=instagram",
        {"Referer": "https://www.instagram.com/p/1", COUNTRY_HEADER: "de"},
    )
    phone.view(page, "alice", headers={COUNTRY_HEADER: "DE"})
    phone.click(page, shop)
    desktop = Visitor(ip="198.51.100.11", user_agent=BROWSER_UA)
    desktop.view(page, "alice", headers={"Referer": "https://t.co/abc", COUNTRY_HEADER: "US"})
    desktop.view(
        page, "alice", "?utm_source=newsletter", {"Referer": "https://t.co/def", COUNTRY_HEADER: "US"}
    )
    desktop.click(page, blog, "?utm_source=newsletter")
    reader = Visitor(ip="198.51.100.12", user_agent=FIREFOX_UA)
    reader.view(page, "alice", "?utm_source=newsletter", {COUNTRY_HEADER: "XX"})
    Visitor(user_agent="Twitterbot/1.0").view(page, "alice", headers={COUNTRY_HEADER: "FR"})


@pytest.mark.database_matrix
def test_the_report_has_totals_links_a_zero_filled_series_and_top_lists(
    app: Flask, alice: Account, clock: Clock
) -> None:
    shop = alice.add_link("Shop", "https://shop.example/")["id"]
    blog = alice.add_link("Blog", "https://blog.example/")["id"]
    unclicked = alice.add_link("Old", "https://old.example/")["id"]
    _traffic(app, shop, blog)

    report = stats(alice, from_="2026-03-09", to="2026-03-11")
    assert report["range"] == {"from": "2026-03-09", "to": "2026-03-11", "tz": "UTC"}
    assert report["totals"] == {
        "views": 5,
        "clicks": 2,
        "unique_visitors": 3,
        "click_through_rate": 0.4,
        "product_clicks": 0,
    }
    assert report["links"] == [
        {"id": shop, "title": "Shop", "clicks": 1, "click_through_rate": 0.2},
        {"id": blog, "title": "Blog", "clicks": 1, "click_through_rate": 0.2},
        {"id": unclicked, "title": "Old", "clicks": 0, "click_through_rate": 0.0},
    ]
    assert report["daily"] == [
        {"date": "2026-03-09", "views": 0, "clicks": 0, "unique_visitors": 0, "product_clicks": 0},
        {"date": "2026-03-10", "views": 5, "clicks": 2, "unique_visitors": 3, "product_clicks": 0},
        {"date": "2026-03-11", "views": 0, "clicks": 0, "unique_visitors": 0, "product_clicks": 0},
    ]
    assert report["top"] == {
        "referrers": [{"value": "t.co", "count": 2}, {"value": "www.instagram.com", "count": 1}],
        "utm_sources": [{"value": "newsletter", "count": 2}, {"value": "instagram", "count": 1}],
        "devices": [{"value": "desktop", "count": 3}, {"value": "mobile", "count": 2}],
        "browsers": [
            {"value": "Chrome", "count": 2},
            {"value": "Mobile Safari", "count": 2},
            {"value": "Firefox", "count": 1},
        ],
        "countries": [{"value": "DE", "count": 2}, {"value": "US", "count": 2}],
    }

    roll_up(app)
    assert stats(alice, from_="2026-03-09", to="2026-03-11") == report


@pytest.mark.database_matrix
def test_one_links_report_counts_its_clicks(app: Flask, alice: Account, clock: Clock) -> None:
    shop = alice.add_link("Shop", "https://shop.example/")["id"]
    blog = alice.add_link("Blog", "https://blog.example/")["id"]
    _traffic(app, shop, blog)
    Visitor(ip="198.51.100.13").click(app.test_client(), blog, headers={COUNTRY_HEADER: "JP"})

    for _ in range(2):
        report = day_stats(alice, link_id=blog)
        assert report["totals"] == {
            "views": 5,
            "clicks": 2,
            "unique_visitors": 4,
            "click_through_rate": 0.4,
            "product_clicks": 0,
        }
        assert report["links"] == [{"id": blog, "title": "Blog", "clicks": 2, "click_through_rate": 0.4}]
        assert report["daily"] == [
            {"date": RECORDED_DAY, "views": 5, "clicks": 2, "unique_visitors": 4, "product_clicks": 0}
        ]
        assert report["top"]["utm_sources"] == [{"value": "newsletter", "count": 1}]
        assert report["top"]["countries"] == [{"value": "JP", "count": 1}]
        assert report["top"]["browsers"] == [{"value": "Chrome", "count": 2}]
        roll_up(app)


@pytest.mark.database_matrix
def test_product_buy_clicks_are_counted_per_product(app: Flask, alice: Account, clock: Clock) -> None:
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    book = alice.api(
        "POST",
        "/api/add/product",
        {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://b.example/"},
    )
    assert book.status_code == 201, book.get_data(as_text=True)
    product = book.get_json()["id"]
    for number in range(3):
        response = Visitor(ip=f"198.51.100.{number}").get(app.test_client(), f"/go/product/{product}")
        assert response.status_code == 302
    Visitor().click(app.test_client(), link)

    Visitor().view(app.test_client(), "alice")
    Visitor().view(app.test_client(), "alice")

    for _ in range(2):
        report = day_stats(alice)
        assert report["products"] == [
            {"id": product, "title": "E-book", "clicks": 3, "click_through_rate": 1.5}
        ]
        assert report["links"][0]["clicks"] == 1
        assert report["totals"] == {
            "views": 2,
            "clicks": 1,
            "unique_visitors": 4,
            "click_through_rate": 0.5,
            "product_clicks": 3,
        }
        assert report["daily"] == [
            {"date": RECORDED_DAY, "views": 2, "clicks": 1, "unique_visitors": 4, "product_clicks": 3}
        ]
        # One link's report narrows link clicks; product clicks stay the page's (documented).
        assert day_stats(alice, link_id=link)["totals"]["product_clicks"] == 3
        rows = _csv_rows(stats_response(alice, "/api/stats.csv", from_=RECORDED_DAY, to=RECORDED_DAY))
        assert ["products", f"{product} E-book", "clicks", "3"] in rows
        assert ["totals", "", "product_clicks", "3"] in rows
        assert ["daily", RECORDED_DAY, "product_clicks", "3"] in rows
        roll_up(app)


def test_the_country_header_is_read_only_when_configured(make_app: AppFactory, clock: Clock) -> None:
    app = make_app(overrides={**RATE_LIMITS_OFF, "APP": {"PLANS": UNLIMITED_HISTORY}})
    owner = sign_up(app, "alice")
    Visitor().view(app.test_client(), "alice", headers={COUNTRY_HEADER: "DE", "X-Country": "DE"})
    assert day_stats(owner)["top"]["countries"] == []
    assert day_stats(owner)["totals"]["views"] == 1


def test_only_two_letter_country_codes_are_kept(app: Flask, alice: Account, clock: Clock) -> None:
    for number, value in enumerate(["fr", " IT ", "XX", "T1", "Germany", "D", "", "ÄB"]):
        Visitor(ip=f"198.51.100.{number}").view(app.test_client(), "alice", headers={COUNTRY_HEADER: value})
    assert day_stats(alice)["top"]["countries"] == [{"value": "FR", "count": 1}, {"value": "IT", "count": 1}]


@pytest.mark.database_matrix
def test_top_lists_keep_the_ten_largest(app: Flask, alice: Account) -> None:
    for number in range(12):
        for repeat in range(number + 1):
            moment = datetime(2026, 3, 10, 12, repeat, tzinfo=UTC)
            insert_event(
                app, alice.id, moment, visitor=f"v{repeat}", referrer_host=f"site{number:02d}.example"
            )
    for _ in range(2):
        referrers = day_stats(alice)["top"]["referrers"]
        assert [item["value"] for item in referrers] == [
            f"site{number:02d}.example" for number in range(11, 1, -1)
        ]
        assert [item["count"] for item in referrers] == list(range(12, 2, -1))
        roll_up(app)


# ---------------------------------------------------------------- CSV


def _csv_rows(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.database_matrix
def test_the_csv_has_the_same_numbers(app: Flask, alice: Account, clock: Clock) -> None:
    shop = alice.add_link("Shop", "https://shop.example/")["id"]
    blog = alice.add_link("Blog", "https://blog.example/")["id"]
    _traffic(app, shop, blog)
    query = {"from_": "2026-03-09", "to": "2026-03-11", "tz": "Europe/Paris"}
    report = stats(alice, **query)

    response = stats_response(alice, "/api/stats.csv", **query)
    assert response.headers["Content-Disposition"] == 'attachment; filename="stats-2026-03-09-2026-03-11.csv"'
    rows = _csv_rows(response)
    assert rows[0] == ["section", "name", "metric", "value"]
    values = {(section, name, metric): value for section, name, metric, value in rows[1:]}
    assert len(values) == len(rows) - 1, "a row is repeated"

    expected: dict[tuple[str, str, str], str] = {}
    for metric, value in report["totals"].items():
        expected[("totals", "", metric)] = str(value)
    for day in report["daily"]:
        for metric in ("views", "clicks", "unique_visitors", "product_clicks"):
            expected[("daily", day["date"], metric)] = str(day[metric])
    for section in ("links", "products"):
        for item in report[section]:
            expected[(section, f"{item['id']} {item['title']}", "clicks")] = str(item["clicks"])
            expected[(section, f"{item['id']} {item['title']}", "click_through_rate")] = str(
                item["click_through_rate"]
            )
    for section, items in report["top"].items():
        for item in items:
            expected[(section, item["value"], "count")] = str(item["count"])
    assert values == expected
    assert values[("totals", "", "views")] == "5"


def test_the_csv_neutralises_formulas(app: Flask, alice: Account, clock: Clock) -> None:
    formula = '=HYPERLINK("https://evil.example","Click me")'
    link = alice.add_link(formula, "https://shop.example/")["id"]
    Visitor().view(
        app.test_client(), "alice", "?utm_source=%3Dcmd%7C%27%2FC%20calc%27%21A0"
    )  # =cmd|'/C calc'!A0
    Visitor().view(app.test_client(), "alice", "?utm_source=%40SUM(1%2B1)")  # @SUM(1+1)
    Visitor().click(app.test_client(), link)

    rows = _csv_rows(stats_response(alice, "/api/stats.csv", from_=RECORDED_DAY, to=RECORDED_DAY))
    cells = [cell for row in rows for cell in row]
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert dangerous == []
    assert ["utm_sources", "'=cmd|'/C calc'!A0", "count", "1"] in rows
    assert ["utm_sources", "'@SUM(1+1)", "count", "1"] in rows
    link_rows = [row for row in rows if row[0] == "links"]
    assert [row[1] for row in link_rows] == [f"{link} {formula}"] * 2
    assert [row[2:] for row in link_rows] == [["clicks", "1"], ["click_through_rate", "0.5"]]


# ---------------------------------------------------------------- days in the requested time zone


@pytest.mark.database_matrix
def test_an_event_lands_on_its_local_day(app: Flask, alice: Account) -> None:
    insert_event(app, alice.id, datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    expected = {
        "UTC": "2026-03-10",
        "Asia/Kolkata": "2026-03-11",  # +05:30: 05:00 on the 11th
        "America/New_York": "2026-03-10",  # EDT since the 8th: 19:30 on the 10th
        "Asia/Kathmandu": "2026-03-11",  # +05:45
        "Pacific/Kiritimati": "2026-03-11",  # +14:00
        "Pacific/Pago_Pago": "2026-03-10",  # -11:00
    }

    def days_with_views() -> dict[str, dict[str, int]]:
        found = {}
        for zone in expected:
            daily = stats(alice, from_="2026-03-09", to="2026-03-12", tz=zone)["daily"]
            found[zone] = {row["date"]: row["views"] for row in daily if row["views"]}
        return found

    assert days_with_views() == {zone: {day: 1} for zone, day in expected.items()}
    roll_up(app)
    assert days_with_views() == {zone: {day: 1} for zone, day in expected.items()}


@pytest.mark.database_matrix
def test_a_half_hour_zone_splits_days_at_its_own_midnight(app: Flask, alice: Account) -> None:
    insert_event(app, alice.id, datetime(2026, 3, 10, 18, 29, 59, tzinfo=UTC), visitor="a")  # 23:59:59 IST
    insert_event(app, alice.id, datetime(2026, 3, 10, 18, 30, tzinfo=UTC), visitor="b")  # 00:00 IST
    for _ in range(2):
        daily = stats(alice, from_="2026-03-10", to="2026-03-11", tz="Asia/Kolkata")["daily"]
        assert [(row["date"], row["views"]) for row in daily] == [("2026-03-10", 1), ("2026-03-11", 1)]
        assert stats(alice, from_="2026-03-10", to="2026-03-10")["totals"]["views"] == 2
        roll_up(app)


# (UTC instant, local day) around both of New York's DST changes of 2026.
NEW_YORK_DST = [
    (datetime(2026, 3, 8, 4, 59, tzinfo=UTC), "2026-03-07"),  # 23:59 EST
    (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), "2026-03-08"),  # 00:00 EST
    (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "2026-03-08"),  # 01:59 EST, the last minute before the jump
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "2026-03-08"),  # 03:00 EDT
    (datetime(2026, 3, 9, 3, 59, tzinfo=UTC), "2026-03-08"),  # 23:59 EDT: the 8th has 23 hours
    (datetime(2026, 3, 9, 4, 0, tzinfo=UTC), "2026-03-09"),  # 00:00 EDT
    (datetime(2026, 11, 1, 3, 59, tzinfo=UTC), "2026-10-31"),  # 23:59 EDT
    (datetime(2026, 11, 1, 4, 0, tzinfo=UTC), "2026-11-01"),  # 00:00 EDT
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "2026-11-01"),  # 01:30 EDT
    (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "2026-11-01"),  # 01:30 EST, the second time
    (datetime(2026, 11, 2, 4, 59, tzinfo=UTC), "2026-11-01"),  # 23:59 EST: the 1st has 25 hours
    (datetime(2026, 11, 2, 5, 0, tzinfo=UTC), "2026-11-02"),  # 00:00 EST
]


@pytest.mark.database_matrix
def test_days_across_new_yorks_dst_changes(app: Flask, alice: Account) -> None:
    for number, (moment, _) in enumerate(NEW_YORK_DST):
        insert_event(app, alice.id, moment, visitor=f"visitor-{number}")
    expected = Counter(day for _, day in NEW_YORK_DST)
    ranges = [("2026-03-06", "2026-03-10"), ("2026-10-30", "2026-11-03"), ("2026-03-08", "2026-03-08")]

    def views_by_day() -> dict[str, int]:
        found: dict[str, int] = {}
        for start, end in ranges:
            for row in stats(alice, from_=start, to=end, tz="America/New_York")["daily"]:
                found[row["date"]] = row["views"]
        return {day: views for day, views in found.items() if views}

    assert views_by_day() == expected
    assert expected["2026-03-08"] == 4 and expected["2026-11-01"] == 4
    roll_up(app, now=datetime(2026, 3, 31, tzinfo=UTC))  # the March events only: half rolled up
    assert views_by_day() == expected
    roll_up(app)
    assert views_by_day() == expected


ZONES = [
    "UTC",
    "America/New_York",
    "America/St_Johns",  # -03:30 / -02:30
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",  # +10:30 / +11:00: a half-hour DST change on 2026-04-05
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Kiritimati",
]


@pytest.mark.database_matrix
def test_every_zone_agrees_with_the_zone_database_before_and_after_the_roll_up(
    app: Flask, alice: Account
) -> None:
    start = datetime(2026, 3, 4, tzinfo=UTC)
    moments = [start + timedelta(minutes=7 * 60 + 13) * step for step in range(110)]  # to 2026-04-06
    link = alice.add_link("Shop", "https://shop.example/")["id"]
    for number, moment in enumerate(moments):
        kind_fields: dict[str, Any] = {"kind": CLICK, "link_id": link} if number % 3 == 0 else {}
        insert_event(app, alice.id, moment, visitor=f"visitor-{number}", **kind_fields)

    def expected(zone: str) -> dict[str, tuple[int, int]]:
        counts: dict[str, list[int]] = {}
        for number, moment in enumerate(moments):
            day = moment.astimezone(ZoneInfo(zone)).date().isoformat()
            counts.setdefault(day, [0, 0])[0 if number % 3 else 1] += 1
        return {day: (views, clicks) for day, (views, clicks) in counts.items()}

    def reported(zone: str) -> dict[str, tuple[int, int]]:
        daily = stats(alice, from_="2026-03-01", to="2026-04-10", tz=zone)["daily"]
        return {row["date"]: (row["views"], row["clicks"]) for row in daily if row["views"] or row["clicks"]}

    before = {zone: reported(zone) for zone in ZONES}
    assert before == {zone: expected(zone) for zone in ZONES}
    roll_up(app, now=moments[len(moments) // 2])
    assert {zone: reported(zone) for zone in ZONES} == before
    roll_up(app)
    assert {zone: reported(zone) for zone in ZONES} == before


@pytest.mark.database_matrix
def test_top_lists_of_a_local_day_are_the_same_before_and_after_the_roll_up(
    app: Flask, alice: Account
) -> None:
    """Top lists are kept per hour: exact in whole-hour zones, and the same either way in the others."""
    visits = [
        # 23:40 IST on the 7th, in the 18:00 UTC hour where the IST day starts
        (datetime(2026, 3, 7, 18, 10, tzinfo=UTC), "eve.example"),
        # 23:50 EST on the 7th, 10:20 IST on the 8th
        (datetime(2026, 3, 8, 4, 50, tzinfo=UTC), "before.example"),
        (datetime(2026, 3, 8, 5, 10, tzinfo=UTC), "first.example"),  # 00:10 EST on the 8th
        (datetime(2026, 3, 8, 18, 15, tzinfo=UTC), "first.example"),  # 23:45 IST on the 8th
        (datetime(2026, 3, 8, 18, 45, tzinfo=UTC), "late.example"),  # 00:15 IST on the 9th
        (datetime(2026, 3, 9, 3, 50, tzinfo=UTC), "last.example"),  # 23:50 EDT on the 8th
        (datetime(2026, 3, 9, 4, 10, tzinfo=UTC), "after.example"),  # 00:10 EDT on the 9th
    ]
    for number, (moment, referrer) in enumerate(visits):
        insert_event(app, alice.id, moment, visitor=f"v{number}", referrer_host=referrer)

    def referrers(zone: str) -> dict[str, int]:
        report = stats(alice, from_="2026-03-08", to="2026-03-08", tz=zone)
        return {item["value"]: item["count"] for item in report["top"]["referrers"]}

    new_york = {"first.example": 2, "late.example": 1, "last.example": 1}
    assert referrers("America/New_York") == new_york
    kolkata = referrers("Asia/Kolkata")
    roll_up(app, now=datetime(2026, 3, 8, 18, 30, tzinfo=UTC))  # half rolled up
    assert referrers("America/New_York") == new_york
    assert referrers("Asia/Kolkata") == kolkata
    roll_up(app)
    assert referrers("America/New_York") == new_york
    assert referrers("Asia/Kolkata") == kolkata
    assert kolkata["before.example"] == 1 and "after.example" not in kolkata


@pytest.mark.database_matrix
def test_unique_visitors_are_the_same_before_and_after_the_roll_up_across_a_zone_boundary(
    app: Flask, alice: Account
) -> None:
    """A visitor's first event of a UTC day is their unique visit, whether or not it was rolled up yet."""
    visits = [
        ("early-bird", datetime(2026, 3, 10, 10, 0, tzinfo=UTC)),  # 15:30 IST on the 10th
        ("early-bird", datetime(2026, 3, 10, 23, 30, tzinfo=UTC)),  # 05:00 IST on the 11th, same UTC day
        ("night-owl", datetime(2026, 3, 11, 1, 0, tzinfo=UTC)),  # 06:30 IST on the 11th
        ("night-owl", datetime(2026, 3, 10, 22, 0, tzinfo=UTC)),  # 03:30 IST on the 11th, the UTC day before
    ]
    for visitor, moment in visits:
        insert_event(app, alice.id, moment, visitor=visitor)

    def uniques() -> list[tuple[str, int, int]]:
        rows = []
        for start, end in (("2026-03-11", "2026-03-11"), ("2026-03-10", "2026-03-11")):
            for row in stats(alice, from_=start, to=end, tz="Asia/Kolkata")["daily"]:
                rows.append((row["date"], row["views"], row["unique_visitors"]))
        return rows

    before = uniques()
    # On the 11th (IST): night-owl's two UTC days; early-bird was first seen on the 10th (IST and UTC).
    assert before[0] == ("2026-03-11", 3, 2)
    assert before[1:] == [("2026-03-10", 1, 1), ("2026-03-11", 3, 2)]
    roll_up(app)
    assert uniques() == before
