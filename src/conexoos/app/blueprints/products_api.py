"""The products API, shaped like the links API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from conexoos.app.controllers import products as controller
from conexoos.app.dto.errors import InputError
from conexoos.app.dto.links import REORDER
from conexoos.app.dto.openapi import Operation, api, path_id
from conexoos.app.dto.products import PRODUCT, PRODUCT_CREATE, PRODUCT_IMAGE, PRODUCT_UPDATE
from conexoos.app.utils.io import InvalidImage

from .api_support import api_login_required, json_body, no_content, user

products_api = Blueprint("products_api", __name__)
WRITE_ERRORS = (400, 401, 404, 422)


@products_api.route("/api/products", methods=["GET"])
@api.document(
    Operation(
        "/api/products",
        "GET",
        "All of your products, in page order",
        response=PRODUCT,
        many=True,
        errors=(401,),
    )
)
@api_login_required
def get_products() -> Response:
    """Return the user's products in order (the seed's endpoint)."""
    return jsonify([controller.to_json(product) for product in controller.list_products(user())])


@products_api.route("/api/add/product", methods=["POST"])
@api.document(
    Operation(
        "/api/add/product",
        "POST",
        "Add a product",
        request=PRODUCT_CREATE,
        response=PRODUCT,
        success=201,
        errors=(400, 401, 403, 422),
    )
)
@api_login_required
def add_product() -> tuple[Response, int]:
    """Create a product; 201, or 403 over the plan's limit."""
    return jsonify(controller.to_json(controller.create_product(user(), json_body()))), 201


@products_api.route("/api/edit/product/<id:product_id>", methods=["PUT", "PATCH"])
@api.document(
    Operation(
        "/api/edit/product/{id}",
        "PUT",
        "Change any of a product's fields",
        request=PRODUCT_UPDATE,
        response=PRODUCT,
        errors=WRITE_ERRORS,
        parameters=[path_id()],
    )
)
@api.document(
    Operation(
        "/api/edit/product/{id}",
        "PATCH",
        "Change any of a product's fields (same as PUT)",
        request=PRODUCT_UPDATE,
        response=PRODUCT,
        errors=WRITE_ERRORS,
        parameters=[path_id()],
    )
)
@api_login_required
def edit_product(product_id: int) -> Response:
    """Update a product; 404 when it is not the user's."""
    return jsonify(controller.to_json(controller.update_product(user(), product_id, json_body())))


@products_api.route("/api/delete/product/<id:product_id>", methods=["DELETE"])
@api.document(
    Operation(
        "/api/delete/product/{id}",
        "DELETE",
        "Delete a product",
        success=204,
        errors=(400, 401, 404),
        parameters=[path_id()],
    )
)
@api_login_required
def delete_product(product_id: int) -> Response:
    """Delete a product; 204."""
    controller.delete_product(user(), product_id)
    return no_content()


@products_api.route("/api/products/reorder", methods=["POST"])
@api.document(
    Operation(
        "/api/products/reorder",
        "POST",
        "Put your products in a new order",
        request=REORDER,
        response=PRODUCT,
        many=True,
        errors=WRITE_ERRORS,
    )
)
@api_login_required
def reorder_products() -> Response:
    """Rewrite the order from ``{"ids": [...]}``."""
    return jsonify([controller.to_json(p) for p in controller.reorder_products(user(), json_body())])


@products_api.route("/api/product/<id:product_id>/image", methods=["POST"])
@api.document(
    Operation(
        "/api/product/{id}/image",
        "POST",
        "Upload a product image",
        request=PRODUCT_IMAGE,
        response=PRODUCT,
        errors=WRITE_ERRORS,
        parameters=[path_id()],
        request_media_type="multipart/form-data",
    )
)
@api_login_required
def upload_image(product_id: int) -> Response:
    """Replace the product's image; a file that is not a valid image is a 400 and nothing is written."""
    try:
        product = controller.set_image(user(), product_id, request.files.get("image"))
    except InvalidImage as error:
        raise InputError(str(error), field="image", code="invalid_image", status=400) from None
    return jsonify(controller.to_json(product))
