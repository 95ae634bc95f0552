"""The blocks a public page shows, in one query, grouped into runs of one kind for the templates."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, select

from conexoos.app.models.persistent import PageBlock, Product, User, UserLink
from conexoos.app.models.persistent.types import NOW
from conexoos.framework import db

from .. import plans
from .kind import BlockKind
from .registry import KINDS


@dataclass
class Run:
    """Consecutive shown blocks of one kind (a list of links is one ``<ul>``); ``items`` is what each
    block shows: a link, a product, or a simple kind's fields."""

    kind: BlockKind
    items: list[Any] = field(default_factory=list)


@functools.cache
def _blocks_query() -> Select[PageBlock, UserLink | None, Product | None]:
    """The enabled blocks of owner ``:owner_id`` in page order, each with its link when live at ``:now``
    and its product when shown (built once per process: building it costs more than running it)."""
    return (
        select(PageBlock, UserLink, Product)
        .outerjoin(UserLink, and_(UserLink.id == PageBlock.link_id, UserLink.live_condition(NOW)))
        .outerjoin(
            Product,
            and_(Product.id == PageBlock.product_id, Product.enabled.is_(True), Product.blocked.is_(False)),
        )
        .where(PageBlock.owner_id == bindparam("owner_id"), PageBlock.enabled.is_(True))
        .order_by(PageBlock.position, PageBlock.id)
    )


def shown_runs(user: User, now: datetime) -> list[Run]:
    """The user's shown blocks in page order: enabled, their link live or product shown, and within the
    plan's limit for their kind (items past it are hidden, never deleted)."""
    plan = plans.plan_for(user)
    counted: dict[str, int] = {}
    runs: list[Run] = []
    rows = db.session.execute(_blocks_query(), {"owner_id": user.id, "now": now}).all()
    for block, link, product in rows:
        kind = KINDS.get(block.kind)
        item = kind.shown(block, link, product) if kind is not None else None
        if kind is None or item is None:
            continue
        counted[kind.name] = counted.get(kind.name, 0) + 1
        limit = kind.plan_limit(plan)
        if limit is not None and counted[kind.name] > limit:
            continue
        if not runs or runs[-1].kind is not kind:
            runs.append(Run(kind))
        runs[-1].items.append(item)
    return runs
