"""The configuration reference in Markdown, generated from :mod:`schema` and a project's declared
sections (the README embeds both)."""

from __future__ import annotations

import json

from . import schema
from .schema import Entries, Key


def config_reference() -> str:
    """Markdown tables of every framework key: its type, default and meaning."""
    sections: list[tuple[str, schema.Schema, str]] = [
        ("SERVER_ENV", schema.SERVER_ENV, "SERVER_ENV"),
        ("DATABASE.<name>", schema.DATABASE_CONNECTION, "DATABASE.<name>"),
        ("FLASK", schema.FLASK, "FLASK"),
    ]
    for name, shape in schema.SERVICES.items():
        sections.append((f"SERVICES.{name}", _section(shape), f"SERVICES.{name}"))
    return _tables(sections + _logins_sections())


def _logins_sections() -> list[tuple[str, schema.Schema, str]]:
    """``LOGINS.local``, ``LOGINS.ldap``, ``LOGINS.oidc.<name>``, ``LOGINS.saml``: each backend's keys."""
    from .logins.config import logins_schema

    sections: list[tuple[str, schema.Schema, str]] = []
    for name, shape in logins_schema().items():
        if isinstance(shape, Entries):
            sections.append((f"LOGINS.{name}.<{shape.label}>", {name: shape}, "LOGINS"))
        elif shape:
            sections.append((f"LOGINS.{name}", _section(shape), f"LOGINS.{name}"))
    return sections


def project_reference(declared: schema.Schema) -> str:
    """Markdown tables of the keys a project declares (``SCHEMA`` of its ``server/config.py``)."""
    sections: list[tuple[str, schema.Schema, str]] = []
    for name, shape in _section(declared.get("APP", {})).items():
        if isinstance(shape, dict):
            sections.append((f"APP.{name}", shape, f"APP.{name}"))
        else:
            sections.append((f"APP.{name}", {name: shape}, "APP"))
    for name, shape in _section(declared.get("SERVICES", {})).items():
        sections.append((f"SERVICES.{name}", _section(shape), f"SERVICES.{name}"))
    flask_config = _section(declared.get("FLASK", {})).get("CONFIG")
    if flask_config:
        sections.append(("FLASK.CONFIG", _section(flask_config), "FLASK.CONFIG"))
    return _tables(sections)


def _section(node: object) -> schema.Schema:
    assert isinstance(node, dict), node
    return node


def _tables(sections: list[tuple[str, schema.Schema, str]]) -> str:
    parts = []
    for title, shape, prefix in sections:
        rows = "\n".join(_rows(shape, prefix))
        parts.append(f"#### `{title}`\n\n| key | type | default | meaning |\n|---|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def _rows(shape: schema.Schema, prefix: str) -> list[str]:
    rows = []
    for name, spec in shape.items():
        path = f"{prefix}.{name}"
        if isinstance(spec, Key):
            default = "(secret)" if spec.secret and spec.default else json.dumps(spec.default)
            rows.append(f"| `{path}` | {spec.type_name()} | `{default}` | {_cell(spec.doc)} |")
        elif isinstance(spec, Entries):
            kind = f"mapping of {spec.label}s" + (
                f"; required: {', '.join(spec.required)}" if spec.required else ""
            )
            default = json.dumps(list(spec.default))
            rows.append(f"| `{path}.<{spec.label}>` | {kind} | `{default}` | {_cell(spec.doc)} |")
            rows.extend(_rows(spec.shape, f"{path}.<{spec.label}>"))
        else:
            rows.extend(_rows(spec, path))
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "/")
