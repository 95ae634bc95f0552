"""The generic blocks API: list, add, edit, delete and reorder every kind of block on the user's page.

The seed's ``/api/links`` and ``/api/products`` stay as they are beside it; both reach the same rules.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from conexoos.app.controllers.blocks import operations as controller
from conexoos.app.dto.blocks import BLOCK, BLOCK_CREATE, BLOCK_UPDATE
from conexoos.app.dto.links import REORDER
from conexoos.app.dto.openapi import Operation, api, path_id

from .api_support import api_login_required, json_body, no_content, user

blocks_api = Blueprint("blocks_api", __name__)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)
"""403: a suspended account, or the plan's limit for the kind; 409: a link a moderator hid."""


@blocks_api.route("/api/blocks", methods=["GET"])
@api.document(
    Operation(
        "/api/blocks", "GET", "Every block of your page, in order", response=BLOCK, many=True, errors=(401,)
    )
)
@api_login_required
def list_blocks() -> Response:
    """The user's blocks in page order."""
    return jsonify([loaded.to_json() for loaded in controller.list_blocks(user())])


@blocks_api.route("/api/blocks", methods=["POST"])
@api.document(
    Operation(
        "/api/blocks",
        "POST",
        "Add a block of any kind at the end of your page",
        request=BLOCK_CREATE,
        response=BLOCK,
        success=201,
        errors=(400, 401, 403, 422),
    )
)
@api_login_required
def add_block() -> tuple[Response, int]:
    """Create a block; 201 with the block, 403 over the plan's limit for its kind."""
    return jsonify(controller.add_block(user(), json_body()).to_json()), 201


@blocks_api.route("/api/blocks/<id:block_id>", methods=["PATCH"])
@api.document(
    Operation(
        "/api/blocks/{id}",
        "PATCH",
        "Change any of a block's fields",
        request=BLOCK_UPDATE,
        response=BLOCK,
        errors=WRITE_ERRORS,
        parameters=[path_id()],
    )
)
@api_login_required
def edit_block(block_id: int) -> Response:
    """Update a block; 404 when it is not the user's."""
    return jsonify(controller.edit_block(user(), block_id, json_body()).to_json())


@blocks_api.route("/api/blocks/<id:block_id>", methods=["DELETE"])
@api.document(
    Operation(
        "/api/blocks/{id}",
        "DELETE",
        "Delete a block (a link's or product's block deletes the link or product)",
        success=204,
        errors=(400, 401, 404),
        parameters=[path_id()],
    )
)
@api_login_required
def delete_block(block_id: int) -> Response:
    """Delete a block; 204."""
    controller.delete_block(user(), block_id)
    return no_content()


@blocks_api.route("/api/blocks/reorder", methods=["POST"])
@api.document(
    Operation(
        "/api/blocks/reorder",
        "POST",
        "Put every block of your page in a new order",
        request=REORDER,
        response=BLOCK,
        many=True,
        errors=(400, 401, 404, 422),
    )
)
@api_login_required
def reorder_blocks() -> Response:
    """Rewrite the order from ``{"ids": [...]}`` (every block once); answers the blocks in their order."""
    return jsonify([loaded.to_json() for loaded in controller.reorder_blocks(user(), json_body())])
