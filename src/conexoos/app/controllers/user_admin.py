"""What operators read about accounts (``conexoos user list`` and ``show``, and the admin panel)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from conexoos.app.models.persistent import Product, User, UserLink
from conexoos.framework import db

from . import plans
from .second_factor import has_second_factor


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
        pattern = f"%{_escape_like(search.strip().lower())}%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape="!"),
                func.lower(User.email).like(pattern, escape="!"),
                func.lower(User.display_name).like(pattern, escape="!"),
            )
        )
    return query


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE (``%`` and ``_`` are not wildcards in a search)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def list_users(search: str = "", limit: int = 50, offset: int = 0) -> Sequence[User]:
    """Accounts whose username, email or display name contains ``search``, oldest first, one page."""
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


@dataclass(frozen=True)
class UserDetail:
    """One account as the admin panel shows it."""

    summary: UserSummary
    links: Sequence[UserLink]
    two_factor: bool
    identities: list[dict[str, Any]] | None
    """Linked external identities (SSO), or None while the product has no ``external_identity`` table."""


def detail(user: User, links_shown: int = 100) -> UserDetail:
    """The account, its first ``links_shown`` links in page order, its second factor and identities."""
    links = db.session.scalars(
        select(UserLink)
        .where(UserLink.owner_id == user.id)
        .order_by(UserLink.order_index, UserLink.id)
        .limit(links_shown)
    ).all()
    return UserDetail(summary(user), links, has_second_factor(user), linked_identities(user))


IDENTITY_TABLE = "external_identity"
IDENTITY_COLUMNS = ("backend", "provider", "subject", "username", "email", "created_at", "last_login_at")


def linked_identities(user: User) -> list[dict[str, Any]] | None:
    """HOOK for SSO (revision 0011): the rows of ``external_identity`` naming ``user`` (by ``user_id``),
    with the columns of :data:`IDENTITY_COLUMNS` it has; None when the table is not part of the models."""
    table = db.Model.metadata.tables.get(IDENTITY_TABLE)
    if table is None or "user_id" not in table.c:
        return None
    columns = [table.c[name] for name in IDENTITY_COLUMNS if name in table.c]
    rows = db.session.execute(select(*columns).where(table.c.user_id == user.id)).mappings().all()
    return [dict(row) for row in rows]
