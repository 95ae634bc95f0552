"""The product's own configuration as typed objects, read from the ``APP`` section.

The keys are declared in :mod:`conexoos.app.server.config` and validated by the framework before the
product is loaded; here they only become objects in ``server.config`` (CONEXOOS_PLANS, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from .plans_config import plans_from_tree


@dataclass(frozen=True)
class AnalyticsSettings:
    """``APP.ANALYTICS``."""

    retention_days: int
    country_header: str
    flush_batch: int = 1000
    """Events the write buffer's flush inserts in one statement."""
    buffer_fsync: bool = False
    """Fsync each append to the local write buffer's file."""


@dataclass(frozen=True)
class AccountsSettings:
    """``APP.ACCOUNTS``."""

    verify_email: str
    """required, optional or off."""
    sso_link_by_email: bool = False
    """Link a first external sign-in to the account with the address the provider vouches for."""
    sso_second_factor: str = "trust_idp"
    """trust_idp or ask: whether an external sign-in is followed by the account's second factor."""

    @property
    def sso_asks_second_factor(self) -> bool:
        """Whether an external sign-in to an account with a second factor goes through the second step."""
        return self.sso_second_factor == "ask"

    @property
    def verification_required(self) -> bool:
        """Whether a page stays unpublished until its owner's address is verified."""
        return self.verify_email == "required"


@dataclass(frozen=True)
class BillingSettings:
    """``APP.BILLING``."""

    past_due_grace_days: int


def load_product_settings(server: Flask) -> None:
    """Put the validated ``APP`` section into ``server.config`` as typed objects."""
    section: dict[str, Any] = server.extensions["conexoos"].settings.tree["APP"]
    analytics, billing = section["ANALYTICS"], section["BILLING"]
    server.config["CONEXOOS_PLANS"] = plans_from_tree(section["PLANS"])
    accounts = section["ACCOUNTS"]
    server.config["CONEXOOS_ACCOUNTS"] = AccountsSettings(
        verify_email=accounts["VERIFY_EMAIL"],
        sso_link_by_email=accounts["SSO_LINK_BY_EMAIL"],
        sso_second_factor=accounts["SSO_SECOND_FACTOR"],
    )
    server.config["CONEXOOS_BILLING"] = BillingSettings(past_due_grace_days=billing["PAST_DUE_GRACE_DAYS"])
    server.config["CONEXOOS_ANALYTICS"] = AnalyticsSettings(
        retention_days=analytics["RETENTION_DAYS"],
        country_header=analytics["COUNTRY_HEADER"],
        flush_batch=analytics["FLUSH_BATCH"],
        buffer_fsync=analytics["BUFFER_FSYNC"],
    )
