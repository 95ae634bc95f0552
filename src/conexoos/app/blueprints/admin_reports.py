"""``/admin/reports``: the moderation queue, for moderators and administrators.

Every route answers 404 without the role (controllers/roles.py); every action is a POST with the CSRF
token, closes the report and is audit-logged (controllers/moderation.py).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response

from conexoos.app.blueprints.paging import requested_page
from conexoos.app.blueprints.recent_auth import requires_recent_auth
from conexoos.app.controllers import moderation
from conexoos.app.controllers import user_management as manage
from conexoos.app.controllers.reports import reported_user
from conexoos.app.controllers.roles import ADMIN, MODERATOR, USER, named_with_role, staff_only
from conexoos.app.models.persistent import Report, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from conexoos.framework.converters import LARGEST_ID

admin_reports = staff_only(
    Blueprint("admin_reports", __name__, url_prefix="/admin/reports"), ADMIN, MODERATOR
)
PAGE_SIZE = 25
LISTS: dict[str, tuple[Callable[[], int], Callable[[int, int], list[moderation.Listed]]]] = {
    "open": (moderation.count_open, moderation.open_reports),
    "closed": (moderation.count_closed, moderation.closed_reports),
}
"""The two lists, by ``?status=``: how many, and a page of them."""


@admin_reports.route("", methods=["GET"])
def queue() -> str:
    """Open reports, oldest first, or (``?status=closed``) closed ones, most recently closed first; a
    page at a time."""
    status = request.args.get("status", "open")
    if status not in LISTS:
        raise BadRequest("status is open or closed.")
    count, listing = LISTS[status]
    total = count()
    shown = requested_page(total, PAGE_SIZE)
    found = listing(PAGE_SIZE, shown.offset)
    refusals = (  # who may act: asked of open reports only (a closed one takes no action)
        {entry.report.id: moderation.refusal(current_user, entry.report) for entry in found}
        if status == "open"
        else {}
    )
    return render_template(
        "admin/reports.html",
        status=status,
        reports=found,
        refusals=refusals,
        total=total,
        page=shown.number,
        pages=shown.count,
    )


@admin_reports.route("/<id:report_id>", methods=["GET"])
def report(report_id: int) -> str:
    """One report: the page's links when reported beside its links now, and the actions."""
    return _show(_report_or_404(report_id))


@admin_reports.route("/<id:report_id>/dismiss", methods=["POST"])
def dismiss(report_id: int) -> Response | tuple[str, int]:
    """Close the report without acting on the page."""
    found = _report_or_404(report_id)
    return _act(found, lambda: moderation.dismiss(current_user, found), f"Report {report_id} dismissed.")


@admin_reports.route("/<id:report_id>/hide-link", methods=["POST"])
def hide_link(report_id: int) -> Response | tuple[str, int]:
    """Hide the link ``link_id`` of the reported page and close the report."""
    return _hide_row(report_id, "link", moderation.hide_link)


@admin_reports.route("/<id:report_id>/hide-product", methods=["POST"])
def hide_product(report_id: int) -> Response | tuple[str, int]:
    """Hide the product ``product_id`` of the reported page and close the report."""
    return _hide_row(report_id, "product", moderation.hide_product)


@admin_reports.route("/<id:report_id>/hide-item", methods=["POST"])
def hide_item(report_id: int) -> Response | tuple[str, int]:
    """Hide a social icon (``block_id`` and ``item``, its place in the row) or an embed (``block_id``)
    of the reported page and close the report."""
    found = _report_or_404(report_id)
    block_id = _form_number("block_id", "Choose the icon or embed to hide.")
    item = _form_number("item", "Choose the icon to hide.", lowest=0) if request.form.get("item") else None
    done = "Embed" if item is None else "Icon"
    seen = _seen_address()
    return _act(
        found,
        lambda: moderation.hide_item(current_user, found, block_id, item, seen),
        f"{done} hidden; report {report_id} closed.",
    )


@admin_reports.route("/<id:report_id>/suspend", methods=["GET"])
def confirm_suspend(report_id: int) -> str | tuple[str, int]:
    """Ask for the reason before suspending the reported user (the report page's Suspend leads here);
    the report page with why not when the suspension would be refused."""
    found = _report_or_404(report_id)
    try:
        owner = moderation.suspendable_owner(current_user, found)
    except manage.ActionRefused as refused:
        return _show(found, refused.message), refused.status
    return _confirm_suspend(found, owner)


