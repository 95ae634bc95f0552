"""Entities and their database access (the seed's models layer)."""

from .audit_log import AuditEntry
from .billing import StripeEvent
from .blocked_domain import BlockedDomain
from .capture_entry import CaptureEntry
from .event import AnalyticsEvent
from .export_job import ExportJob
from .external_identity import ExternalIdentity
from .held_username import HeldUsername
from .hidden_address import HiddenAddress
from .invite import Invite
from .link import UserLink
from .media_file import MediaFile
from .media_item import MediaItem
from .menu_item import MenuItem
from .page_appearance import PageAppearance
from .page_block import PageBlock
from .pending_signup import PendingSignup
from .product import DEFAULT_PRODUCT_IMAGE, Product
from .report import Report
from .reset_request import ResetRequest
from .second_factor import Passkey, RecoveryCode, TotpSecret
from .site_page import SitePage, SitePageRevision
from .site_setting import SiteSetting
from .stats import StatsRollup, StatsSalt, StatsVisitor, StatsWatermark
from .user import ADMIN, FREE_PLAN, MODERATOR, ROLES, USER, User
from .user_session import UserSession

__all__ = [
    "ADMIN",
    "AuditEntry",
    "BlockedDomain",
    "CaptureEntry",
    "HiddenAddress",
    "Report",
    "Invite",
    "MODERATOR",
    "ROLES",
    "SiteSetting",
    "USER",
    "DEFAULT_PRODUCT_IMAGE",
    "FREE_PLAN",
    "Passkey",
    "PendingSignup",
    "ResetRequest",
    "Product",
    "RecoveryCode",
    "StripeEvent",
    "AnalyticsEvent",
    "ExportJob",
    "ExternalIdentity",
    "HeldUsername",
    "MediaFile",
    "MediaItem",
    "MenuItem",
    "PageAppearance",
    "PageBlock",
    "SitePage",
    "SitePageRevision",
    "StatsRollup",
    "StatsSalt",
    "StatsVisitor",
    "StatsWatermark",
    "TotpSecret",
    "User",
    "UserLink",
    "UserSession",
]
