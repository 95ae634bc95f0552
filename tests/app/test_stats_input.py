"""Bad statistics input is a 4xx with a JSON error naming the parameter, never a 500.

Out-of-range, far-future and malformed dates, timestamps, huge integers, and time-zone names that are
partial, paths, or hold NUL or lone surrogates, on ``/api/stats``, ``/api/stats.csv`` and the stats page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from conexoos.app.dto.stats import FUTURE_DAYS

from .analytics_support import ANALYTICS_OVERRIDES
from .conftest import Account

API_PATHS = ("/api/stats", "/api/stats.csv")
GOOD = {"from": "2026-03-01", "to": "2026-03-07"}


def _query(params: dict[str, str]) -> str:
    """Percent-encode ``params`` as a browser would, lone surrogates included (as their raw code units)."""
    return "&".join(
        f"{quote(name)}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
        for name, value in params.items()
    )


def _get(account: Account, path: str, params: dict[str, str]) -> TestResponse:
    return account.api("GET", f"{path}?{_query(params)}")


def _assert_json_error(response: TestResponse, status: int | None = None, field: str | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if status is not None:
        assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error["field"] == field, error


def _far_future() -> str:
    return (datetime.now(UTC).date() + timedelta(days=FUTURE_DAYS + 1)).isoformat()


BAD = {
    "year one": ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    "year 9999": ({"from": "2026-03-01", "to": "9999-12-31"}, "to"),
    "all of 9999": ({"from": "9999-12-01", "to": "9999-12-30", "tz": "Etc/GMT+12"}, "from"),
    "year 10000": ({"from": "10000-01-01", "to": "10000-01-02"}, "from"),
    "a timestamp": ({"from": "1773100800", "to": "1773187200"}, "from"),
    "a huge integer": ({"from": "9" * 5000, "to": "2026-03-02"}, "from"),
    "no such day": ({"from": "2026-02-30", "to": "2026-03-02"}, "from"),
    "far future": ({"from": "2026-03-01", "to": "2026-03-01", "tz": "UTC"} | {"from": _far_future()}, "from"),
    "partial zone": (GOOD | {"tz": "Europe/"}, "tz"),
    "zone folder": (GOOD | {"tz": "America"}, "tz"),
    "path": (GOOD | {"tz": "../../etc/passwd"}, "tz"),
    "absolute path": (GOOD | {"tz": "/etc/localtime"}, "tz"),
    "zone data file": (GOOD | {"tz": "zone.tab"}, "tz"),
    "the server's own zone": (GOOD | {"tz": "localtime"}, "tz"),
    "an unset machine's zone": (GOOD | {"tz": "Factory"}, "tz"),
    "NUL": (GOOD | {"tz": "Europe/Paris\x00"}, "tz"),
    "lone surrogate": (GOOD | {"tz": "Europe/\ud800"}, "tz"),
    "huge link id": (GOOD | {"link_id": "9" * 5000}, "link_id"),
    "link id past 64 bits": (GOOD | {"link_id": "99999999999999999999"}, "link_id"),
}


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """The product with unlimited statistics history (the plan's history limit is tested elsewhere)."""
    return make_app(overrides=ANALYTICS_OVERRIDES)


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_input_is_a_400_naming_the_parameter(
    alice: Account, path: str, case: tuple[dict[str, str], str]
) -> None:
    params, field = case
    _assert_json_error(_get(alice, path, params), 400, field)


def test_a_year_ahead_is_still_accepted(alice: Account) -> None:
    today = datetime.now(UTC).date()
    response = _get(
        alice, "/api/stats", {"from": today.isoformat(), "to": (today + timedelta(days=30)).isoformat()}
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_stats_page_ignores_its_query_string(alice: Account) -> None:
    """The page takes no parameters (its script asks /api/stats): junk in the URL changes nothing."""
    for params, _field in BAD.values():
        assert _get(alice, "/dashboard/stats", params).status_code == 200


DATES = st.one_of(
    st.dates().map(lambda day: day.isoformat()),
    st.integers().map(str),
    st.from_regex(r"[0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}", fullmatch=True),
    st.text(max_size=30),
)
ZONES = st.one_of(
    st.sampled_from(["UTC", "Europe/Paris", "Asia/Kathmandu", "Etc/GMT+12", "Pacific/Kiritimati", "Europe/"]),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("./_-+AEaez\x00\ud800"), max_size=20),
)
LINK_IDS = st.one_of(st.integers().map(str), st.text(max_size=12))
PARAMS = st.fixed_dictionaries(
    {"from": DATES, "to": DATES}, optional={"tz": ZONES, "link_id": LINK_IDS, "from ": st.text(max_size=5)}
)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(params=PARAMS, path=st.sampled_from(API_PATHS))
def test_no_statistics_query_is_a_500(alice: Account, params: dict[str, str], path: str) -> None:
    response = _get(alice, path, params)
    assert response.status_code < 500, (params, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        _assert_json_error(response)
