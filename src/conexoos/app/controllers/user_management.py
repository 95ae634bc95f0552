"""What staff do to an account from the admin panel, each change audit-logged with before and after.

Every function takes the acting staff member (``actor``) and the target, checks the rules that protect
the site (the last active administrator can be neither demoted, suspended nor deleted), makes the change
and its audit entry in one transaction where the reused feature allows it, and commits. Role checks (who
may call which) are the blueprint's: see ``blueprints/admin.py``.

What an action refuses before it changes anything is a function of its own (``suspension_refusal``,
``role_refusal``...: an :class:`ActionRefused` or None). The action raises it, and the admin panel asks
the same function before the "Confirm it's you" page, so that a request refused anyway costs no
password check (``blueprints/recent_auth.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from conexoos.app.models.persistent import ADMIN, ROLES, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.services.stripe_subscription import LIVE_STATUSES
from conexoos.app.utils.text import (
    has_bidi_controls,
    has_control_characters,
    is_visible,
    trimmed_invisibles,
)
from conexoos.app.utils.wording import with_article
from conexoos.framework import db
from conexoos.framework.mail.message import MailError

from . import account_deletion, audit, email_addresses, plans
from .administrators import active_admins
from .second_factor import disable_second_factors, has_second_factor
from .security_notices import queue_second_factor_reset
from .user_sessions import end_sessions

MAX_REASON = 300


class ActionRefused(Exception):
    """The action cannot be done; ``message`` says why to the staff member, ``status`` is the HTTP one,
    ``field`` the form field the staff member must change (empty when the refusal is about no field)."""

    def __init__(self, message: str, status: int = 409, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def _refuse(refusal: ActionRefused | None) -> None:
    """Raise ``refusal`` when there is one."""
    if refusal is not None:
        raise refusal


def _lock_admins() -> None:
    """Serialise changes that may remove an administrator: lock every admin row (PostgreSQL, MariaDB) or
    take SQLite's write lock, so two admins demoting each other cannot both succeed."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User).where(User.role == ADMIN).values(role=User.role),
            execution_options={"synchronize_session": False},
        )
    db.session.execute(select(User.id).where(User.role == ADMIN).with_for_update()).all()


def _keep_an_admin(target: User, what: str) -> None:
    """:class:`ActionRefused` when ``target`` is the last active administrator (call after locking)."""
    db.session.refresh(target)
    if target.role == ADMIN and target.suspended_at is None and active_admins(excluding=target.id) == 0:
        raise ActionRefused(
            f"{target.username} is the only active administrator and cannot be {what}. "
            "Make another account an administrator first."
        )


def _commit_or_roll_back() -> None:
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _state(user: User, *fields: str) -> dict[str, Any]:
    return {name: getattr(user, name) for name in fields}


def staff_only(actor: User, target: User) -> str | None:
    """Why ``actor`` may not act on ``target`` (suspend it...): a moderator acting on staff; else None.
    Administrators may act on anyone, moderators on ordinary users only."""
    if target.is_staff and actor.role != ADMIN:
        return f"Only an administrator may do this to {target.username}, {with_article(target.role)}."
    return None


def reason_problem(reason: str) -> str | None:
    """Why ``reason`` cannot be a suspension's reason, which its owner reads on their dashboard: none
    given (or only characters that show nothing: a zero-width space, a Hangul filler...), longer than
    :data:`MAX_REASON`, or holding control characters or right-to-left overrides; None when it can."""
    if not is_visible(reason):
        return "Give the reason for the suspension: its owner reads it on their dashboard."
    length = len(stored_reason(reason))
    if length > MAX_REASON:
        return f"The reason holds at most {MAX_REASON} characters; this one has {length}."
    if has_control_characters(reason) or has_bidi_controls(reason):
        return "The reason may not hold control characters or right-to-left overrides."
    return None


def stored_reason(reason: str) -> str:
    """``reason`` as stored: its spaces collapsed, and what shows nothing trimmed at both ends, so that
    the dashboard's sentence ends where the reader sees it end ("Spam.\u200b" is "Spam.")."""
    return trimmed_invisibles(" ".join(reason.split()))