def _suspension_refused(report_id: int) -> tuple[str, int] | None:
    """The answer refusing this suspension (the report page with why, or the confirmation page with the
    reason's problem), or None; the guard asks it before the "Confirm it's you" page, the view before
    acting."""
    found = _report_or_404(report_id)
    try:
        owner = moderation.suspendable_owner(current_user, found)
    except manage.ActionRefused as refused:
        return _show(found, refused.message), refused.status
    problem = manage.reason_problem(_reason())
    return None if problem is None else (_confirm_suspend(found, owner, problem), 422)


def _reason() -> str:
    return request.form.get("reason", "").strip()


def _owner_has_power(report_id: int) -> bool:
    """Whether the reported account holds a role: suspending it takes power away (sudo mode, as on the
    account's own page)."""
    owner = reported_user(_report_or_404(report_id))
    return owner is not None and owner.role != USER


def _describe_suspension(report_id: int) -> str:
    owner = reported_user(_report_or_404(report_id))
    return f"suspend {named_with_role(owner)}" if owner is not None else "suspend the reported account"


@admin_reports.route("/<id:report_id>/suspend", methods=["POST"])
@requires_recent_auth(
    _describe_suspension,
    lambda report_id: url_for("admin_reports.report", report_id=report_id),
    carry=("reason",),
    when=_owner_has_power,
    check=_suspension_refused,
)
def suspend(report_id: int) -> Response | tuple[str, int]:
    """Suspend the reported user for the form's ``reason`` and close the report; the confirmation page
    again, with why, for a reason missing or refused (422). Suspending an administrator or a moderator
    needs a recent login or confirmation, as on the account's page."""
    found = _report_or_404(report_id)
    reason = _reason()
    refused = _suspension_refused(report_id)
    if refused is not None:
        return refused
    return _act(
        found,
        lambda: moderation.suspend_owner(current_user, found, reason),
        f"Suspended; report {report_id} closed.",
    )


def _confirm_suspend(found: Report, owner: User, error: str | None = None) -> str:
    return render_template("admin/report_suspend.html", report=found, owner=owner, error=error)


def _hide_row(
    report_id: int, kind: str, hide: Callable[[User, Report, int, str], object]
) -> Response | tuple[str, int]:
    """Hide the ``kind`` (a link or a product) whose id the form's ``<kind>_id`` gives, at the address
    its ``url`` says staff saw."""
    found = _report_or_404(report_id)
    row_id = _form_number(
        f"{kind}_id", f"Choose the {kind} to hide.", gone=f"That {kind} is not on the reported page any more."
    )
    seen = _seen_address()
    return _act(
        found,
        lambda: hide(current_user, found, row_id, seen),
        f"{kind.capitalize()} {row_id} hidden; report {report_id} closed.",
    )


def _act(found: Report, action: Callable[[], object], done: str) -> Response | tuple[str, int]:
    try:
        action()
    except manage.ActionRefused as refused:
        db.session.rollback()
        return _show(found, refused.message), refused.status
    flash(done)
    return redirect(url_for("admin_reports.queue"))


def _show(found: Report, error: str | None = None) -> str:
    return render_template(
        "admin/report.html",
        report=found,
        owner=reported_user(found),
        links=moderation.current_links(found),
        products=moderation.current_products(found),
        items=moderation.current_items(found),
        now=utcnow(),  # a link scheduled to open later, or closed already, is not on the page
        refusal=moderation.refusal(current_user, found),
        error=error,
    )


def _seen_address() -> str:
    """The address the report's page showed staff (the form's ``url``): what they chose to hide."""
    seen = request.form.get("url", "")
    if not seen:
        raise BadRequest(
            "The form did not say which address you saw: open the report again and use its buttons."
        )
    return seen


def _report_or_404(report_id: int) -> Report:
    found = db.session.get(Report, report_id)
    if found is None:
        raise NotFound("There is no report with this id.")
    return found


def _form_number(
    name: str,
    missing: str,
    lowest: int = 1,
    gone: str = "That icon or embed is not on the reported page any more.",
) -> int:
    """A whole number from the form: 400 with ``missing`` when absent or not one, 404 with ``gone`` when
    out of range (nothing on the page has it)."""
    raw = request.form.get(name, "")
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 10):
        raise BadRequest(missing)
    if not lowest <= int(raw) <= LARGEST_ID:
        raise NotFound(gone)
    return int(raw)
