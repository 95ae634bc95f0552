"""Deleting an account: Stripe first, then every row, image and analytics record of the user, at once,
and the mail the outbox sent to (or failed to send to) the account's address.

The settings page and ``conexoos user delete`` both call :func:`delete_account`. When the subscription
cannot be cancelled nothing is deleted. The username is then held (see :mod:`.username_holds`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Column, Table, delete
from werkzeug.exceptions import HTTPException

from conexoos.app.controllers.second_factor import has_second_factor, verify_second_factor
from conexoos.app.controllers.user_sessions import current_login_age, end_sessions
from conexoos.app.models.persistent import ExportJob, User
from conexoos.app.models.persistent.base import transaction
from conexoos.framework import db
from conexoos.framework.mail import forget_mail_to

from . import (
    account_export,
    accounts,
    administrators,
    billing,
    reentered_password,
    user_images,
    username_holds,
)

log = logging.getLogger("conexoos.accounts")
OWNER_COLUMNS = ("owner_id", "user_id")
"""Columns that name the user a row belongs to, in any table of the product."""
MODELS_PACKAGE = "conexoos.app.models."
FRESH_LOGIN = timedelta(minutes=10)
"""How recent a login must be to delete an account that has no password."""


class DeletionRefused(Exception):
    """The account cannot be deleted now; ``message`` tells the person why, ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Deleted:
    """What a deletion did: the name it released and until when that name is held."""

    user_id: int
    username: str
    held_until: datetime


def confirm_deletion(user: User, password: str, second_factor_code: str = "") -> None:
    """Check what a person must give to delete their account; :class:`DeletionRefused` (403) otherwise.

    The password, and when two-factor is on, a code of the authenticator app or a recovery code. An
    account without a password (made at a sign-in through an identity provider) proves it with a login
    less than :data:`FRESH_LOGIN` old instead.
    """
    if not accounts.has_usable_password(user):
        _require_fresh_login()
    elif not reentered_password.verify(user, password):
        raise DeletionRefused(403, "That password is not correct, so the account was not deleted.")
    if has_second_factor(user) and not verify_second_factor(user, second_factor_code.strip()):
        raise DeletionRefused(
            403,
            "Enter a current code from your authenticator app, or one of your recovery codes: "
            "two-factor authentication is on, so the password alone cannot delete the account.",
        )


def _require_fresh_login() -> None:
    age = current_login_age()
    if age is None or age > FRESH_LOGIN:
        minutes = int(FRESH_LOGIN.total_seconds() // 60)
        raise DeletionRefused(
            403,
            "Your account has no password here, so deleting it needs a fresh login: log out, log in "
            f"again, and delete it within {minutes} minutes.",
        )


def delete_account(user: User, now: datetime | None = None) -> Deleted:
    """Cancel the user's subscription, then delete all their rows, images and exports, and hold the name.

    :class:`DeletionRefused` when Stripe cannot cancel, or (409) when ``user`` is the last active
    administrator (nothing is deleted then).
    """
    if administrators.is_last_active_admin(user):
        raise DeletionRefused(409, administrators.LAST_ADMIN)
    try:
        billing.cancel_before_deletion(user)
    except HTTPException as error:
        raise DeletionRefused(error.code or 502, str(error.description)) from error
    user_id, username, email = user.id, user.username, user.email
    end_sessions(user, keep_current=False)  # every device at once, whatever the session store
    images = user_images.image_names(user)
    exports = [path for job in ExportJob.of_user(user_id) if (path := account_export.export_path(job))]
    with transaction():
        for table, column in owned_tables():
            db.session.execute(delete(table).where(column == user_id))
        forget_mail_to([email])  # what was sent or failed; mail still queued goes, then is pruned
        until = username_holds.hold(username, now)
        db.session.execute(delete(User).where(User.id == user_id))
    db.session.expunge_all()
    _remove_files(images, exports)
    log.info("account %s deleted; username held until %s", user_id, until.isoformat())
    return Deleted(user_id, username, until)


def owned_tables() -> Iterator[tuple[Table, Column[int]]]:
    """Every table of the product's models with a column naming its user (``owner_id``, ``user_id``),
    dependents before the tables they point at; tables added later are covered without a change here.

    A column whose foreign key is ``ON DELETE SET NULL`` names the user a row is about, not its owner (a
    report about the page): the row outlives the account, and deleting the user empties the column."""
    product_tables = {
        mapper.local_table
        for mapper in db.Model.registry.mappers  # type: ignore[attr-defined]
        if mapper.class_.__module__.startswith(MODELS_PACKAGE)
        and getattr(mapper.class_, "__bind_key__", None) is None
    }
    for table in reversed(db.Model.metadata.sorted_tables):
        if table not in product_tables or table.name == User.__tablename__:
            continue
        for name in OWNER_COLUMNS:
            if name in table.c and not _outlives_user(table.c[name]):
                yield table, table.c[name]


def _outlives_user(column: Column[int]) -> bool:
    return any(key.ondelete == "SET NULL" for key in column.foreign_keys)


def _remove_files(images: list[str], exports: list[Path]) -> None:
    """Delete the files once the rows are gone (a file left behind is logged, the account stays deleted)."""
    try:
        user_images.delete_images(images)
        for path in exports:
            path.unlink(missing_ok=True)
    except OSError:
        log.exception("the account's rows are deleted but some of its files could not be removed")
