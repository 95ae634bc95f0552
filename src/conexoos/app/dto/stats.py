"""The ``/api/stats`` query parameters and report shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from .errors import InputError
from .fields import Schema, output

MAX_RANGE_DAYS = 366
EARLIEST_DATE = date(1970, 1, 2)
"""A day after the epoch: a local day in any zone starts at a positive timestamp."""
FUTURE_DAYS = MAX_RANGE_DAYS
"""``from`` and ``to`` may be at most this many days after today (UTC): a year ahead, never year 9999."""
MAX_LINK_ID_DIGITS = 18
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class StatsQuery:
    """A validated statistics request: inclusive local dates in ``tz``, optionally one link."""

    start: date
    end: date
    tz: ZoneInfo
    link_id: int | None


def parse_stats_query(args: Mapping[str, str]) -> StatsQuery:
    """Validate the query string; a missing or invalid parameter is a 400 naming it."""
    start = _date(args, "from")
    end = _date(args, "to")
    if end < start:
        raise _bad("to", "to must be on or after from")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise _bad("to", f"the range may span at most {MAX_RANGE_DAYS} days")
    return StatsQuery(start, end, _zone(args.get("tz") or "UTC"), _link_id(args.get("link_id", "")))


def _date(args: Mapping[str, str], name: str) -> date:
    raw = args.get(name)
    if not raw:
        raise _bad(name, f"{name} is required (YYYY-MM-DD)", code="required")
    try:
        # fromisoformat alone would also take 20260310 and 2026-W11-2.
        value = date.fromisoformat(raw) if _ISO_DATE.fullmatch(raw) else None
    except ValueError:
        value = None
    if value is None:
        raise _bad(name, f"{name} must be a date as YYYY-MM-DD, got {raw[:40]!r}")
    latest = latest_date()
    if not EARLIEST_DATE <= value <= latest:
        raise _bad(name, f"{name} must be between {EARLIEST_DATE.isoformat()} and {latest.isoformat()}")
    return value


def latest_date() -> date:
    """The last date a report may cover: :data:`FUTURE_DAYS` after today in UTC."""
    return datetime.now(UTC).date() + timedelta(days=FUTURE_DAYS)


NOT_PLACES = frozenset({"localtime", "Factory"})
"""Names in the zone database that are no place's time: ``localtime`` is whatever zone the server's
machine is set to (another answer on each host), ``Factory`` is the "-00" of a machine not set up yet."""


@cache
def _zone_names() -> frozenset[str]:
    return (frozenset(available_timezones()) - NOT_PLACES) | {"UTC"}


def _zone(name: str) -> ZoneInfo:
    # Only names of the zone database: ZoneInfo() itself would open any file path it is given.
    if name not in _zone_names():
        shown = name[:60].encode("ascii", "backslashreplace").decode()
        raise _bad("tz", f"tz must be an IANA time zone such as Europe/Paris, got {shown!r}")
    return ZoneInfo(name)


def _link_id(raw: str) -> int | None:
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_LINK_ID_DIGITS) or int(raw) < 1:
        raise _bad("link_id", "link_id must be a positive integer (an id from /api/links)")
    return int(raw)


def _bad(field: str, message: str, code: str = "invalid") -> InputError:
    return InputError(message, field=field, code=code, status=400)


INTEGER, NUMBER, STRING = {"type": "integer"}, {"type": "number"}, {"type": "string"}
DATE = {"type": "string", "format": "date"}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _list_of(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": _object(**properties)}


_COUNTS = _list_of(value=STRING, count=INTEGER)
STATS_REPORT = Schema(
    "StatsReport",
    (
        output("range", _object(**{"from": DATE, "to": DATE, "tz": STRING})),
        output(
            "totals",
            _object(
                views=INTEGER,
                clicks=INTEGER,
                unique_visitors=INTEGER,
                click_through_rate=NUMBER,
                product_clicks=INTEGER,
            ),
        ),
        output("links", _list_of(id=INTEGER, title=STRING, clicks=INTEGER, click_through_rate=NUMBER)),
        output("products", _list_of(id=INTEGER, title=STRING, clicks=INTEGER, click_through_rate=NUMBER)),
        output("locks", _list_of(id=INTEGER, title=STRING, lock_views=INTEGER, unlocks=INTEGER)),
        output(
            "daily",
            _list_of(
                date=DATE, views=INTEGER, clicks=INTEGER, unique_visitors=INTEGER, product_clicks=INTEGER
            ),
        ),
        output(
            "top",
            _object(
                referrers=_COUNTS, utm_sources=_COUNTS, devices=_COUNTS, browsers=_COUNTS, countries=_COUNTS
            ),
        ),
    ),
    "Views, clicks and unique visitors of your page over a range of days in a time zone. clicks count link "
    "clicks (/go/<id>; only link_id's when given); product_clicks count clicks on products' buy links "
    "(/go/product/<id>), whatever link_id is. Top lists count page views, or link_id's clicks when given. "
    "locks lists locked links (and links locked earlier in the range): lock_views counts visitors shown the "
    "lock at /go/<id>, unlocks those who passed it (they are counted in clicks too).",
)
STATS_PARAMETERS = [
    {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
    {"name": "tz", "in": "query", "required": False, "schema": {"type": "string", "default": "UTC"}},
    {"name": "link_id", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
]
