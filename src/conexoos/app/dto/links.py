"""Request and response bodies of the links API."""

from __future__ import annotations

from typing import Any

from conexoos.app.utils.text import has_control_characters
from conexoos.app.utils.urls import UnsafeURL, normalise_url

from .errors import InputError
from .fields import Field, Schema, boolean, id_list, integer, output, text, timestamp

TITLE_MAX = 100
URL_MAX = 500
PASSCODE_MIN = 4
PASSCODE_MAX = 200


def url_field(name: str = "url", required: bool = True) -> Field:
    """An http(s), mailto or tel URL, normalised; javascript:, data: and vbscript: are refused."""

    def parse(value: Any, field: Field) -> str:
        if not isinstance(value, str):
            raise InputError(f"{name} must be a string", field=name, code="type")
        try:
            url = normalise_url(value)
        except UnsafeURL as error:
            raise InputError(str(error), field=name, code="unsafe_url") from None
        if len(url) > URL_MAX:
            raise InputError(f"{name} must be at most {URL_MAX} characters", field=name, code="too_long")
        return url

    schema = {"type": "string", "format": "uri", "maxLength": URL_MAX, "pattern": "^(https?|mailto|tel):"}
    return Field(name, schema, parse, required, "http(s), mailto or tel URL; normalised on save")


def passcode_field(name: str = "passcode") -> Field:
    """A link's password (``passcode`` in the API), write-only: kept hashed, never returned; "" removes
    it."""

    def parse(value: Any, field: Field) -> str:
        if not isinstance(value, str):
            raise InputError(f"{name} must be a string", field=name, code="type")
        if value and not PASSCODE_MIN <= len(value) <= PASSCODE_MAX:
            raise InputError(
                f"{name} must be {PASSCODE_MIN} to {PASSCODE_MAX} characters, or empty for none",
                field=name,
                code="length",
            )
        if has_control_characters(value):
            raise InputError(f"{name} cannot hold control characters", field=name, code="invalid")
        return value

    schema = {"type": "string", "maxLength": PASSCODE_MAX, "writeOnly": True}
    description = "Visitors must type it at /go/<id> before the redirect; kept hashed; empty for none"
    return Field(name, schema, parse, False, description)


LINK_CREATE = Schema(
    "LinkCreate",
    (
        text("title", TITLE_MAX, required=True, description="Shown on the page; trimmed"),
        url_field(),
        boolean("enabled", description="Hidden from the page when false (default true)"),
        timestamp("starts_at", "Shown from this time (UTC); null for always"),
        timestamp("ends_at", "Hidden from this time (UTC); null for never"),
        boolean("sensitive", description="Visitors confirm an adult-content notice at /go/<id>"),
        passcode_field(),
    ),
    "A new link.",
)
LINK_UPDATE = Schema("LinkUpdate", LINK_CREATE.fields, "Any subset of a link's fields.", partial=True)
LINK = Schema(
    "Link",
    (
        output("id", {"type": "integer"}),
        output("title", {"type": "string", "maxLength": TITLE_MAX}),
        output("url", {"type": "string", "format": "uri"}),
        output("order_index", {"type": "integer"}),
        output("enabled", {"type": "boolean"}),
        output(
            "hidden_by_staff",
            {"type": "boolean"},
            "A moderator hid the link (or its address, on this account): it stays hidden whatever is sent",
        ),
        output("starts_at", {"type": ["string", "null"], "format": "date-time"}),
        output("ends_at", {"type": ["string", "null"], "format": "date-time"}),
    ),
    "A link as the API returns it (the seed's to_json).",
)
LINK_LOCK = Schema(
    "LinkLock",
    (
        output("id", {"type": "integer"}),
        output("sensitive", {"type": "boolean"}, "Visitors confirm an adult-content notice at /go/<id>"),
        output("has_passcode", {"type": "boolean"}, "Visitors type the link's passcode at /go/<id>"),
    ),
    "A link's lock (the passcode itself is write-only).",
)
LINK_ICON = Schema(
    "LinkIcon",
    (
        output("id", {"type": "integer"}),
        output("network", {"type": ["string", "null"]}, "The brand found from the URL's domain (its icon)"),
        output("thumbnail", {"type": ["string", "null"], "format": "uri"}, "The uploaded thumbnail, if any"),
    ),
    "A link's icon: its uploaded thumbnail, else its network's brand icon.",
)
LINK_ICON_UPLOAD = Schema(
    "LinkIconUpload",
    (
        output(
            "icon", {"type": "string", "contentMediaType": "image/*"}, "PNG, JPEG, WebP or GIF; re-encoded"
        ),
    ),
    "A link thumbnail upload (multipart/form-data, with the X-CSRFToken header).",
)
REORDER = Schema(
    "Reorder",
    (
        id_list("ids", description="Every one of your item ids, once, in the new order"),
        id_list(
            "previous",
            required=False,
            description="The order the client last saw (optional): when the order changed since (another "
            "tab or window moved an item), the new one is refused with a 409",
        ),
    ),
    "A new order for all of a user's items.",
)
ID_PARAMETER = integer("id", required=True, minimum=1)


def check_window(fields: dict[str, Any], current: dict[str, Any] | None = None) -> None:
    """Refuse a window whose end is not after its start."""
    merged = {**(current or {}), **fields}
    starts, ends = merged.get("starts_at"), merged.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise InputError("ends_at must be later than starts_at", field="ends_at", code="window")
