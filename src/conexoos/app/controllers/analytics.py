"""Recording page views and link clicks: one short insert each, bots and the owner left out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request
from flask_login import current_user

from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.models.persistent.event import CLICK, VIEW
from conexoos.app.utils.useragent import classify
from conexoos.framework import db


def record_view(owner_id: int) -> bool:
    """Record a view of ``owner_id``'s page from the current request; False when it is not counted."""
    return _record(VIEW, owner_id, None)


def record_click(owner_id: int, link_id: int) -> bool:
    """Record a click on ``link_id`` from the current request; False when it is not counted."""
    return _record(CLICK, owner_id, link_id)


def _record(kind: str, owner_id: int, link_id: int | None) -> bool:
    client = classify(request.headers.get("User-Agent", ""))
    if client.is_bot or _is_owner(owner_id):
        return False
    event = AnalyticsEvent(
        owner_id=owner_id,
        link_id=link_id,
        kind=kind,
        occurred_at=utcnow(),
        referrer_host=referrer_host(request.headers.get("Referer", "")),
        utm_source=request.args.get("utm_source", "")[:100],
        utm_medium=request.args.get("utm_medium", "")[:100],
        utm_campaign=request.args.get("utm_campaign", "")[:100],
        device=client.device,
        os=client.os,
        browser=client.browser,
    )
    with transaction():
        db.session.add(event)
    return True


def referrer_host(referrer: str) -> str:
    """The host name of a Referer header, lowercased; empty when absent or unparsable."""
    try:
        return (urlsplit(referrer).hostname or "")[:255]
    except ValueError:
        return ""


def _is_owner(owner_id: int) -> bool:
    return bool(current_user.is_authenticated and current_user.id == owner_id)
