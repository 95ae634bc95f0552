"""Entities and their database access (the seed's models layer)."""

from .billing import StripeEvent
from .event import AnalyticsEvent
from .link import UserLink
from .media_file import MediaFile
from .product import DEFAULT_PRODUCT_IMAGE, Product
from .stats import StatsRollup, StatsSalt, StatsVisitor, StatsWatermark
from .user import FREE_PLAN, User

__all__ = [
    "DEFAULT_PRODUCT_IMAGE",
    "FREE_PLAN",
    "Product",
    "StripeEvent",
    "AnalyticsEvent",
    "MediaFile",
    "StatsRollup",
    "StatsSalt",
    "StatsVisitor",
    "StatsWatermark",
    "User",
    "UserLink",
]
