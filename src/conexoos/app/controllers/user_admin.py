"""What operators read about accounts (``conexoos user list`` and ``show``, and the admin panel)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from conexoos.app.models.persistent import Product, User, UserLink
from conexoos.app.models.persistent.user import ROLES
from conexoos.framework import db

from . import plans
from .linked_identities import LinkedView, linked_of
from .second_factor import SecondFactors, second_factors_of


@dataclass(frozen=True)
class UserSummary:
    """One account's plan, item counts and last login (part of :class:`UserDetail`)."""

    user: User
    plan: str
    links: int
    products: int
    last_login: datetime | None


STATES = ("active", "suspended", "unverified")
"""The user list's states: not suspended, suspended, or not suspended with the address not verified."""


@dataclass(frozen=True)
class UserQuery:
    """Which accounts the user list shows: ``search`` in the username, email or display name, one role
    (of ``ROLES``) and one state (of :data:`STATES`); empty: any."""

    search: str = ""
    role: str = ""
    state: str = ""

    def __post_init__(self) -> None:
        if self.role and self.role not in ROLES:
            raise ValueError(f"Choose a role: {', '.join(ROLES)}.")
        if self.state and self.state not in STATES:
            raise ValueError(f"Choose a state: {', '.join(STATES)}.")


def _matching(wanted: UserQuery) -> Select[Any]:
    query = select(User)
    if wanted.search:
        pattern = f"%{_escape_like(wanted.search.strip().lower())}%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape="!"),
                func.lower(User.email).like(pattern, escape="!"),
                func.lower(User.display_name).like(pattern, escape="!"),
            )
        )
    if wanted.role:
        query = query.where(User.role == wanted.role)
    if wanted.state == "suspended":
        query = query.where(User.suspended_at.is_not(None))
    elif wanted.state:
        query = query.where(User.suspended_at.is_(None))
        if wanted.state == "unverified":
            query = query.where(User.email_verified_at.is_(None))
    return query


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE (``%`` and ``_`` are not wildcards in a search)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def list_users(wanted: UserQuery, limit: int = 50, offset: int = 0) -> Sequence[User]:
    """The accounts ``wanted`` describes, oldest first, one page."""
    query = _matching(wanted).order_by(User.id).limit(limit).offset(offset)
    return db.session.scalars(query).all()


def count_users(wanted: UserQuery) -> int:
    """How many accounts :func:`list_users` pages through."""
    return int(db.session.scalar(select(func.count()).select_from(_matching(wanted).subquery())) or 0)


def summary(user: User) -> UserSummary:
    """The account with its plan, item counts and last login."""
    links = db.session.scalar(select(func.count()).where(UserLink.owner_id == user.id)) or 0
    products = db.session.scalar(select(func.count()).where(Product.owner_id == user.id)) or 0
    return UserSummary(user, plans.plan_for(user).key, int(links), int(products), user.last_login_at)


@dataclass(frozen=True)
class UserDetail:
    """One account as the admin account page and ``conexoos user show`` show it."""

    summary: UserSummary
    links: Sequence[UserLink]
    second_factors: SecondFactors
    identities: list[LinkedView]
    """Linked sign-ins at identity providers (SSO)."""


def detail(user: User, links_shown: int = 100) -> UserDetail:
    """The account, its first ``links_shown`` links in page order (none: ``links_shown=0``), its second
    factors and identities."""
    links = (
        db.session.scalars(
            select(UserLink)
            .where(UserLink.owner_id == user.id)
            .order_by(UserLink.order_index, UserLink.id)
            .limit(links_shown)
        ).all()
        if links_shown
        else []
    )
    return UserDetail(summary(user), links, second_factors_of(user), linked_identities(user))


def linked_identities(user: User) -> list[LinkedView]:
    """``user``'s linked sign-ins (SSO), oldest first, as Settings → Linked sign-ins lists them."""
    return linked_of(user)
