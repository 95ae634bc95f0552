"""Statistics reports: the rollups plus the raw events not yet folded in, so numbers are exact and live."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from conexoos.app.dto.stats import StatsQuery
from conexoos.app.models.persistent import AnalyticsEvent, Product, StatsRollup, User, UserLink
from conexoos.app.models.persistent.event import BUY, LINK_CLICKS, LOCK_VIEW, UNLOCK, VIEW
from conexoos.app.models.persistent.stats import (
    BUCKET_SECONDS,
    DAY,
    DAY_BUCKETS,
    HOUR,
    HOUR_BUCKETS,
    QUARTER,
    TOTAL,
)
from conexoos.framework import db

from . import plans
from .rollups import aggregate, bucket_of, known_visitors

BUCKETS_PER_DAY = 86400 // BUCKET_SECONDS
TOP_LIMIT = 10
CSV_HEADER = ("section", "name", "metric", "value")
"""Columns of a report as CSV (``/api/stats.csv``, the account export)."""
TOP_DIMENSIONS = {
    "referrers": "referrer",
    "utm_sources": "utm_source",
    "devices": "device",
    "browsers": "browser",
    "countries": "country",
}


@dataclass
class Tally:
    """Counts gathered from rollups and the live tail before they become a report."""

    daily: dict[date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    link_clicks: Counter[int] = field(default_factory=Counter)
    product_clicks: Counter[int] = field(default_factory=Counter)
    lock_views: Counter[int] = field(default_factory=Counter)
    unlocks: Counter[int] = field(default_factory=Counter)
    top: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


@dataclass(frozen=True)
class Segment:
    """A bucket interval over which the zone's UTC offset is constant."""

    start: int
    end: int
    offset_buckets: int


def report(user: User, query: StatsQuery, reader: Session | None = None) -> dict[str, Any]:
    """The statistics of ``user`` for ``query``; 404 when ``link_id`` is not one of their links.

    The rollups and pending events are read through ``reader`` (a read replica's session, see
    stats_reader.py; default: the default connection); links and products from the default connection.
    """
    reader = db.session() if reader is None else reader
    links = {link.id: link for link in UserLink.get_links_by_user_id(user.id)}
    if query.link_id is not None and query.link_id not in links:
        raise NotFound("No such link.")
    plans.check_history(user, query.start, datetime.now(query.tz).date())
    segments = list(offset_segments(query.start, query.end, query.tz))
    tally = Tally()
    _rollup_totals(reader, tally, user.id, segments, query)
    _rollup_tops(reader, tally, user.id, segments[0].start, segments[-1].end, query.link_id)
    _tail(reader, tally, user.id, segments, query)
    products = {product.id: product.title for product in Product.get_products_by_user_id(user.id)}
    return _assemble(tally, links, products, query)


def offset_segments(start: date, end: date, zone: ZoneInfo) -> Iterator[Segment]:
    """Split the local days start..end into bucket intervals of constant UTC offset."""
    first = bucket_of(datetime.combine(start, time(), zone))
    last = bucket_of(datetime.combine(end + timedelta(days=1), time(), zone))
    bucket = first
    while bucket < last:
        offset = _offset_buckets(bucket, zone)
        segment_end = bucket + 1
        # Offsets change at most a few times a year: step by days, then walk back to the exact bucket.
        while segment_end < last and _offset_buckets(segment_end, zone) == offset:
            segment_end = min(last, segment_end + BUCKETS_PER_DAY)
        while segment_end > bucket + 1 and _offset_buckets(segment_end - 1, zone) != offset:
            segment_end -= 1
        yield Segment(bucket, min(segment_end, last), offset)
        bucket = min(segment_end, last)


def _offset_buckets(bucket: int, zone: ZoneInfo) -> int:
    moment = datetime.fromtimestamp(bucket * BUCKET_SECONDS, UTC).astimezone(zone)
    offset = moment.utcoffset() or timedelta()
    return int(offset.total_seconds()) // BUCKET_SECONDS


