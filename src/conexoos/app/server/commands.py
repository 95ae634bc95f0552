"""Operator commands added to ``conexoos`` by the product."""

from __future__ import annotations

import re

import click

from conexoos.app.controllers import (
    account_deletion,
    administrators,
    audit,
    billing,
    plan_messages,
    rollups,
    setup,
    user_admin,
    username_holds,
)
from conexoos.app.controllers.accounts import PasswordRejected, SignupError, create_account, set_password
from conexoos.app.controllers.second_factor import disable_second_factors, has_second_factor
from conexoos.app.controllers.security_notices import queue_second_factor_reset
from conexoos.app.controllers.user_sessions import end_sessions
from conexoos.app.models.forms.accounts import EMAIL_PATTERN, USERNAME_PATTERN
from conexoos.app.models.persistent import ADMIN, MODERATOR, ROLES, USER, User
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.utils.email_address import InvalidEmail, normalize_email
from conexoos.app.utils.text import username_folded
from conexoos.framework import db
from conexoos.framework.cli_numbers import PAGE, PAGE_ROWS, ROWS
from conexoos.framework.wording import counted


class Commands:
    """Registers ``conexoos user ...`` (create, verify) and ``conexoos analytics ...``."""

    def __init__(self, cli: click.Group) -> None:
        cli.add_command(user_commands())
        cli.add_command(setup_token_command())
        cli.add_command(analytics_commands())


def user_commands() -> click.Group:
    """A new ``user`` group for one app.

    Built per app, never shared: the framework binds a project's commands to the app that registered
    them, so a module-level group would keep the first app's database for every later app in the process.
    """

    @click.group("user")
    def user_group() -> None:
        """Manage accounts."""

    @user_group.command("create")
    @click.option("--email", required=True, help="Email address of the account.")
    @click.option("--username", required=True, help="3 to 30 characters of a-z, 0-9, _ and .")
    @click.password_option(help="Password (asked for when not given).")
    @click.option("--admin", is_flag=True, help="Give the account the admin role (same as --role admin).")
    @click.option(
        "--role", type=click.Choice(ROLES), default=None, help="The account's role (default: user)."
    )
    def create_user(email: str, username: str, password: str, admin: bool, role: str | None) -> None:
        """Create an account (for operators)."""
        if admin and role not in (None, ADMIN):
            raise click.BadParameter(f"--admin gives the role admin, not {role}", param_hint="--role")
        role = ADMIN if admin else (role or USER)
        if not re.match(EMAIL_PATTERN, email):
            raise click.BadParameter("not a valid email address", param_hint="--email")
        try:
            email = normalize_email(email)
        except InvalidEmail as error:
            raise click.BadParameter(str(error), param_hint="--email") from error
        if not re.match(USERNAME_PATTERN, username_folded(username)):
            raise click.BadParameter("3 to 30 characters of a-z, 0-9, _ and .", param_hint="--username")
        try:
            user = create_account(email, username, password, role=role)
        except SignupError as error:  # a refused value, as a bad --email: a usage error (exit 2)
            raise click.BadParameter(error.message, param_hint=f"--{error.field}") from None
        audit.record("user.create", user, None, {"role": role}, f"{user.username} created with role {role}")
        db.session.commit()
        label = {ADMIN: "administrator", MODERATOR: "moderator"}.get(role, "user")
        click.echo(f"created {label} {user.username} (id {user.id})")

    @user_group.command("verify")
    @click.argument("username")
    def verify_user(username: str) -> None:
        """Mark the email address of USERNAME as verified (as its verification link would)."""
        user = User.get_by_login(username)
        if user is None:
            raise click.ClickException(f"no account with the username or email {username!r}")
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            audit.record(
                "user.verify", user, {"verified": False}, {"verified": True}, f"{user.email} verified"
            )
            user.save()
        click.echo(f"{user.username}: {user.email} verified")

    user_group.add_command(disable_two_factor_command())
    user_group.add_command(set_role_command())
    add_operator_commands(user_group)
    return user_group