def suspension_refusal(actor: User, target: User, reason: str) -> ActionRefused | None:
    """Why suspending ``target`` for ``reason`` is refused, or None: moderators may suspend ordinary users
    only, nobody their own account (403); a reason :func:`reason_problem` refuses is a 422; an account
    suspended already, a 409. (The last active administrator is checked under a lock by :func:`suspend`.)"""
    if actor.id == target.id:
        return ActionRefused(OWN_SUSPENSION, 403)
    refusal = staff_only(actor, target)
    if refusal is not None:
        return ActionRefused(refusal, 403)
    problem = reason_problem(reason)
    if problem is not None:
        return ActionRefused(problem, 422, "reason")
    if target.suspended_at is not None:
        return ActionRefused(f"{target.username} is already suspended.")
    return None


def suspend(actor: User, target: User, reason: str) -> None:
    """Suspend ``target`` for ``reason``: page and links answer 404, every session ends (the owner may
    log in again to read the notice, export or delete the account). :class:`ActionRefused` for what
    :func:`suspension_refusal` refuses, and for the last active administrator."""
    _refuse(suspension_refusal(actor, target, reason))
    reason = stored_reason(reason)
    db.session.commit()
    try:
        _lock_admins()
        _keep_an_admin(target, "suspended")
        before = _state(target, "suspended_at", "suspension_reason")
        target.suspended_at, target.suspension_reason = utcnow(), reason
        audit.record(
            "user.suspend",
            target,
            before,
            _state(target, "suspended_at", "suspension_reason"),
            f"{target.username} suspended: {reason}",
            actor=actor,
        )
    except BaseException:
        db.session.rollback()
        raise
    _commit_or_roll_back()
    end_sessions(target, keep_current=False)


def unsuspension_refusal(actor: User, target: User) -> ActionRefused | None:
    """Why lifting the suspension of ``target`` is refused, or None: a moderator acting on staff (403),
    an account that is not suspended (409)."""
    refusal = staff_only(actor, target)
    if refusal is not None:
        return ActionRefused(refusal, 403)
    if target.suspended_at is None:
        return ActionRefused(f"{target.username} is not suspended.")
    return None


def unsuspend(actor: User, target: User) -> None:
    """Lift a suspension: the page and links are shown again; :class:`ActionRefused` for what
    :func:`unsuspension_refusal` refuses."""
    _refuse(unsuspension_refusal(actor, target))
    before = _state(target, "suspended_at", "suspension_reason")
    target.suspended_at, target.suspension_reason = None, ""
    audit.record(
        "user.unsuspend",
        target,
        before,
        _state(target, "suspended_at", "suspension_reason"),
        f"{target.username} unsuspended",
        actor=actor,
    )
    _commit_or_roll_back()


OWN_SUSPENSION = "You cannot suspend your own account: another administrator must."

OWN_ROLE = (
    "You cannot change your own role: another administrator must, so nobody gives up the panel by a slip."
)


def role_refusal(actor: User, target: User, role: str) -> ActionRefused | None:
    """Why giving ``target`` the role ``role`` is refused, or None: an unknown role (400), one's own role
    (403, as Wagtail's user form leaves out one's own superuser status), the role it has already (409)."""
    if role not in ROLES:
        return ActionRefused(f"Choose one of the roles: {', '.join(ROLES)}.", 400, "role")
    if actor.id == target.id:
        return ActionRefused(OWN_ROLE, 403, "role")
    if role == target.role:
        return ActionRefused(f"{target.username} already has the role {role}.", 409, "role")
    return None


def change_role(actor: User, target: User, role: str) -> None:
    """Give ``target`` the role ``role``; :class:`ActionRefused` for what :func:`role_refusal` refuses,
    and when the last active administrator would lose theirs."""
    _refuse(role_refusal(actor, target, role))
    db.session.commit()
    try:
        _lock_admins()
        if role != ADMIN:
            _keep_an_admin(target, "given another role")
        before = _state(target, "role")
        target.role = role
        audit.record(
            "user.role",
            target,
            before,
            {"role": role},
            f"role of {target.username}: {before['role']} → {role}",
            actor=actor,
        )
    except BaseException:
        db.session.rollback()
        raise
    _commit_or_roll_back()
    end_sessions(target, keep_current=False)  # new powers, or fewer, start from a new login


