"""The product's own configuration: the ``APP`` section of the framework's configuration file."""

from __future__ import annotations

from typing import Any

from flask import Flask

from conexoos.framework import ConfigError

from .plans_config import parse_plans

BILLING_DEFAULTS: dict[str, Any] = {"PAST_DUE_GRACE_DAYS": 7}
ANALYTICS_DEFAULTS: dict[str, Any] = {
    "COUNTRY_HEADER": "",
    "RETENTION_DAYS": 90,
}


def load_product_settings(server: Flask) -> None:
    """Validate ``APP`` and put its parts into ``server.config`` (CONEXOOS_ANALYTICS, ...)."""
    section = server.extensions["conexoos"].settings.tree["APP"]
    problems: list[str] = []
    server.config["CONEXOOS_ANALYTICS"] = _analytics(section.get("ANALYTICS") or {}, problems)
    server.config["CONEXOOS_PLANS"] = parse_plans(section.get("PLANS"), problems)
    server.config["CONEXOOS_BILLING"] = _billing(section.get("BILLING") or {}, problems)
    if problems:
        raise ConfigError(problems)


def _analytics(raw: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"APP.ANALYTICS: {raw!r} is not valid; expected a mapping")
        return dict(ANALYTICS_DEFAULTS)
    merged = {**ANALYTICS_DEFAULTS, **raw}
    retention = merged["RETENTION_DAYS"]
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        problems.append(
            f"APP.ANALYTICS.RETENTION_DAYS: {retention!r} is not valid; expected an integer from 1"
        )
    if not isinstance(merged["COUNTRY_HEADER"], str):
        problems.append(
            f"APP.ANALYTICS.COUNTRY_HEADER: {merged['COUNTRY_HEADER']!r} is not valid; "
            "expected a header name such as CF-IPCountry"
        )
    return merged


def _billing(raw: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"APP.BILLING: {raw!r} is not valid; expected a mapping")
        return dict(BILLING_DEFAULTS)
    merged = {**BILLING_DEFAULTS, **raw}
    grace = merged["PAST_DUE_GRACE_DAYS"]
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        problems.append(
            f"APP.BILLING.PAST_DUE_GRACE_DAYS: {grace!r} is not valid; expected a whole number of days"
        )
    return merged
