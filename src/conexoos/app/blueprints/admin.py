"""``/admin``: the operator's panel, server-rendered, for administrators (moderators see part of it).

Every route answers 404 to anyone without the role (see controllers/roles.py; checked before CSRF).
Moderators may open the overview, the user list and one user's page, and suspend or unsuspend; every
other action, the audit log and invitations are for administrators. Every action is a POST with the
CSRF token, and is audit-logged by controllers/user_management.py. The actions that grant power (a role,
a second factor reset, a deletion, suspending a staff account or ending that) need a recent login or
password confirmation (blueprints/recent_auth.py); a request such an action refuses is refused before
that, by the same rules (controllers/user_management.py's ``*_refusal`` functions). A refusal is drawn on
the account's page under the field to change, what was typed kept (JSON for a JSON client).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.blueprints.paging import requested_page
from conexoos.app.blueprints.recent_auth import requires_recent_auth
from conexoos.app.controllers import audit, invites, plans, site_overview, site_settings, user_admin
from conexoos.app.controllers import user_management as manage
from conexoos.app.controllers.roles import (
    ADMIN,
    MODERATOR,
    ROLE_WORDS,
    ROLES,
    USER,
    named_with_role,
    require_role,
    staff_only,
)
from conexoos.app.models.persistent import User
from conexoos.app.utils.rate_limit import enforce
from conexoos.app.utils.text import has_bidi_controls, has_control_characters
from conexoos.app.utils.wording import with_article
from conexoos.framework.http_errors import error_response, wants_json

admin = staff_only(Blueprint("admin", __name__, url_prefix="/admin"), ADMIN, MODERATOR)
PAGE_SIZE = 25
INVITES_SHOWN = 50
RESEND_LIMIT = "1/minute"
"""How often staff may mail one account its verification link again."""
NEW_INVITE = "new_invitation_link"
"""The session's key for the link just made, until the page after the redirect shows it (once)."""
AUDIT_PAGE_SIZE = 50
AUDIT_FILTERS = ("actor", "action", "target_type", "target_id", "since", "until")
"""The audit log's query parameters, the only ones its links carry on (never url_for's ``_external``...)."""
DATE_LABELS = {"since": "From (UTC day)", "until": "To (UTC day)"}
"""The audit log's date filters as its form names them."""
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)
"""The days the audit log's filters accept (every database stores them; the day after still exists)."""
Answer = BaseResponse | tuple[str, int]
"""An action's answer on an account: a redirect when done, else its page and the refusal's status (or
a JSON error)."""


