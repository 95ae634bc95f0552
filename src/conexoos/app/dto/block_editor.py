"""What the dashboard's page-layout editor draws for each block kind, read from the kind's own schema.

The editor has no list of kinds of its own: the menu of kinds and every kind's form come from the block
registry, so a kind added there (with its create schema) appears in the dashboard with no editor change.
A field's control follows its JSON Schema: a URL input, a number (a price, in the currency's units, for
an integer of minor units), a text area for long text, the profiles list (with its most rows) for a list
of ``{network, handle}`` entries. Switches (``enabled`` is the row's Show/Hide
button), times and passwords are left to the kind's own editor (the links list edits a link's schedule
and lock).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .fields import Field, Schema

Control = Literal["text", "url", "textarea", "number", "price", "profiles"]
TEXTAREA_FROM = 200
"""Text fields longer than this many characters get a text area (a paragraph, not a line)."""
LABELS = {
    "url": "URL",
    "buy_url": "Link to buy it",
    "price": "Price (such as 12.50)",
    "currency": "Currency (three letters)",  # the examples are in its refusal
    "items": "Profiles (1 to 20)",
}
"""Labels that the field's name alone would spell badly; any other name is spelt out ("privacy_url":
"Privacy url")."""
KIND_LABELS = {("embed", "url"): "Link to the video or track", ("capture", "button"): "Button label"}
"""A field whose label depends on its kind."""
HINTS = {"product": "A product card with its price and a link to buy it; its image is added on Products."}
"""What the menu says of a kind whose schema's description is written for the API's readers."""
PROFILE_KEYS = {"network", "handle"}
MINOR_UNITS = "minor units"
"""An integer field whose description says it counts these is a price: typed in the currency's units
("12.50") and sent in minor units (1250), as on the Products page."""


@dataclass(frozen=True)
class EditorField:
    """One input of a kind's form: the body's property, its label and control, and what it accepts."""

    name: str
    label: str
    control: Control
    required: bool
    max_length: int | None
    max_items: int | None = None
    """The most rows a profiles list holds."""


@dataclass(frozen=True)
class EditorKind:
    """One entry of the menu of kinds: its name, how a person calls one block of it, and its fields."""

    name: str
    singular: str
    description: str
    fields: tuple[EditorField, ...]

    @property
    def label(self) -> str:
        """The menu entry: the singular, capitalised ("Text block")."""
        return f"{self.singular[:1].upper()}{self.singular[1:]}"


def control_of(field: Field) -> Control | None:
    """The control drawing ``field``, or None for a field this editor leaves to the kind's own editor."""
    schema = field.schema
    kind = schema.get("type")
    if kind == "integer":
        return "price" if MINOR_UNITS in field.description else "number"
    if kind == "array":
        properties = set(schema.get("items", {}).get("properties", {}))
        return "profiles" if properties == PROFILE_KEYS else None
    if kind != "string" or schema.get("writeOnly") or schema.get("format") == "date-time":
        return None
    if schema.get("format") == "uri":
        return "url"
    return "textarea" if schema.get("maxLength", 0) > TEXTAREA_FROM else "text"


def editor_field(kind_name: str, field: Field) -> EditorField | None:
    """``field`` as an input of the kind's form, or None when the form leaves it out."""
    control = control_of(field)
    if control is None:
        return None
    label = (
        KIND_LABELS.get((kind_name, field.name))
        or LABELS.get(field.name)
        or field.name.replace("_", " ").capitalize()
    )
    max_length = field.schema.get("maxLength")
    max_items = field.schema.get("maxItems")
    return EditorField(field.name, label, control, field.required, max_length, max_items)


def editor_kind(name: str, singular: str, create: Schema) -> EditorKind:
    """The menu entry and form of the kind ``name`` whose new blocks are bodies of ``create``."""
    fields = (editor_field(name, field) for field in create.fields)
    hint = HINTS.get(name, create.description)
    return EditorKind(name, singular, hint, tuple(field for field in fields if field))


def editor_kinds(kinds: Iterable[Any]) -> list[EditorKind]:
    """Every registered kind (objects with ``name``, ``singular`` and ``create``), in the registry's order."""
    return [editor_kind(kind.name, kind.singular, kind.create) for kind in kinds]