def disable_two_factor_command() -> click.Command:
    """``conexoos user disable-2fa USERNAME``: for a person who lost every second factor."""

    @click.command("disable-2fa")
    @click.argument("username")
    def disable_two_factor(username: str) -> None:
        """Remove an account's authenticator app, passkeys and recovery codes (the password alone logs in)."""
        user = User.get_by_login(username)
        if user is None:
            raise click.ClickException(f"no account has the username or email {username!r}")
        had = has_second_factor(user)
        disable_second_factors(user)
        if had:
            with transaction():
                queue_second_factor_reset(user)
        state = "turned off" if had else "was not on; recovery codes cleared"
        click.echo(f"two-factor authentication of {user.username} (id {user.id}) {state}")

    return disable_two_factor


def set_role_command() -> click.Command:
    """``conexoos user set-role USERNAME ROLE``: also how an operator regains an admin (audit-logged)."""

    @click.command("set-role")
    @click.argument("username")
    @click.argument("role", type=click.Choice(ROLES))
    @click.option("--force", is_flag=True, help="Demote even the last active administrator.")
    def set_role(username: str, role: str, force: bool) -> None:
        """Give USERNAME the ROLE admin, moderator or user (sessions of the account end)."""
        user = _existing_user(username)
        if user.role == role:
            click.echo(f"{user.username} already has the role {role}")
            return
        if role != ADMIN and not force and administrators.is_last_active_admin(user):
            raise click.ClickException(
                f"{user.username} is the only active administrator: make another one first (or use --force)"
            )
        before = {"role": user.role}
        user.role = role
        audit.record(
            "user.role", user, before, {"role": role}, f"role of {user.username}: {before['role']} → {role}"
        )
        db.session.commit()
        end_sessions(user, keep_current=False)
        click.echo(f"{user.username} now has the role {role}")

    return set_role


def setup_token_command() -> click.Command:
    """``conexoos setup-token``: a fresh link to ``/setup`` while no administrator exists."""

    @click.command("setup-token")
    def setup_token() -> None:
        """Print a one-time link to /setup (valid 24 hours, until setup is done)."""
        if administrators.active_admins() > 0:
            raise click.ClickException("setup is done: an administrator exists (see `conexoos user list`)")
        if not setup.available():
            raise click.ClickException(
                "setup already ran but no active administrator is left: give an account the role with "
                "`conexoos user set-role USERNAME admin` (or `conexoos user create --admin`)"
            )
        click.echo(setup.setup_link(setup.make_token()))

    return setup_token


