"""Bodies of the generic blocks API, built from the kinds' own schemas (``controllers/blocks``)."""

from __future__ import annotations

from typing import Any

from conexoos.app.controllers.blocks.registry import KINDS

from .fields import Field, Schema, output


def _union(partial: bool) -> tuple[Field, ...]:
    """Every kind's fields once, each saying which kinds take it (the first kind's definition)."""
    fields: dict[str, Field] = {}
    takers: dict[str, list[str]] = {}
    for kind in KINDS.values():
        for field in (kind.update if partial else kind.create).fields:
            fields.setdefault(field.name, field)
            takers.setdefault(field.name, []).append(kind.name)
    return tuple(
        Field(
            name, field.schema, field.parse, False, f"{field.description} ({', '.join(takers[name])})".strip()
        )
        for name, field in fields.items()
    )


def _kind_field() -> Field:
    schema: dict[str, Any] = {"type": "string", "enum": list(KINDS)}
    return output("kind", schema, "The block's kind: it says which of the other fields apply")


BLOCK_CREATE = Schema(
    "BlockCreate",
    (_kind_field(), *_union(partial=False)),
    "A new block: its kind and that kind's fields (required ones as the kind's own API requires them).",
)
BLOCK_UPDATE = Schema(
    "BlockUpdate", _union(partial=True), "Any subset of the block's kind's fields; the kind never changes."
)
BLOCK = Schema(
    "Block",
    (
        output("id", {"type": "integer"}),
        output("kind", {"type": "string", "enum": list(KINDS)}),
        output("position", {"type": "integer"}, "0 for the first block of the page"),
        output("item_id", {"type": ["integer", "null"]}, "The link's or product's own id (for /go)"),
        output("enabled", {"type": "boolean"}),
    ),
    "A block: these fields, plus its kind's fields as its kind's own API returns them (an embed a "
    "moderator hid has `hidden_by_staff: true`: it is left out of the page whatever its owner sends).",
    open=True,
)
