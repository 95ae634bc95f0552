"""Entities and their database access (the seed's models layer)."""

from .event import AnalyticsEvent
from .link import UserLink
from .stats import StatsRollup, StatsSalt, StatsVisitor, StatsWatermark
from .user import FREE_PLAN, User

__all__ = [
    "FREE_PLAN",
    "AnalyticsEvent",
    "StatsRollup",
    "StatsSalt",
    "StatsVisitor",
    "StatsWatermark",
    "User",
    "UserLink",
]
