"""The product kind: a product card bought through ``/go/product/<id>``, kept in its own ``product`` row.

The rules of a product (like a link's, plus an image saved through IOUtils) live here; the seed's
``/api/products`` and the generic ``/api/blocks`` both use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from conexoos.app.dto.products import PRODUCT_CREATE, PRODUCT_UPDATE
from conexoos.app.models.persistent import DEFAULT_PRODUCT_IMAGE, PageBlock, Product, User, UserLink
from conexoos.app.models.public_page import ShownLink, ShownProduct
from conexoos.app.plans_config import Plan
from conexoos.app.utils.io import IOUtils, Upload
from conexoos.framework import db
from conexoos.framework.storage import media_storage

from .. import blocklist, hidden_addresses, plans
from ..image_replacement import replace_image
from ..ordering import reorder
from ..owner_lock import locked_owner
from ..suspension import refuse_if_suspended
from . import page
from .row_kind import RowKind

HIDDEN_PRODUCT = (
    "A moderator hid this product, or its buy link's address, after a report, so it cannot be shown again. "
    "You can edit or delete it; write to the site's team if you think this is a mistake."
)

PRODUCT_FOLDER = "img/products"


class ProductKind(RowKind):
    """Products: limited by the plan's ``MAX_PRODUCTS``."""

    name = "product"
    singular = "product"
    plural = "products"
    create = PRODUCT_CREATE
    update = PRODUCT_UPDATE
    column = "product_id"
    missing = "No such product."

    def plan_limit(self, plan: Plan) -> int | None:
        """The plan's ``MAX_PRODUCTS``."""
        return plan.max_products

    def count(self, owner_id: int) -> int:
        """The owner's products (every one counts, shown or not)."""
        return db.session.scalar(select(func.count()).where(Product.owner_id == owner_id)) or 0

    def row_of(
        self, link: UserLink | ShownLink | None, product: Product | ShownProduct | None
    ) -> Product | ShownProduct | None:
        """The shown product."""
        return product

    def row_json(self, row: Any) -> dict[str, Any]:
        """The products API's shape."""
        return to_json(row)

    def create_row(self, user: User, fields: dict[str, Any]) -> Product:
        """:func:`create_product`."""
        return create_product(user, fields, parsed=True)

    def update_row(self, user: User, row_id: int, fields: dict[str, Any]) -> None:
        """:func:`update_product`."""
        update_product(user, row_id, fields, parsed=True)

    def delete_row(self, user: User, row_id: int) -> None:
        """:func:`delete_product` (and its image)."""
        delete_product(user, row_id)


PRODUCT = ProductKind()


def io_utils() -> IOUtils:
    """The IOUtils of this app: files in its media storage (``SERVER_ENV.MEDIA``)."""
    return IOUtils(media_storage())


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
        raise NotFound(PRODUCT.missing)
    return product


def create_product(user: User, payload: Any, parsed: bool = False) -> Product:
    """Validate ``payload`` and append a product (with the default image; 403 while the account is
    suspended); one whose buy link a moderator hid on the account is added hidden by a moderator."""
    refuse_if_suspended(user)
    fields = payload if parsed else PRODUCT_CREATE.parse(payload)
    blocklist.refuse_blocked(fields["buy_url"], field="buy_url")
    with locked_owner(user) as owner:
        plans.check_can_add(owner, PRODUCT)
        hidden_addresses.hide_row_fields(owner.id, None, fields, "buy_url", HIDDEN_PRODUCT)
        product = Product(
            owner_id=owner.id,
            order_index=Product.next_order_index(owner.id),
            image=DEFAULT_PRODUCT_IMAGE,
            **fields,
        )
        db.session.add(product)
        db.session.flush()
        page.append(owner.id, PRODUCT.name, product_id=product.id)
    return product


def update_product(user: User, product_id: int, payload: Any, parsed: bool = False) -> Product:
    """Apply any subset of fields (403 while the account is suspended; 409 for showing a product a
    moderator hid; a buy link a moderator hid on the account hides the product)."""
    refuse_if_suspended(user)
    get_product(user, product_id)  # someone else's product is a 404 whatever the body says
    fields = dict(payload) if parsed else PRODUCT_UPDATE.parse(payload)
    if "buy_url" in fields:  # a new URL is checked; one that passes unblocks the product
        blocklist.refuse_blocked(fields["buy_url"], field="buy_url")
        fields["blocked"] = False
    with locked_owner(user) as owner:
        product = get_product(owner, product_id)
        hidden_addresses.hide_row_fields(owner.id, product, fields, "buy_url", HIDDEN_PRODUCT)
        for name, value in fields.items():
            setattr(product, name, value)
    return product


def delete_product(user: User, product_id: int) -> None:
    """Delete the product, its block and its uploaded image."""
    with locked_owner(user) as owner:
        product = get_product(owner, product_id)
        image = product.image
        page.remove_blocks(PageBlock.product_id == product.id)
        db.session.delete(product)
        page.close_gaps(owner.id)
    io_utils().delete(image)


def set_image(user: User, product_id: int, upload: Upload | None) -> Product:
    """Store a new image (re-encoded by IOUtils); an invalid image raises InvalidImage and changes nothing
    (403 while the account is suspended)."""
    refuse_if_suspended(user)
    return replace_image(
        user,
        lambda owner: get_product(owner, product_id),
        "image",
        upload,
        field="image",
        folder=PRODUCT_FOLDER,
        default=DEFAULT_PRODUCT_IMAGE,
    )


def reorder_products(user: User, payload: Any) -> Sequence[Product]:
    """Rewrite ``order_index`` from ``{"ids": [...]}`` listing each of the user's products once; the
    product blocks take that order in the places they hold on the page."""
    with locked_owner(user) as owner:
        products = reorder(Product.get_products_by_user_id(owner.id), payload, "product")
        page.follow_item_order(owner.id, PRODUCT.name, [product.id for product in products])
        return products
