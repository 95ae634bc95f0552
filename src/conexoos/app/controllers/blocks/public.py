"""The blocks a public page shows, in one query, grouped into runs of one kind for the templates."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, bindparam, select

from conexoos.app.models.persistent import PageBlock, Product, UserLink
from conexoos.app.models.persistent.types import NOW
from conexoos.app.models.public_page import PageOwner, ShownBlock, ShownLink, ShownProduct

from .. import plans
from .kind import BlockKind
from .registry import KINDS


@dataclass
class Run:
    """Consecutive shown blocks of one kind (a list of links is one ``<ul>``); ``items`` is what each
    block shows: a :class:`ShownLink`, a :class:`ShownProduct`, or a simple kind's fields."""

    kind: BlockKind
    items: list[Any] = field(default_factory=list)


def shown_link_columns() -> list[ColumnElement[Any]]:
    """The columns of ``user_link`` a :class:`ShownLink` holds, in its order (whether a password is set,
    never its hash)."""
    link = UserLink.__table__
    has_password = (link.c.password_hash != "").label("has_password")
    return [
        has_password if field.name == "has_password" else link.c[field.name] for field in fields(ShownLink)
    ]


BLOCK_WIDTH = len(fields(ShownBlock))
LINK_WIDTH = len(fields(ShownLink))


@functools.cache
def _blocks_query() -> Select[Any]:
    """The enabled blocks of owner ``:owner_id`` in page order, each with its link when live at ``:now``
    and its product when shown (built once per process: building it costs more than running it): the
    block's columns, the link's and the product's, each as its plain value (``models/public_page.py``)
    holds them (all None when the block shows no such row)."""
    block, link, product = PageBlock.__table__, UserLink.__table__, Product.__table__
    return (
        select(
            *(block.c[field.name] for field in fields(ShownBlock)),
            *shown_link_columns(),
            *(product.c[field.name] for field in fields(ShownProduct)),
        )
        .select_from(block)
        .outerjoin(link, and_(link.c.id == block.c.link_id, UserLink.live_condition(NOW)))
        .outerjoin(
            product,
            and_(
                product.c.id == block.c.product_id, product.c.enabled.is_(True), product.c.blocked.is_(False)
            ),
        )
        .where(block.c.owner_id == bindparam("owner_id"), block.c.enabled.is_(True))
        .order_by(block.c.position, block.c.id)
    )


def shown_runs(connection: Connection, owner: PageOwner, now: datetime) -> list[Run]:
    """The owner's shown blocks in page order (read on ``connection``): enabled, their link live or
    product shown, and within the plan's limit for their kind (items past it are hidden, never deleted)."""
    plan = plans.plan_for(owner)
    counted: dict[str, int] = {}
    runs: list[Run] = []
    for row in connection.execute(_blocks_query(), {"owner_id": owner.id, "now": now}):
        kind = KINDS.get(row[1])
        item = kind.shown(*_values(row)) if kind is not None else None
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


def _values(row: Row[Any]) -> tuple[ShownBlock, ShownLink | None, ShownProduct | None]:
    """A row of the blocks query as its block and its live link or shown product (None when not)."""
    link_at, product_at = BLOCK_WIDTH, BLOCK_WIDTH + LINK_WIDTH
    link = ShownLink(*row[link_at:product_at]) if row[link_at] is not None else None
    product = ShownProduct(*row[product_at:]) if row[product_at] is not None else None
    return ShownBlock(*row[:link_at]), link, product
