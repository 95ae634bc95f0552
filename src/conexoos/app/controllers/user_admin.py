"""What operators read about accounts (``conexoos user list`` and ``show``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from conexoos.app.models.persistent import Product, User, UserLink
from conexoos.framework import db

from . import plans


@dataclass(frozen=True)
class UserSummary:
    """One account as ``user show`` prints it."""

    user: User
    plan: str
    links: int
    products: int
    last_login: datetime | None


def _matching(search: str) -> Select[Any]:
    query = select(User)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(func.lower(User.username).like(pattern), func.lower(User.email).like(pattern))
        )
    return query


def list_users(search: str = "", limit: int = 50, offset: int = 0) -> Sequence[User]:
    """Accounts whose username or email contains ``search``, oldest first, one page of them."""
    query = _matching(search).order_by(User.id).limit(limit).offset(offset)
    return db.session.scalars(query).all()


def count_users(search: str = "") -> int:
    """How many accounts :func:`list_users` pages through."""
    return int(db.session.scalar(select(func.count()).select_from(_matching(search).subquery())) or 0)


def summary(user: User) -> UserSummary:
    """The account with its plan, item counts and last login."""
    links = db.session.scalar(select(func.count()).where(UserLink.owner_id == user.id)) or 0
    products = db.session.scalar(select(func.count()).where(Product.owner_id == user.id)) or 0
    return UserSummary(user, plans.plan_for(user).key, int(links), int(products), user.last_login_at)
