"""The configuration reference in Markdown, generated from :mod:`schema` (the README embeds it)."""

from __future__ import annotations

import json

from . import schema
from .schema import Key


def config_reference() -> str:
    """Markdown tables of every key: its type, default and meaning."""
    sections = [
        ("SERVER_ENV", schema.SERVER_ENV, "SERVER_ENV"),
        ("DATABASE.<name>", schema.DATABASE_CONNECTION, "DATABASE.<name>"),
        ("FLASK", schema.FLASK, "FLASK"),
        ("SERVICES.redis", schema.SERVICES["redis"], "SERVICES.redis"),
        ("SERVICES.filesystem", schema.SERVICES["filesystem"], "SERVICES.filesystem"),
        ("SERVICES.memcached", schema.SERVICES["memcached"], "SERVICES.memcached"),
    ]
    parts = []
    for title, shape, prefix in sections:
        assert isinstance(shape, dict)
        rows = "\n".join(_rows(shape, prefix))
        parts.append(f"#### `{title}`\n\n| key | type | default | meaning |\n|---|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def _rows(shape: schema.Schema, prefix: str) -> list[str]:
    rows = []
    for name, spec in shape.items():
        path = f"{prefix}.{name}"
        if isinstance(spec, Key):
            kind = f"one of {', '.join(spec.choices)}" if spec.kind == "choice" else spec.kind
            default = "(secret)" if spec.secret and spec.default else json.dumps(spec.default)
            rows.append(f"| `{path}` | {kind} | `{default}` | {spec.doc.replace('|', '/')} |")
        else:
            rows.extend(_rows(spec, path))
    return rows
