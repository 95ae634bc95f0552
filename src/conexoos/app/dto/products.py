"""Request and response bodies of the products API."""

from __future__ import annotations

from typing import Any

from conexoos.app.plans_config import is_currency

from .errors import InputError
from .fields import Field, Schema, boolean, integer, output, text
from .links import url_field

MAX_PRICE = 2**31 - 1
"""The largest price in minor units: what a 32-bit INTEGER column holds on every supported database."""


def currency_field(name: str = "currency", required: bool = True) -> Field:
    """An ISO 4217 currency code, upper-cased."""

    def parse(value: Any, field: Field) -> str:
        if not isinstance(value, str) or not is_currency(value.strip().upper()):
            raise InputError(
                f"{name} must be an ISO 4217 code such as EUR or USD", field=name, code="currency"
            )
        return value.strip().upper()

    accepted = {
        "type": "string",
        "pattern": r"^\s*[A-Za-z]{3}\s*$",
    }  # what parse takes, not only what it stores
    return Field(name, accepted, parse, required, "ISO 4217 code, in any case: stored upper-cased, trimmed")


PRODUCT_CREATE = Schema(
    "ProductCreate",
    (
        text("title", 100, required=True, description="Shown on the card; trimmed"),
        text(
            "description", 1000, allow_empty=True, multiline=True, description="Optional text under the title"
        ),
        integer(
            "price",
            required=True,
            minimum=0,
            maximum=MAX_PRICE,
            description="Price in minor units (cents) of the currency",
        ),
        currency_field(),
        url_field("buy_url"),
        boolean("enabled", description="Hidden from the page when false (default true)"),
    ),
    "A new product. Its image is uploaded separately (multipart) and defaults to a placeholder.",
)
PRODUCT_UPDATE = Schema(
    "ProductUpdate", PRODUCT_CREATE.fields, "Any subset of a product's fields.", partial=True
)
PRODUCT = Schema(
    "Product",
    (
        output("id", {"type": "integer"}),
        output("title", {"type": "string"}),
        output("description", {"type": "string"}),
        output("price", {"type": "integer", "minimum": 0}),
        output("currency", {"type": "string"}),
        output("image_url", {"type": "string"}),
        output("buy_url", {"type": "string", "format": "uri"}),
        output("enabled", {"type": "boolean"}),
        output(
            "hidden_by_staff",
            {"type": "boolean"},
            "A moderator hid the product (or its buy link's address, on this account): it stays hidden",
        ),
        output("order_index", {"type": "integer"}),
    ),
    "A product as the API returns it.",
)
PRODUCT_IMAGE = Schema(
    "ProductImage",
    (
        output(
            "image", {"type": "string", "contentMediaType": "image/*"}, "PNG, JPEG, WebP or GIF; re-encoded"
        ),
    ),
    "A product image upload (multipart/form-data, with the X-CSRFToken header).",
)