def change_plan(actor: User, target: User, plan_key: str) -> None:
    """Put ``target`` on a configured plan without payment (refused while a Stripe subscription may still
    bill: Stripe's webhooks would overwrite it; change it in Stripe). One that ended changes nothing."""
    if plan_key not in plans.all_plans():
        raise ActionRefused(f"There is no plan {plan_key!r}.", 400, "plan")
    if target.stripe_subscription_id and target.subscription_status in LIVE_STATUSES:
        raise ActionRefused(
            f"{target.username} pays through Stripe: change the subscription in Stripe.", 409, "plan"
        )
    if target.subscription_plan == plan_key:
        raise ActionRefused(f"{target.username} is already on the plan {plan_key}.", 409, "plan")
    before = _state(target, "subscription_plan")
    target.subscription_plan = plan_key
    audit.record(
        "user.plan",
        target,
        before,
        {"subscription_plan": plan_key},
        f"plan of {target.username}: {before['subscription_plan']} → {plan_key}",
        actor=actor,
    )
    _commit_or_roll_back()


def second_factor_reset_refusal(target: User) -> ActionRefused | None:
    """Why resetting the second factors of ``target`` is refused, or None: it has none (409)."""
    if not has_second_factor(target):
        return ActionRefused(f"{target.username} has no two-factor authentication: nothing to reset.")
    return None


def reset_second_factors(actor: User, target: User) -> None:
    """Remove the authenticator app, passkeys and recovery codes (as ``conexoos user disable-2fa``);
    refused (nothing logged) as :func:`second_factor_reset_refusal` says."""
    _refuse(second_factor_reset_refusal(target))
    before = {"two_factor": True}
    disable_second_factors(target)
    queue_second_factor_reset(target)  # seen by the owner, whoever on the staff did it
    audit.record(
        "user.reset_2fa",
        target,
        before,
        {"two_factor": has_second_factor(target)},
        f"two-factor authentication of {target.username} reset",
        actor=actor,
    )
    _commit_or_roll_back()


def resend_verification(actor: User, target: User) -> None:
    """Queue the verification mail again; refused when the address is already verified."""
    if target.email_verified:
        raise ActionRefused(f"The address of {target.username} is already verified.")
    try:
        email_addresses.queue_verification_again(target)
    except MailError:  # an address stored before such addresses were refused
        raise ActionRefused(
            f"The address of {target.username} cannot be mailed: they must change it (Settings → Email)."
        ) from None
    audit.record(
        "user.resend_verification",
        target,
        None,
        {"email": target.email},
        f"verification mail sent again to {target.username}",
        actor=actor,
    )
    _commit_or_roll_back()


def deletion_refusal(actor: User, target: User, typed_name: str) -> ActionRefused | None:
    """Why deleting ``target`` is refused before :func:`delete` is called, or None: the name typed to
    confirm is not its username (400), or it is the actor's own account (409: its owner deletes it from
    Settings, as anyone does). The last active administrator is checked by :func:`delete`, under a lock."""
    if typed_name.strip().lower() != target.username:
        return ActionRefused("Type the account's username to confirm the deletion.", 400, "confirm")
    if target.id == actor.id:
        return ActionRefused("Delete your own account from Settings → Account.", 409, "confirm")
    return None


def delete(actor: User, target: User) -> None:
    """Delete the account as its owner can (Stripe, rows, files; the name is held), then log it.

    The deletion commits in steps of its own (see account_deletion.py), so the entry is written once it
    succeeded; a refused deletion leaves no entry and no change.
    """
    db.session.commit()
    try:
        _lock_admins()
        _keep_an_admin(target, "deleted")
    finally:
        db.session.rollback()  # the check only: the deletion takes its own locks
    before = _state(target, "id", "username", "email", "role", "subscription_plan")
    actor_id = actor.id  # the deletion empties the session: the actor is read again afterwards
    try:
        deleted = account_deletion.delete_account(target)
    except account_deletion.DeletionRefused as refused:
        raise ActionRefused(refused.message, refused.status) from refused
    actor_row = db.session.get(User, actor_id)
    audit.record(
        "user.delete",
        ("user", deleted.user_id),
        before,
        None,
        f"account {deleted.username} deleted; name held until {deleted.held_until:%Y-%m-%d}",
        actor=actor_row,
    )
    _commit_or_roll_back()
