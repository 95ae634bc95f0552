"""Rules of a user's products: like links, plus an image saved through IOUtils."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for
from werkzeug.exceptions import NotFound

from conexoos.app.dto.errors import InputError
from conexoos.app.dto.products import PRODUCT_CREATE, PRODUCT_UPDATE
from conexoos.app.models.persistent import DEFAULT_PRODUCT_IMAGE, Product, User
from conexoos.app.utils.io import Upload
from conexoos.framework import db

from . import blocklist, plans
from .ordering import reorder
from .owner_lock import locked_owner
from .profiles import io_utils

PRODUCT_FOLDER = "img/products"


def image_url(product: Product) -> str:
    """Where the product's image is served: the upload, or the default product image."""
    if product.has_custom_image:
        return url_for("media.serve", filename=product.image)
    return url_for("static", filename=f"img/{DEFAULT_PRODUCT_IMAGE}")


def to_json(product: Product) -> dict[str, Any]:
    """The API shape of a product."""
    return product.to_json(image_url(product))


def list_products(user: User) -> Sequence[Product]:
    """The user's products in page order."""
    return Product.get_products_by_user_id(user.id)


def get_product(user: User, product_id: int) -> Product:
    """The user's product; 404 when it is missing or someone else's."""
    product = Product.get_owned(product_id, user.id)
    if product is None:
        raise NotFound("No such product.")
    return product


def create_product(user: User, payload: Any) -> Product:
    """Validate ``payload`` and append a product (with the default image)."""
    fields = PRODUCT_CREATE.parse(payload)
    blocklist.refuse_blocked(fields["buy_url"], field="buy_url")
    with locked_owner(user) as owner:
        plans.check_can_add(owner, "products")
        product = Product(
            owner_id=owner.id,
            order_index=Product.next_order_index(owner.id),
            image=DEFAULT_PRODUCT_IMAGE,
            **fields,
        )
        db.session.add(product)
    return product


def update_product(user: User, product_id: int, payload: Any) -> Product:
    """Apply any subset of fields."""
    get_product(user, product_id)  # someone else's product is a 404 whatever the body says
    fields = PRODUCT_UPDATE.parse(payload)
    if "buy_url" in fields:  # a new URL is checked; one that passes unblocks the product
        blocklist.refuse_blocked(fields["buy_url"], field="buy_url")
        fields["blocked"] = False
    with locked_owner(user) as owner:
        product = get_product(owner, product_id)
        for name, value in fields.items():
            setattr(product, name, value)
    return product


def delete_product(user: User, product_id: int) -> None:
    """Delete the product and its uploaded image."""
    with locked_owner(user) as owner:
        product = get_product(owner, product_id)
        image = product.image
        db.session.delete(product)
    io_utils().delete(image)


def set_image(user: User, product_id: int, upload: Upload | None) -> Product:
    """Store a new image (re-encoded by IOUtils); an invalid image raises InvalidImage and changes nothing."""
    get_product(user, product_id)  # 404 before the upload is decoded
    if upload is None or not upload.filename:
        raise InputError("send the image in the multipart field 'image'", field="image", code="required")
    files = io_utils()
    stored = files.save_image(upload, PRODUCT_FOLDER, default=DEFAULT_PRODUCT_IMAGE)
    try:
        with locked_owner(user) as owner:
            product = get_product(owner, product_id)
            old = product.image
            product.image = stored
    except BaseException:
        files.delete(stored)
        raise
    files.delete(old)
    return product


def reorder_products(user: User, payload: Any) -> Sequence[Product]:
    """Rewrite ``order_index`` from ``{"ids": [...]}`` listing each of the user's products once."""
    with locked_owner(user) as owner:
        return reorder(Product.get_products_by_user_id(owner.id), payload, "product")