def _local_date(day_number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day_number)


def _rollup_totals(
    reader: Session, tally: Tally, owner_id: int, segments: list[Segment], query: StatsQuery
) -> None:
    """Daily totals from hourly rows, and quarter-hour rows for the hours a day boundary cuts in two.

    One query covers every offset segment (a CASE picks each segment's UTC offset), so a report costs
    the same number of round trips whether or not its range crosses a daylight-saving change.
    """
    split = _split_hours(segments, query)
    low, high = _ceil(segments[0].start, HOUR_BUCKETS), segments[-1].end - segments[-1].end % HOUR_BUCKETS
    if low < high:
        offsets = [(StatsRollup.bucket < segment.end, segment.offset_buckets) for segment in segments[:-1]]
        offset = case(*offsets, else_=segments[-1].offset_buckets) if offsets else segments[-1].offset_buckets
        day = ((StatsRollup.bucket + offset) // DAY_BUCKETS).label("day")
        whole_hours = _totals(owner_id, HOUR, day).where(
            StatsRollup.bucket >= low,
            StatsRollup.bucket < high,
            StatsRollup.bucket.not_in([hour for hour in split if low <= hour < high]),
        )
        for day_number, kind, link_id, events, uniques in reader.execute(whole_hours):
            date_ = _local_date(int(day_number))
            _add_total(tally, date_, kind, int(link_id), int(events), int(uniques), query)
    first, last = segments[0].start, segments[-1].end
    quarters = [hour + n for hour in split for n in range(HOUR_BUCKETS) if first <= hour + n < last]
    for start in range(0, len(quarters), 500):
        statement = _totals(owner_id, QUARTER, StatsRollup.bucket).where(
            StatsRollup.bucket.in_(quarters[start : start + 500])
        )
        for bucket, kind, link_id, events, uniques in reader.execute(statement):
            date_ = _bucket_date(int(bucket), segments)
            _add_total(tally, date_, kind, int(link_id), int(events), int(uniques), query)


def _totals(owner_id: int, grain: str, key: Any) -> Any:
    return (
        select(
            key,
            StatsRollup.kind,
            StatsRollup.link_id,
            func.sum(StatsRollup.events),
            func.sum(StatsRollup.uniques),
        )
        .where(StatsRollup.owner_id == owner_id, StatsRollup.grain == grain, StatsRollup.dimension == TOTAL)
        .group_by(key, StatsRollup.kind, StatsRollup.link_id)
    )


def _split_hours(segments: list[Segment], query: StatsQuery) -> list[int]:
    """Hours that a local midnight or a change of UTC offset cuts in two (in :30 and :45 zones)."""
    days = (query.end - query.start).days + 2
    cuts = {
        bucket_of(datetime.combine(query.start + timedelta(days=n), time(), query.tz)) for n in range(days)
    }
    cuts.update(segment.start for segment in segments)
    cuts.add(segments[-1].end)
    return sorted({cut - cut % HOUR_BUCKETS for cut in cuts if cut % HOUR_BUCKETS})


def _ceil(value: int, step: int) -> int:
    return -(-value // step) * step


def _add_total(
    tally: Tally, day: date, kind: str, link_id: int, events: int, uniques: int, query: StatsQuery
) -> None:
    counter = tally.daily[day]
    counter["unique_visitors"] += uniques
    if kind == VIEW:
        counter["views"] += events
    elif kind == LOCK_VIEW:
        # A lock shown at /go/<id> is neither a page view nor a click: the visitor has not left yet.
        tally.lock_views[link_id] += events
    elif kind == BUY:
        # Product clicks (``/go/product/<id>``; link_id holds the product id) are never a link's clicks.
        tally.product_clicks[link_id] += events
        counter["product_clicks"] += events
    else:
        tally.link_clicks[link_id] += events
        if kind == UNLOCK:
            tally.unlocks[link_id] += events
        if query.link_id is None or link_id == query.link_id:
            counter["clicks"] += events


def _rollup_tops(
    reader: Session, tally: Tally, owner_id: int, start: int, end: int, link_id: int | None
) -> None:
    """Top lists from daily rows for whole UTC days inside the range, hourly rows at its two edges."""
    first_hour = start - start % HOUR_BUCKETS  # a range starting mid-hour includes that hour
    day_low, day_high = _ceil(first_hour, DAY_BUCKETS), end - end % DAY_BUCKETS
    if day_low < day_high:
        ranges = [(DAY, day_low, day_high), (HOUR, first_hour, day_low), (HOUR, day_high, end)]
    else:
        ranges = [(HOUR, first_hour, end)]
    kind_filter = (
        (StatsRollup.kind == VIEW, StatsRollup.link_id == 0)
        if link_id is None
        else (StatsRollup.kind.in_(LINK_CLICKS), StatsRollup.link_id == link_id)
    )
    in_ranges = [
        and_(StatsRollup.grain == grain, StatsRollup.bucket >= low, StatsRollup.bucket < high)
        for grain, low, high in ranges
        if low < high
    ]
    statement = (
        select(StatsRollup.dimension, StatsRollup.value, func.sum(StatsRollup.events))
        .where(
            StatsRollup.owner_id == owner_id,
            StatsRollup.dimension.in_(TOP_DIMENSIONS.values()),
            *kind_filter,
            or_(*in_ranges),
        )
        .group_by(StatsRollup.dimension, StatsRollup.value)
    )
    for dimension, value, events in reader.execute(statement):
        tally.top[dimension][value] += int(events)


def _tail(reader: Session, tally: Tally, owner_id: int, segments: list[Segment], query: StatsQuery) -> None:
    """Count the events not yet rolled up exactly as the rollups would have counted them."""
    first_bucket, end_bucket = segments[0].start, segments[-1].end
    # A visitor is unique at their first event (in id order) of a UTC day, as the roll-up folds them: read
    # the whole UTC days the range touches, or an earlier visit just outside the range would be missed.
    first = datetime.fromtimestamp(first_bucket * BUCKET_SECONDS, UTC).replace(hour=0, minute=0)
    last = datetime.fromtimestamp((end_bucket - 1) * BUCKET_SECONDS, UTC).replace(hour=0, minute=0)
    end = last + timedelta(days=1)
    events = pending_events(owner_id, first, end, reader)
    if not events:
        return
    counted = aggregate(events, known_visitors(events, reader))
    first_hour = first_bucket - first_bucket % HOUR_BUCKETS  # top lists include the first hour, as above
    for (_, grain, bucket, kind, link_id, dimension, value), counts in counted.counts.items():
        if dimension == TOTAL and grain == QUARTER and first_bucket <= bucket < end_bucket:
            date_ = _bucket_date(bucket, segments)
            _add_total(tally, date_, kind, link_id, counts.events, counts.uniques, query)
        elif (
            grain == HOUR
            and dimension in TOP_DIMENSIONS.values()
            and first_hour <= bucket < end_bucket
            and _counts_for_tops(kind, link_id, query.link_id)
        ):
            tally.top[dimension][value] += counts.events


def pending_events(
    owner_id: int, start: datetime, end: datetime, reader: Session | None = None
) -> Sequence[Any]:
    """``owner_id``'s events not rolled up yet in [start, end), in id order (plain rows), read through
    ``reader`` (default: the default connection).

    Filtered in SQL on ``ix_analytics_event_owner_pending`` (owner_id, rolled_up, id): other owners'
    pending events are never read, so a report costs the same however much traffic the rest of the site has.
    """
    table = AnalyticsEvent.__table__
    query = (
        select(table)
        .where(
            table.c.owner_id == owner_id,
            table.c.rolled_up == false(),
            table.c.occurred_at >= start,
            table.c.occurred_at < end,
        )
        .order_by(table.c.id)
    )
    return (db.session() if reader is None else reader).execute(query).all()


def _counts_for_tops(kind: str, link_id: int, wanted: int | None) -> bool:
    return kind == VIEW if wanted is None else (kind in LINK_CLICKS and link_id == wanted)


def _bucket_date(bucket: int, segments: list[Segment]) -> date:
    segment = next(s for s in segments if s.start <= bucket < s.end)
    return _local_date((bucket + segment.offset_buckets) // BUCKETS_PER_DAY)


def _assemble(
    tally: Tally, links: dict[int, UserLink], products: dict[int, str], query: StatsQuery
) -> dict[str, Any]:
    days = [query.start + timedelta(days=n) for n in range((query.end - query.start).days + 1)]
    daily: list[dict[str, Any]] = [
        {
            "date": day.isoformat(),
            "views": tally.daily[day]["views"],
            "clicks": tally.daily[day]["clicks"],
            "unique_visitors": tally.daily[day]["unique_visitors"],
            "product_clicks": tally.daily[day]["product_clicks"],
        }
        for day in days
    ]
    views = sum(row["views"] for row in daily)
    clicks = sum(row["clicks"] for row in daily)
    shown = [links[query.link_id]] if query.link_id is not None else list(links.values())
    return {
        "range": {"from": query.start.isoformat(), "to": query.end.isoformat(), "tz": query.tz.key},
        "totals": {
            "views": views,
            "clicks": clicks,
            "unique_visitors": sum(row["unique_visitors"] for row in daily),
            "click_through_rate": rate(clicks, views),
            "product_clicks": sum(row["product_clicks"] for row in daily),
        },
        "links": [
            {
                "id": link.id,
                "title": link.title,
                "clicks": tally.link_clicks[link.id],
                "click_through_rate": rate(tally.link_clicks[link.id], views),
            }
            for link in shown
        ],
        "products": [
            {
                "id": product_id,
                "title": title,
                "clicks": tally.product_clicks[product_id],
                "click_through_rate": rate(tally.product_clicks[product_id], views),
            }
            for product_id, title in products.items()
        ],
        "locks": [
            {
                "id": link.id,
                "title": link.title,
                "lock_views": tally.lock_views[link.id],
                "unlocks": tally.unlocks[link.id],
            }
            for link in shown
            if link.is_locked or tally.lock_views[link.id] or tally.unlocks[link.id]
        ],
        "daily": daily,
        "top": {
            name: [
                {"value": value, "count": count}
                for value, count in sorted(
                    tally.top[dimension].items(), key=lambda item: (-item[1], item[0])
                )[:TOP_LIMIT]
            ]
            for name, dimension in TOP_DIMENSIONS.items()
        },
    }


def rate(part: int, whole: int) -> float:
    """``part / whole`` rounded to four places; 0 when ``whole`` is 0."""
    return round(part / whole, 4) if whole else 0.0


def report_rows(report: dict[str, Any]) -> Iterator[tuple[object, ...]]:
    """A :func:`report` as CSV rows of :data:`CSV_HEADER`: one value per row."""
    for metric, value in report["totals"].items():
        yield ("totals", "", metric, value)
    for day in report["daily"]:
        for metric in ("views", "clicks", "unique_visitors", "product_clicks"):
            yield ("daily", day["date"], metric, day[metric])
    for section in ("links", "products"):
        for item in report[section]:
            yield (section, f"{item['id']} {item['title']}", "clicks", item["clicks"])
            yield (section, f"{item['id']} {item['title']}", "click_through_rate", item["click_through_rate"])
    for item in report["locks"]:
        for metric in ("lock_views", "unlocks"):
            yield ("locks", f"{item['id']} {item['title']}", metric, item[metric])
    for section, items in report["top"].items():
        for item in items:
            yield (section, item["value"], "count", item["count"])
