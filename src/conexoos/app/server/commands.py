"""Operator commands added to ``conexoos`` by the product."""

from __future__ import annotations

import re

import click

from conexoos.app.controllers import rollups
from conexoos.app.controllers.accounts import SignupError, create_account
from conexoos.app.controllers.second_factor import disable_second_factors, has_second_factor
from conexoos.app.models.forms.accounts import EMAIL_PATTERN, USERNAME_PATTERN
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow


class Commands:
    """Registers ``conexoos user ...`` (create, verify) and ``conexoos analytics ...``."""

    def __init__(self, cli: click.Group) -> None:
        cli.add_command(user_commands())
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
    @click.option("--admin", is_flag=True, help="Give the account administrator rights.")
    def create_user(email: str, username: str, password: str, admin: bool) -> None:
        """Create an account (for operators)."""
        if not re.match(EMAIL_PATTERN, email):
            raise click.BadParameter("not a valid email address", param_hint="--email")
        if not re.match(USERNAME_PATTERN, username.lower()):
            raise click.BadParameter("3 to 30 characters of a-z, 0-9, _ and .", param_hint="--username")
        try:
            user = create_account(email, username, password, is_admin=admin)
        except SignupError as error:
            raise click.ClickException(error.message) from None
        role = "administrator" if admin else "user"
        click.echo(f"created {role} {user.username} (id {user.id})")

    @user_group.command("verify")
    @click.argument("username")
    def verify_user(username: str) -> None:
        """Mark the email address of USERNAME as verified (as its verification link would)."""
        user = User.get_by_login(username)
        if user is None:
            raise click.ClickException(f"no account with the username or email {username!r}")
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            user.save()
        click.echo(f"{user.username}: {user.email} verified")

    user_group.add_command(disable_two_factor_command())
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
        state = "turned off" if had else "was not on; recovery codes cleared"
        click.echo(f"two-factor authentication of {user.username} (id {user.id}) {state}")

    return disable_two_factor


def analytics_commands() -> click.Group:
    """A new ``analytics`` group for one app (built per app, like :func:`user_commands`)."""

    @click.group("analytics")
    def analytics_group() -> None:
        """Inspect the analytics roll-up."""

    @analytics_group.command("quarantine")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0), help="Rows to list.")
    def show_quarantine(limit: int) -> None:
        """Count and list the raw events the roll-up set aside (table event_quarantine), newest first."""
        held = rollups.quarantined(limit)
        click.echo(f"{rollups.quarantined_count()} events in quarantine")
        for row in held:
            error = row.error.splitlines()[0] if row.error else ""
            click.echo(
                f"event {row.event_id}\towner {row.owner_id}\t{row.quarantined_at.isoformat()}\t{error}"
            )

    return analytics_group
