"""Analytics rollups, kept for good, at three grains, and the state behind them.

- ``q``: totals per quarter-hour bucket: exact local days in every time zone, :30 and :45 ones included;
- ``h``: totals and top-list counts per hour: what reports read for most of a range;
- ``d``: top-list counts per UTC day: what reports read for the whole UTC days inside a range.

A bucket is ``epoch_seconds // 900``: an integer, so grouping buckets into days of any UTC offset
(including the :30 and :45 zones) is integer arithmetic the database does itself.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .types import exact_string

BUCKET_SECONDS = 900
HOUR_BUCKETS = 4
DAY_BUCKETS = 96
QUARTER, HOUR, DAY = "q", "h", "d"
TOTAL = ""
"""``dimension`` of the rows that count all events of a bucket (the others count one dimension value)."""
DIMENSIONS = ("referrer", "utm_source", "utm_medium", "utm_campaign", "device", "os", "browser", "country")


class StatsRollup(db.Model):  # type: ignore[name-defined]
    """How many events (and first-of-day visitors) fell in one bucket for one key."""

    __tablename__ = "stats_rollup"
    __table_args__ = (
        UniqueConstraint(
            "owner_id", "grain", "bucket", "kind", "link_id", "dimension", "value", name="uq_stats_rollup_key"
        ),
        # Covering indexes, one per query shape of a report: totals by time, then top lists by kind.
        Index(
            "ix_stats_rollup_totals",
            "owner_id",
            "grain",
            "dimension",
            "bucket",
            "kind",
            "link_id",
            "events",
            "uniques",
        ),
        Index(
            "ix_stats_rollup_tops",
            "owner_id",
            "grain",
            "dimension",
            "kind",
            "link_id",
            "bucket",
            "value",
            "events",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    grain: Mapped[str] = mapped_column(String(1), nullable=False, default=QUARTER)
    bucket: Mapped[int] = mapped_column(Integer, nullable=False)
    """Quarter-hour index (``epoch // 900``) of the start of the row's quarter, hour or UTC day."""
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    link_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    dimension: Mapped[str] = mapped_column(String(16), nullable=False, default=TOTAL)
    value: Mapped[str] = mapped_column(exact_string(255), nullable=False, default="")
    events: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    uniques: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class StatsVisitor(db.Model):  # type: ignore[name-defined]
    """A visitor hash already counted as unique for an owner on a UTC day (pruned after two days)."""

    __tablename__ = "stats_visitor"
    __table_args__ = (UniqueConstraint("owner_id", "day", "visitor_hash", name="uq_stats_visitor"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    visitor_hash: Mapped[str] = mapped_column(String(32), nullable=False)


class StatsSalt(db.Model):  # type: ignore[name-defined]
    """The random salt of one UTC day's visitor hashes; deleted after two days, so hashes cannot be linked."""

    __tablename__ = "stats_salt"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(String(64), nullable=False)


class StatsWatermark(db.Model):  # type: ignore[name-defined]
    """The roll-up's lock row (id 1): every fold updates it first, so folds never run side by side.

    ``last_event_id`` is the highest event id folded so far, for operators only: which events are folded
    is ``analytics_event.rolled_up`` (an event committed late can be pending below this id).
    """

    __tablename__ = "stats_watermark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
