"""Visitors' reports of public pages: filing one with a snapshot of the page's links.

The staff's side (the queue and its actions) is :mod:`conexoos.app.controllers.moderation`.
"""

from __future__ import annotations

import json

from conexoos.app.controllers import profiles
from conexoos.app.controllers.blocks.embed import EMBED
from conexoos.app.controllers.blocks.social import SOCIAL
from conexoos.app.models.persistent import Report, User
from conexoos.app.models.persistent.report import DETAILS_MAX, OPEN, REASONS
from conexoos.app.utils.network import network_of
from conexoos.framework import db


class ReportError(ValueError):
    """A report that cannot be stored (an unknown reason, details too long)."""


def reported_page(username: str) -> profiles.PublicPage:
    """The page a visitor may report: exactly the public one (404 for unknown or suspended users)."""
    return profiles.public_page(username)


def file_report(
    page: profiles.PublicPage, reason: str, details: str, email: str | None, remote_address: str
) -> Report:
    """Store an open report of ``page`` with its live links as they are now; the reporter's address is
    kept only as its network (/24 or /48). Commits."""
    if reason not in REASONS:
        raise ReportError("Choose one of the reasons in the list.")
    if len(details) > DETAILS_MAX:
        raise ReportError(f"Keep the details under {DETAILS_MAX} characters.")
    report = Report(
        user_id=page.user.id,
        reported_username=page.user.username,
        reason=reason,
        details=details,
        reporter_email=email or None,
        reporter_network=network_of(remote_address),
        snapshot=json.dumps(snapshot(page)),
        status=OPEN,
        action="",
    )
    db.session.add(report)
    db.session.commit()
    return report


def snapshot(page: profiles.PublicPage) -> list[dict[str, object]]:
    """The page's links as a visitor sees them (id, title and URL, in page order), then its products
    (the same with ``"kind": "product"`` and the buy URL), then its social icons and embeds (their
    accessible name or title and URL, ``"kind": "social"`` or ``"embed"``, no id of their own)."""
    links: list[dict[str, object]] = [
        {"id": link.id, "title": link.title, "url": link.url} for link in page.links
    ]
    products = [
        {"id": product.id, "title": product.title, "url": product.buy_url, "kind": "product"}
        for product in page.products
    ]
    return links + products + _linked_out(page)


def _linked_out(page: profiles.PublicPage) -> list[dict[str, object]]:
    """The addresses the page's social icons and embeds link to, in page order."""
    shown: list[dict[str, object]] = []
    for run in page.runs:
        if run.kind is SOCIAL:
            shown += [
                {"id": None, "title": icon.label, "url": icon.url, "kind": "social"}
                for icons in run.items
                for icon in icons
            ]
        elif run.kind is EMBED:
            shown += [
                {
                    "id": None,
                    "title": embed.get("title") or embed["player"].provider,
                    "url": embed["url"],
                    "kind": "embed",
                }
                for embed in run.items
            ]
    return shown


def reported_user(report: Report) -> User | None:
    """The owner of the reported page (None once the account is deleted; the report stays)."""
    return None if report.user_id is None else db.session.get(User, report.user_id)
