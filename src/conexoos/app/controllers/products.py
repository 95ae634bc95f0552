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

from . import plans
from .ordering import reorder
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
    plans.check_can_add(user, "products")
    product = Product(
        owner_id=user.id, order_index=Product.next_order_index(user.id), image=DEFAULT_PRODUCT_IMAGE, **fields
    )
    product.save()
    return product


def update_product(user: User, product_id: int, payload: Any) -> Product:
    """Apply any subset of fields."""
    product = get_product(user, product_id)
    for name, value in PRODUCT_UPDATE.parse(payload).items():
        setattr(product, name, value)
    product.save()
    return product


def delete_product(user: User, product_id: int) -> None:
    """Delete the product and its uploaded image."""
    product = get_product(user, product_id)
    image = product.image
    product.delete()
    io_utils().delete(image)


def set_image(user: User, product_id: int, upload: Upload | None) -> Product:
    """Store a new image (re-encoded by IOUtils); an invalid image raises InvalidImage and changes nothing."""
    product = get_product(user, product_id)
    if upload is None or not upload.filename:
        raise InputError("send the image in the multipart field 'image'", field="image", code="required")
    files = io_utils()
    stored = files.save_image(upload, PRODUCT_FOLDER, default=DEFAULT_PRODUCT_IMAGE)
    old = product.image
    product.image = stored
    try:
        product.save()
    except BaseException:
        files.delete(stored)
        raise
    files.delete(old)
    return product


def reorder_products(user: User, payload: Any) -> Sequence[Product]:
    """Rewrite ``order_index`` from ``{"ids": [...]}`` listing each of the user's products once."""
    return reorder(Product.get_products_by_user_id(user.id), payload, "product")
