"""Who counts as an administrator of the site: an account with the role ``admin`` that is not suspended.

The admin panel, account deletion and ``conexoos setup-token`` all ask this one question, so that "an
administrator exists" means the same everywhere.
"""

from __future__ import annotations

from sqlalchemy import func, select

from conexoos.app.models.persistent import ADMIN, User
from conexoos.framework import db

LAST_ADMIN = (
    "You are the only active administrator of this site, so this account cannot be deleted: "
    "make another account an administrator first (Admin → Users), then delete this one."
)


def active_admins(excluding: int | None = None) -> int:
    """How many administrators are not suspended (leaving out ``excluding``)."""
    query = select(func.count()).where(User.role == ADMIN, User.suspended_at.is_(None))
    if excluding is not None:
        query = query.where(User.id != excluding)
    return int(db.session.scalar(query) or 0)


def is_last_active_admin(user: User) -> bool:
    """Whether ``user`` is an active administrator and no other one exists."""
    return user.role == ADMIN and user.suspended_at is None and active_admins(excluding=user.id) == 0