@admin.route("", methods=["GET"])
def overview() -> str:
    """Accounts, pages, clicks, open reports and the health of the site's dependencies."""
    figures = site_overview.overview(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template(
        "admin/overview.html",
        figures=figures,
        site_name=site_settings.value("site_name"),
        can_admin=current_user.role == ADMIN,
    )


@admin.route("/users", methods=["GET"])
def users() -> str:
    """Accounts whose username, email or display name contains ``q``, of one ``role`` and one ``state``
    (each optional), 25 a page, oldest first."""
    try:
        wanted = user_admin.UserQuery(_text_arg("q", 100), _text_arg("role", 20), _text_arg("state", 20))
    except ValueError as error:
        raise BadRequest(str(error)) from None
    total = user_admin.count_users(wanted)
    shown = requested_page(total, PAGE_SIZE)
    return render_template(
        "admin/users.html",
        users=user_admin.list_users(wanted, PAGE_SIZE, shown.offset),
        wanted=wanted,
        roles=ROLES,
        states=user_admin.STATES,
        page=shown.number,
        pages=shown.count,
        total=total,
    )


@admin.route("/users/<id:user_id>", methods=["GET"])
def user(user_id: int) -> str:
    """One account: profile, plan, role, links, last login, second factor, state, linked identities."""
    return _user_page(_user_or_404(user_id))


def _user_page_url(user_id: int) -> str:
    """The account's admin page, where its power actions' "Confirm it's you" page leads back to."""
    return url_for("admin.user", user_id=user_id)


def _named_with_role(user_id: int) -> str:
    """ "bob, an administrator": how a power action on a staff account names it."""
    return named_with_role(_user_or_404(user_id))


def _has_power(user_id: int) -> bool:
    """Whether the account holds a role (administrator, moderator): suspending or reinstating it takes
    power away or gives it back, so it needs a recent confirmation."""
    return _user_or_404(user_id).role != USER


def _suspension_refused(user_id: int) -> Answer | None:
    """The answer refusing this suspension (:func:`manage.suspension_refusal`, as :func:`suspend` refuses
    it), or None."""
    target = _user_or_404(user_id)
    return _refusal(target, manage.suspension_refusal(current_user, target, _reason()))


def _reason() -> str:
    return request.form.get("reason", "").strip()


@admin.route("/users/<id:user_id>/suspend", methods=["POST"])
@requires_recent_auth(
    lambda user_id: f"suspend {_named_with_role(user_id)}",
    _user_page_url,
    carry=("reason",),
    when=_has_power,
    check=_suspension_refused,
)
def suspend(user_id: int) -> Answer:
    """Suspend the account for the form's ``reason`` (required): page and links 404, every session ends;
    the account's page again, with why under the reason, for a reason missing or refused (422)."""
    target = _user_or_404(user_id)
    reason = _reason()
    return _act(
        target,
        lambda: manage.suspend(current_user, target, reason),
        f"{target.username} is suspended; their sessions ended.",
    )


def _unsuspension_refused(user_id: int) -> Answer | None:
    target = _user_or_404(user_id)
    return _refusal(target, manage.unsuspension_refusal(current_user, target))


@admin.route("/users/<id:user_id>/unsuspend", methods=["POST"])
@requires_recent_auth(
    lambda user_id: f"lift the suspension of {_named_with_role(user_id)}",
    _user_page_url,
    when=_has_power,
    check=_unsuspension_refused,
)
def unsuspend(user_id: int) -> Answer:
    """Lift the suspension."""
    target = _user_or_404(user_id)
    return _act(
        target, lambda: manage.unsuspend(current_user, target), f"{target.username} is no longer suspended."
    )


def _describe_role_change(user_id: int) -> str:
    name = _user_or_404(user_id).username
    made = ROLE_WORDS.get(request.form.get("role", "").strip())
    return f"make {name} {made}" if made else f"change the role of {name}"


def _role_change_refused(user_id: int) -> Answer | None:
    target = _user_or_404(user_id)
    return _refusal(target, manage.role_refusal(current_user, target, _form_text("role", 16)))


@admin.route("/users/<id:user_id>/role", methods=["POST"])
@require_role(ADMIN)
@requires_recent_auth(_describe_role_change, _user_page_url, carry=("role",), check=_role_change_refused)
def change_role(user_id: int) -> Answer:
    """Give the account the ``role`` of the form (the last administrator keeps theirs)."""
    target = _user_or_404(user_id)
    role = _form_text("role", 16)
    return _act(
        target,
        lambda: manage.change_role(current_user, target, role),
        f"{target.username} is now {with_article(role)}.",
    )


@admin.route("/users/<id:user_id>/plan", methods=["POST"])
@require_role(ADMIN)
def change_plan(user_id: int) -> Answer:
    """Put the account on the ``plan`` of the form (not while it pays through Stripe)."""
    target = _user_or_404(user_id)
    plan = _form_text("plan", 40)
    return _act(
        target, lambda: manage.change_plan(current_user, target, plan), f"{target.username}: plan {plan}."
    )


def _reset_refused(user_id: int) -> Answer | None:
    target = _user_or_404(user_id)
    return _refusal(target, manage.second_factor_reset_refusal(target))


@admin.route("/users/<id:user_id>/reset-2fa", methods=["POST"])
@require_role(ADMIN)
@requires_recent_auth(
    lambda user_id: f"turn off two-factor authentication of {_user_or_404(user_id).username}",
    _user_page_url,
    check=_reset_refused,
)
def reset_two_factor(user_id: int) -> Answer:
    """Remove the account's authenticator app, passkeys and recovery codes."""
    target = _user_or_404(user_id)
    return _act(
        target,
        lambda: manage.reset_second_factors(current_user, target),
        f"Two-factor authentication of {target.username} is off.",
    )


@admin.route("/users/<id:user_id>/resend-verification", methods=["POST"])
@require_role(ADMIN)
def resend_verification(user_id: int) -> Answer:
    """Mail the verification link again (once a minute per account: 429 before that)."""
    target = _user_or_404(user_id)
    enforce(
        RESEND_LIMIT,
        "admin-resend-verification",
        str(target.id),
        f"A verification mail went to {target.username} less than a minute ago. Wait a minute.",
    )
    return _act(
        target,
        lambda: manage.resend_verification(current_user, target),
        f"The verification mail is on its way to {target.email}.",
    )


def _deletion_refused(user_id: int) -> Answer | None:
    """The answer refusing this deletion (:func:`manage.deletion_refusal`), or None; :func:`delete` asks
    it too, before deleting."""
    target = _user_or_404(user_id)
    typed = request.form.get("confirm", "")  # anything but the username is refused under the field
    return _refusal(target, manage.deletion_refusal(current_user, target, typed))


@admin.route("/users/<id:user_id>/delete", methods=["POST"])
@require_role(ADMIN)
@requires_recent_auth(
    lambda user_id: f"delete the account {_user_or_404(user_id).username} for good",
    _user_page_url,
    carry=("confirm",),
    check=_deletion_refused,
)
def delete(user_id: int) -> Answer:
    """Delete the account for good; the form must repeat its username (``confirm``)."""
    refused = _deletion_refused(user_id)
    if refused is not None:
        return refused
    target = _user_or_404(user_id)
    name = target.username
    try:
        manage.delete(current_user, target)
    except manage.ActionRefused as refusal:
        return _refused(target, refusal)
    flash(f"The account {name} is deleted.")
    return redirect(url_for("admin.users"))


@admin.route("/audit", methods=["GET"])
@require_role(ADMIN)
def audit_log() -> str:
    """The audit log, newest first, filtered by actor, action, target and UTC dates; 50 a page."""
    where = _audit_filter()
    total = audit.count(where)
    shown = requested_page(total, AUDIT_PAGE_SIZE)
    return render_template(
        "admin/audit.html",
        entries=audit.entries(where, AUDIT_PAGE_SIZE, shown.offset),
        where=where,
        actions=audit.actions(),
        page=shown.number,
        pages=shown.count,
        total=total,
        query={key: request.args[key] for key in AUDIT_FILTERS if request.args.get(key)},
        applied=_audit_filters_said(where),
        ignored=_unknown_args({*AUDIT_FILTERS, "page"}),
    )


@admin.route("/audit.csv", methods=["GET"])
@require_role(ADMIN)
def audit_csv() -> Response:
    """The filtered audit log as a CSV download (formulas escaped). A query parameter that is not one of
    its filters is refused (400): a mistyped filter would else export the whole log without a word."""
    unknown = _unknown_args(set(AUDIT_FILTERS))
    if unknown:
        raise BadRequest(
            f"The audit export has no filter {', '.join(unknown)}: "
            f"its filters are {', '.join(AUDIT_FILTERS)}."
        )
    body = audit.export_csv(_audit_filter())
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{date.today():%Y%m%d}.csv"'
    return response


@admin.route("/invites", methods=["GET", "POST"])
@require_role(ADMIN)
def invitations() -> BaseResponse | str | tuple[str, int]:
    """The sign-up policy and invitations, with the link just made shown this once; a POST makes a
    single-use link, mailed to ``email`` when given, and redirects here (so that reloading the page
    makes and mails nothing), or answers 422 with the page and why for an address that cannot be used."""
    if request.method == "GET":
        made = session.pop(NEW_INVITE, None)
        return _invitations_page(made=made if isinstance(made, dict) else None)
    note = request.form.get("note", "").strip()
    refused_note = _text_problem("note", note, invites.NOTE_MAX)
    if refused_note:
        return _invitations_page(error=refused_note, field="note"), 422
    try:
        made = invites.create(current_user, note, request.form.get("email", ""))
    except invites.InviteError as error:
        return _invitations_page(error=str(error), field="email"), 422
    session[NEW_INVITE] = {"url": made.url, "mailed_to": made.mailed_to}  # the secret, for the next page only
    flash(
        f"The invitation is on its way to {made.mailed_to}." if made.mailed_to else "The invitation is made."
    )
    return redirect(url_for("admin.invitations"))


def _invitations_page(made: dict[str, str] | None = None, error: str | None = None, field: str = "") -> str:
    shown = invites.recent(INVITES_SHOWN)
    return render_template(
        "admin/invites.html",
        made=made,
        field=field,
        form=request.form,
        invites=shown,
        not_shown=max(0, invites.count() - len(shown)),
        policy=site_settings.signup_policy(),
        error=error,
    )


@admin.route("/invites/<id:invite_id>/revoke", methods=["POST"])
@require_role(ADMIN)
def revoke_invite(invite_id: int) -> BaseResponse:
    """End an open invitation now (audit-logged); 404 for an unknown one."""
    try:
        invites.revoke(invite_id)
    except LookupError:
        raise NotFound("There is no such invitation.") from None
    except invites.InviteError as error:
        flash(str(error))
        return redirect(url_for("admin.invitations"))
    flash(f"Invitation {invite_id} is revoked: its link no longer works.")
    return redirect(url_for("admin.invitations"))


@admin.route("/signup-policy", methods=["POST"])
@require_role(ADMIN)
def signup_policy() -> BaseResponse | tuple[str, int]:
    """Set who may sign up: open, invite or closed (audit-logged); 422 with the page and why for any other
    value."""
    try:
        site_settings.change("signup_policy", _form_text("policy", 16))
    except site_settings.SettingError as error:
        return _invitations_page(error=f"The sign-up policy was not changed. {error.message}"), 422
    flash("The sign-up policy is saved.")
    return redirect(url_for("admin.invitations"))


def _act(target: User, action: Callable[[], None], done: str) -> Answer:
    """Run a staff action on ``target``; back to its page with ``done``, or with why it was refused."""
    try:
        action()
    except manage.ActionRefused as refused:
        return _refused(target, refused)
    flash(done)
    return redirect(url_for("admin.user", user_id=target.id))


def _refusal(target: User, refusal: manage.ActionRefused | None) -> Answer | None:
    """The answer for ``refusal`` of an action on ``target``, or None when there is none."""
    return None if refusal is None else _refused(target, refusal)


def _refused(target: User, refusal: manage.ActionRefused) -> Answer:
    """The user's page again with the reason the action was refused, under the field it is about (what
    was typed kept); a JSON client gets the JSON error naming that field."""
    if wants_json():
        return error_response(refusal.status, refusal.message, field=refusal.field or None)
    return _user_page(target, refusal.message, refusal.field), refusal.status


def _user_page(target: User, error: str = "", field: str = "") -> str:
    """The page of ``target``, offering only the actions the signed-in staff member may take on it;
    ``error`` under the form field ``field`` (at the top when it names none the page draws)."""
    return render_template(
        "admin/user.html",
        info=user_admin.detail(target),
        roles=ROLES,
        plans=plans.all_plans(),
        can_admin=current_user.role == ADMIN,
        staff_only=manage.staff_only(current_user, target),
        error=error,
        field=field,
    )


def _user_or_404(user_id: int) -> User:
    target = User.get_by_id(user_id)
    if target is None:
        raise NotFound("There is no account with this id.")
    return target


def _text_arg(name: str, limit: int) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > limit or has_control_characters(value):
        raise BadRequest(f"The {name} filter holds at most {limit} characters, without control characters.")
    return value


def _form_text(name: str, limit: int) -> str:
    value = request.form.get(name, "").strip()
    problem = _text_problem(name, value, limit)
    if problem:
        raise BadRequest(problem)
    return value


def _text_problem(name: str, value: str, limit: int) -> str | None:
    if len(value) > limit or has_control_characters(value) or has_bidi_controls(value):
        return (
            f"The field {name} holds at most {limit} characters, without control characters "
            "or right-to-left overrides."
        )
    return None


def _date_arg(name: str) -> date | None:
    raw = _text_arg(name, 10)
    if not raw:
        return None
    label = f"“{DATE_LABELS.get(name, name)}” ({name}={raw})"
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{label} is not a day: write it YYYY-MM-DD, such as 2026-01-31.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadRequest(f"{label} is not a day from {FIRST_DAY} to {LAST_DAY}.")
    return day


def _audit_filter() -> audit.AuditFilter:
    """The audit log's filters from the query; 400 for a bad one, or a first day after the last."""
    where = audit.AuditFilter(
        actor=_text_arg("actor", 64),
        action=_text_arg("action", 64),
        target_type=_text_arg("target_type", 32),
        target_id=_text_arg("target_id", 64),
        since=_date_arg("since"),
        until=_date_arg("until"),
    )
    if where.since and where.until and where.since > where.until:
        raise BadRequest(
            f"“{DATE_LABELS['since']}” (since={where.since}) is after “{DATE_LABELS['until']}” "
            f"(until={where.until}): no entry could match. Swap them, or clear one."
        )
    return where


def _audit_filters_said(where: audit.AuditFilter) -> list[str]:
    """The filters applied, in words for the page (empty: the whole log)."""
    said = [
        f"{label} “{text}”"
        for label, text in (
            ("actor", where.actor),
            ("action", where.action),
            ("target type", where.target_type),
            ("target id", where.target_id),
        )
        if text
    ]
    if where.since:
        said.append(f"from {where.since}" + (f" to {where.until}" if where.until else " on"))
    elif where.until:
        said.append(f"up to {where.until}")
    return said


def _unknown_args(known: set[str]) -> list[str]:
    """The query's parameters that are not in ``known``, sorted (a page ignores them, and says so)."""
    return sorted(set(request.args) - known)
