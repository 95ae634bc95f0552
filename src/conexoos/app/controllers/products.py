"""Rules of a user's products, as the seed's ``/api/products`` uses them: they live with the product
block kind."""

from __future__ import annotations

from .blocks.product import (
    PRODUCT_FOLDER,
    create_product,
    delete_product,
    get_product,
    image_url,
    list_products,
    reorder_products,
    set_image,
    to_json,
    update_product,
)

__all__ = [
    "PRODUCT_FOLDER",
    "create_product",
    "delete_product",
    "get_product",
    "image_url",
    "list_products",
    "reorder_products",
    "set_image",
    "to_json",
    "update_product",
]