def add_operator_commands(user_group: click.Group) -> None:
    """``user list``, ``show``, ``set-password`` and ``delete``."""

    @user_group.command("list")
    @click.option(
        "--search", default="", help="Only accounts whose username, email or display name contains this."
    )
    @click.option("--role", default="", type=click.Choice(["", *ROLES]), help="Only accounts of this role.")
    @click.option(
        "--state",
        default="",
        type=click.Choice(["", *user_admin.STATES]),
        help="Only accounts in this state.",
    )
    @click.option("--limit", default=50, show_default=True, type=PAGE_ROWS, help="Rows a page.")
    @click.option("--page", default=1, show_default=True, type=PAGE, help="Page to show.")
    def list_users(search: str, role: str, state: str, limit: int, page: int) -> None:
        """List accounts (id, username, email, role, plan, created), oldest first; exits 1 for a page past
        the last."""
        wanted = user_admin.UserQuery(search, role, state)
        total = user_admin.count_users(wanted)
        pages = max(1, -(-total // limit))
        if page > pages:
            shown = f"{counted(pages, 'page')} ({counted(total, 'account')})"
            raise click.ClickException(f"there is no page {page}: the list has {shown}")
        click.echo("id\tusername\temail\trole\tplan\tcreated")
        for user in user_admin.list_users(wanted, limit, (page - 1) * limit):
            created = f"{user.created_at:%Y-%m-%d %H:%M}"
            state = f"{user.role} (suspended)" if user.is_suspended else user.role
            click.echo(
                f"{user.id}\t{user.username}\t{user.email}\t{state}\t{user.subscription_plan}\t{created}"
            )
        click.echo(f"page {page} of {pages} ({counted(total, 'account')})")

    @user_group.command("show")
    @click.argument("username")
    def show_user(username: str) -> None:
        """Show one account: profile, email verification, two-factor, plan, counts, dates (what the admin
        account page shows, gathered by the same function)."""
        detail = user_admin.detail(_existing_user(username), links_shown=0)
        info = detail.summary
        user = info.user
        verified = f"yes ({user.email_verified_at:%Y-%m-%d %H:%M} UTC)" if user.email_verified_at else "no"
        last_login = f"{info.last_login:%Y-%m-%d %H:%M} UTC" if info.last_login else "not recorded"
        for label, value in (
            ("id", user.id),
            ("username", user.username),
            ("email", user.email),
            ("email verified", verified),
            ("display name", user.display_name),
            ("bio", user.bio),
            ("role", user.role),
            ("two-factor", detail.second_factors.described()),
            (
                "suspended",
                f"{user.suspended_at:%Y-%m-%d %H:%M} UTC {user.suspension_reason}"
                if user.suspended_at
                else "no",
            ),
            ("plan", f"{info.plan} (subscription: {subscription_summary(user)})"),
            ("links", info.links),
            ("products", info.products),
            ("created", f"{user.created_at:%Y-%m-%d %H:%M} UTC"),
            ("last login", last_login),
        ):
            click.echo(f"{label}: {value}")

    @user_group.command("set-password")
    @click.argument("username")
    @click.password_option(help="The new password (asked for twice when not given).")
    def set_user_password(username: str, password: str) -> None:
        """Give an account a new password."""
        user = _existing_user(username)
        try:
            set_password(user, password)
        except PasswordRejected as rejected:
            raise click.BadParameter(rejected.message, param_hint="--password") from None
        click.echo(f"password of {user.username} changed")

    @user_group.command("delete")
    @click.argument("username")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def delete_user(username: str, yes: bool) -> None:
        """Delete an account as its owner can: Stripe subscription, rows, images, statistics."""
        user = _existing_user(username)
        if not yes:
            click.confirm(f"Delete {user.username} ({user.email}) and everything in it for good?", abort=True)
        try:
            deleted = account_deletion.delete_account(user)
        except account_deletion.DeletionRefused as refused:
            raise click.ClickException(refused.message) from None
        held = f"{deleted.held_until:%Y-%m-%d}"
        click.echo(f"deleted {deleted.username} (id {deleted.user_id}); the name is held until {held}")


def _existing_user(username: str) -> User:
    """The account named ``username``; a one-line error (exit 1) when there is none."""
    user = User.get_by_username(username.strip())
    if user is not None:
        return user
    held = username_holds.held_until(username)
    detail = f" (deleted; the name is held until {held:%Y-%m-%d})" if held else ""
    raise click.ClickException(f"no user named {username!r}{detail}")


def analytics_commands() -> click.Group:
    """A new ``analytics`` group for one app (built per app, like :func:`user_commands`)."""

    @click.group("analytics")
    def analytics_group() -> None:
        """Inspect the analytics roll-up."""

    @analytics_group.command("quarantine")
    @click.option("--limit", default=20, show_default=True, type=ROWS, help="Rows to list.")
    def show_quarantine(limit: int) -> None:
        """Count and list the raw events the roll-up set aside (table event_quarantine), newest first."""
        held = rollups.quarantined(limit)
        click.echo(f"{counted(rollups.quarantined_count(), 'event')} in quarantine")
        for row in held:
            error = row.error.splitlines()[0] if row.error else ""
            click.echo(
                f"event {row.event_id}\towner {row.owner_id}\t{row.quarantined_at.isoformat()}\t{error}"
            )

    return analytics_group


def subscription_summary(user: User) -> str:
    """What ``user show`` says of the subscription: its status (``none`` without one); for one cancelled
    at the period's end, ``, set to end on 2027-01-04 10:00 UTC (does not renew)``, or, that moment past
    before Stripe's word, ``, ended on 2026-12-05 09:30 UTC (Stripe has yet to confirm)``."""
    status = user.subscription_status or "none"
    if not billing.is_ending(user) or user.plan_ends_at is None:
        return status
    when = f"{user.plan_ends_at:%Y-%m-%d %H:%M} UTC"
    if plan_messages.plan_ended(user):
        return f"{status}, ended on {when} (Stripe has yet to confirm)"
    return f"{status}, set to end on {when} (does not renew)"
