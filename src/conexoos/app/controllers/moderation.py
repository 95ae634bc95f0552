"""The moderation queue: staff read open reports and act on them (dismiss, hide a link, hide a social icon
or an embed, suspend).

Every action closes the report, is audit-logged with the state before and after, and queues a thank-you
mail to the reporter when they left an address (in the same transaction as the closing). Closing is a
conditional UPDATE (``WHERE status = 'open'``): of two staff acting at once, one wins and the other gets a
409 with nothing done. Reports about a staff account are for administrators only, and nobody acts on a
report about themself.

A report outlives the reported account (``user_id`` becomes None): it stays in the queue, marked deleted,
until staff dismiss it; closed reports are listed newest first (:func:`closed_reports`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update

from conexoos.app.controllers import audit, hidden_addresses, mail
from conexoos.app.controllers import user_management as manage
from conexoos.app.controllers.administrators import is_last_active_admin
from conexoos.app.controllers.blocks.embed import EMBED
from conexoos.app.controllers.blocks.kind import HIDDEN_BY_STAFF
from conexoos.app.controllers.blocks.registry import KINDS
from conexoos.app.controllers.blocks.social import SOCIAL, entry_label
from conexoos.app.controllers.owner_lock import locked_owner
from conexoos.app.controllers.reports import reported_user
from conexoos.app.models.persistent import ADMIN, PageBlock, Product, Report, User, UserLink
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.models.persistent.hidden_address import LINK, PRODUCT
from conexoos.app.models.persistent.report import ACTIONED, DISMISSED, OPEN
from conexoos.app.utils.wording import with_article
from conexoos.framework import db

Row = TypeVar("Row", UserLink, Product)
DELETED_ACCOUNT = (
    "The reported account was deleted: nothing is left on its page to hide or suspend. "
    "Dismiss the report to close it."
)


def count_open() -> int:
    """How many reports wait in the queue."""
    return int(db.session.scalar(select(func.count()).where(Report.status == OPEN)) or 0)


def count_closed() -> int:
    """How many reports staff have closed (dismissed or acted on)."""
    return int(db.session.scalar(select(func.count()).where(Report.status != OPEN)) or 0)


@dataclass(frozen=True)
class Listed:
    """A report in a list, with the reported account (None once deleted)."""

    report: Report
    owner: User | None


def open_reports(limit: int, offset: int) -> list[Listed]:
    """Open reports with the reported account, oldest first (the queue's order)."""
    return _listed(Report.status == OPEN, (Report.created_at, Report.id), limit, offset)


def closed_reports(limit: int, offset: int) -> list[Listed]:
    """Closed reports with the reported account, most recently closed first."""
    order = (Report.handled_at.desc(), Report.id.desc())
    return _listed(Report.status != OPEN, order, limit, offset)


def _listed(where: Any, order: tuple[Any, ...], limit: int, offset: int) -> list[Listed]:
    query = (
        select(Report, User)
        .outerjoin(User, User.id == Report.user_id)
        .where(where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return [Listed(*row) for row in db.session.execute(query).all()]


def current_links(report: Report) -> Sequence[UserLink]:
    """The reported user's links as they are now (every one, hidden or not), in page order; none once
    the account is deleted."""
    return [] if report.user_id is None else UserLink.get_links_by_user_id(report.user_id)


def current_products(report: Report) -> Sequence[Product]:
    """The reported user's products as they are now (every one, hidden or not), in page order; none
    once the account is deleted."""
    return [] if report.user_id is None else Product.get_products_by_user_id(report.user_id)


@dataclass(frozen=True)
class PageItem:
    """A social icon or an embed of the reported page as it is now, which staff may hide."""

    block_id: int
    item: int | None
    """The icon's place in its row; None for an embed (hidden whole)."""
    label: str
    url: str
    state: str


def current_items(report: Report) -> list[PageItem]:
    """The reported user's social icons and embeds as they are now (shown or not), in page order; none
    once the account is deleted."""
    if report.user_id is None:
        return []
    query = (
        select(PageBlock)
        .where(PageBlock.owner_id == report.user_id, PageBlock.kind.in_((SOCIAL.name, EMBED.name)))
        .order_by(PageBlock.position, PageBlock.id)
    )
    items: list[PageItem] = []
    for block in db.session.scalars(query):
        fields = block.fields
        if block.kind == EMBED.name:
            label = f"Embed: {fields.get('title') or fields.get('url', '')}"
            url = str(fields.get("url", ""))
            items.append(PageItem(block.id, None, label, url, _item_state(fields, block)))
            continue
        for index, entry in enumerate(fields.get("items", [])):
            if isinstance(entry, dict):
                label, url = f"Social icon: {entry_label(entry)}", str(entry.get("url", ""))
                items.append(PageItem(block.id, index, label, url, _item_state(entry, block)))
    return items


def _item_state(fields: dict[str, Any], block: PageBlock) -> str:
    if fields.get(HIDDEN_BY_STAFF):
        return "hidden by a moderator"
    if fields.get("blocked"):
        return "blocked domain"
    return "shown" if block.enabled else "hidden"


def refusal(actor: User, report: Report) -> str | None:
    """Why ``actor`` may not act on ``report`` (a report about themself, or about staff for a
    moderator), or None when they may. The only active administrator may act on reports about their own
    page: nobody else could, and they would stay open for good (the audit log keeps who acted)."""
    if report.user_id == actor.id and not is_last_active_admin(actor):
        who = "another administrator" if actor.role == ADMIN else "an administrator"
        return f"You cannot act on a report about your own page: {who} must."
    target = reported_user(report)
    if target is not None and target.is_staff and actor.role != ADMIN:
        return (
            f"Only an administrator may act on a report about {target.username}, {with_article(target.role)}."
        )
    return None


def dismiss(actor: User, report: Report) -> None:
    """Close the report without acting on the page. Commits."""
    _close(actor, report, DISMISSED, "dismissed")
    db.session.commit()


def hide_link(actor: User, report: Report, link_id: int, seen: str) -> UserLink:
    """Hide one of the reported user's links for good (its owner sees it hidden by a moderator and cannot
    show it again, nor add its address again) and close the report; under the owner's lock, as the
    owner's edits are, so that one in flight cannot show it again. Commits. ``seen`` is the address staff
    saw: a link that goes elsewhere now was changed since, and is not hidden.

    Raises :class:`~conexoos.app.controllers.user_management.ActionRefused` for a link of another user
    (404), one hidden already or changed since it was seen (409)."""
    return _hide_owned(actor, report, UserLink, link_id, LINK, seen)


def hide_product(actor: User, report: Report, product_id: int, seen: str) -> Product:
    """Hide one of the reported user's products for good, as :func:`hide_link` hides a link (its buy
    link's address, ``seen`` by staff, stays hidden on the account), and close the report. Commits."""
    return _hide_owned(actor, report, Product, product_id, PRODUCT, seen)


def _hide_owned(actor: User, report: Report, model: type[Row], row_id: int, kind: str, seen: str) -> Row:
    """Hide the reported user's ``model`` row ``row_id`` (a link or a product) under their lock."""
    _must_be_open(report)
    owner = _reported_owner(report)
    with locked_owner(owner):
        row = model.get_owned(row_id, owner.id)
        if row is None:
            raise manage.ActionRefused(f"That {kind} is not on the reported page any more.", 404)
        address = row.url if isinstance(row, UserLink) else row.buy_url
        _must_be_as_seen(kind, address, seen)
        _hide_row(actor, report, row, kind, address)
    return row


def _must_be_as_seen(what: str, address: str, seen: str) -> None:
    """Refuse (409) to hide ``what`` when its address is no longer the one staff saw: its owner changed it
    since, and hiding it would hide something staff never looked at."""
    if address != seen:
        raise manage.ActionRefused(
            f"That {what} changed since you opened the report: its address is not the one you saw. "
            "Look at the report again before you act.",
            409,
        )


def _hide_row(actor: User, report: Report, row: UserLink | Product, kind: str, address: str) -> None:
    """Disable ``row`` for good, keep its address hidden on the account, audit it and close the report
    (a refusal rolls the lock's transaction back)."""
    if row.hidden_by_staff:
        raise manage.ActionRefused(f"That {kind} is hidden already: choose another action.", 409)
    before = {"enabled": row.enabled, "hidden_by_staff": row.hidden_by_staff, "address": address}
    row.enabled, row.hidden_by_staff = False, True
    hidden_addresses.remember(row.owner_id, kind, address, report)
    after = {"enabled": False, "hidden_by_staff": True, "address": address}
    audit.record(f"{kind}.hide", row, before, after, f"{kind} {row.id} hidden after report {report.id}")
    _close(actor, report, ACTIONED, f"{kind} {row.id} hidden")


def hide_item(actor: User, report: Report, block_id: int, item: int | None, seen: str) -> None:
    """Hide one of the reported user's social icons (``item``, its place in the row ``block_id``) or
    embeds (``item`` None) for good, and close the report; under the owner's lock, so that an edit of the
    block in flight cannot write its older fields over the hiding. Commits. The embed stays hidden
    at its address whatever its owner sends; the icon's profile stays hidden in its row however it is
    spelled. ``seen`` is the address staff saw: an icon or embed that goes elsewhere now is not hidden.

    Raises :class:`~conexoos.app.controllers.user_management.ActionRefused`: 404 for a block or an entry
    that is not on the reported page, 400 for a block of another kind or an ``item`` of the wrong shape,
    409 for one whose address is not the one staff saw."""
    _must_be_open(report)
    owner = _reported_owner(report)
    with locked_owner(owner):
        block = db.session.get(PageBlock, block_id, populate_existing=True)
        kind = KINDS.get(block.kind) if block is not None else None
        if block is None or block.owner_id != owner.id or kind is None:
            raise manage.ActionRefused("That icon or embed is not on the reported page any more.", 404)
        if not kind.hideable:
            hint = " (a link has its own Hide button)" if block.link_id is not None else ""
            message = f"Only social icons and embeds are hidden here, not a {kind.singular}{hint}."
            raise manage.ActionRefused(message, 400)
        before = block.fields
        try:
            hidden = kind.hidden(before, item)
        except ValueError as error:
            raise manage.ActionRefused(str(error), 400) from error
        except LookupError as error:
            raise manage.ActionRefused("That icon is not in the row any more.", 404) from error
        address = _hidden_address(kind.name, before, item)
        _must_be_as_seen("embed" if item is None else "icon", address[1], seen)
        block.fields = hidden
        hidden_addresses.remember(owner.id, *address, report)
        what = "embed" if item is None else f"icon {item + 1} of block {block.id}"
        audit.record("block.hide", block, before, block.fields, f"{what} hidden after report {report.id}")
        _close(actor, report, ACTIONED, f"{what} hidden")  # refused: the lock's transaction rolls all back


def _hidden_address(kind: str, fields: dict[str, Any], item: int | None) -> tuple[str, str]:
    """The kind and the address of what ``hide_item`` hides (the entry ``item`` of a social row, or the
    embed), as the block's ``fields`` held it."""
    entry = fields["items"][item] if item is not None else fields
    return kind, str(entry.get("url", ""))


def suspendable_owner(actor: User, report: Report) -> User:
    """The reported user, whom ``actor`` may suspend through ``report``. Raises ``ActionRefused`` for a
    closed report, one ``actor`` may not act on (403), a deleted account or one suspended already (409)."""
    _must_be_open(report)
    refused = refusal(actor, report)
    if refused is not None:
        raise manage.ActionRefused(refused, 403)
    target = _reported_owner(report)
    if target.suspended_at is not None:
        raise manage.ActionRefused(
            f"{target.username} is suspended already: dismiss the report, or hide what it is about.", 409
        )
    return target


def suspend_owner(actor: User, report: Report, reason: str) -> None:
    """Suspend the reported user for ``reason`` (audited by :func:`user_management.suspend`), then close
    the report.

    The report is closed first (the conditional UPDATE decides who acts); the suspension's checks run
    before its commits, so a refused suspension leaves the report open. Raises ``ActionRefused`` as
    :func:`suspendable_owner` and the suspension do (422 for a reason it refuses), leaving the report
    open.
    """
    target = suspendable_owner(actor, report)
    problem = manage.reason_problem(reason)
    if problem is not None:
        raise manage.ActionRefused(problem, 422)
    before = _claim(actor, report, ACTIONED, f"{target.username} suspended")
    manage.suspend(actor, target, reason)
    _record_closing(report, before)
    db.session.commit()


def _reported_owner(report: Report) -> User:
    target = reported_user(report)
    if target is None:
        raise manage.ActionRefused(DELETED_ACCOUNT, 409)
    return target


def _must_be_open(report: Report) -> None:
    if report.status != OPEN:
        raise manage.ActionRefused(f"Report {report.id} is already closed ({report.status}).")


def _close(actor: User, report: Report, status: str, action: str) -> None:
    _record_closing(report, _claim(actor, report, status, action))


def _claim(actor: User, report: Report, status: str, action: str) -> dict[str, str | int | datetime | None]:
    """Close ``report`` if it is still open (a conditional UPDATE: 409 when someone else closed it); the
    state before."""
    _must_be_open(report)
    refused = refusal(actor, report)
    if refused is not None:
        raise manage.ActionRefused(refused, 403)
    before = _state(report)
    closed = db.session.execute(
        update(Report)
        .where(Report.id == report.id, Report.status == OPEN)
        .values(
            status=status,
            action=action[:200],
            handled_by_id=actor.id,
            handled_by_username=actor.username,
            handled_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        raise manage.ActionRefused(f"Report {report.id} is already closed: someone else handled it.")
    db.session.refresh(report)
    return before


def _record_closing(report: Report, before: dict[str, str | int | datetime | None]) -> None:
    action, status = report.action, report.status
    audit.record(f"report.{status}", report, before, _state(report), f"report {report.id}: {action}")
    if report.reporter_email:  # an address the mailer refuses is logged and skipped, never an error
        mail.queue_mail_to_account(report.reporter_email, "report_handled", report=report)


def _state(report: Report) -> dict[str, str | int | datetime | None]:
    return {
        "status": report.status,
        "action": report.action,
        "handled_by_id": report.handled_by_id,
        "handled_at": report.handled_at,
    }
