"""The seed's links API: list, add, edit, delete and reorder the logged-in user's links."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from conexoos.app.controllers import link_icons
from conexoos.app.controllers import links as controller
from conexoos.app.dto.errors import InputError
from conexoos.app.dto.links import (
    LINK,
    LINK_CREATE,
    LINK_ICON,
    LINK_ICON_UPLOAD,
    LINK_LOCK,
    LINK_UPDATE,
    REORDER,
)
from conexoos.app.dto.openapi import Operation, api, path_id
from conexoos.app.utils.io import InvalidImage

from .api_support import api_login_required, json_body, no_content, user

links_api = Blueprint("links_api", __name__)
WRITE_ERRORS = (400, 401, 404, 422)
EDIT_ERRORS = (400, 401, 403, 404, 422)
"""Also 403: a suspended account adds and changes nothing."""


@links_api.route("/api/links", methods=["GET"])
@api.document(
    Operation(
        "/api/links", "GET", "All of your links, in page order", response=LINK, many=True, errors=(401,)
    )
)
@api_login_required
def get_links() -> Response:
    """Return the user's links in order."""
    return jsonify([link.to_json() for link in controller.list_links(user())])


@links_api.route("/api/links/locks", methods=["GET"])
@api.document(
    Operation(
        "/api/links/locks",
        "GET",
        "The lock of each of your links (sensitive notice, passcode), in page order",
        response=LINK_LOCK,
        many=True,
        errors=(401,),
    )
)
@api_login_required
def get_link_locks() -> Response:
    """Return the lock of each of the user's links (the seed's link shape stays as it was)."""
    return jsonify([link.lock_json() for link in controller.list_links(user())])


@links_api.route("/api/links/icons", methods=["GET"])
@api.document(
    Operation(
        "/api/links/icons",
        "GET",
        "The icon of each of your links (brand network, uploaded thumbnail), in page order",
        response=LINK_ICON,
        many=True,
        errors=(401,),
    )
)
@api_login_required
def get_link_icons() -> Response:
    """Return the icon of each of the user's links (the dashboard offers to remove a thumbnail)."""
    return jsonify([link_icons.icon_json(link) for link in controller.list_links(user())])


@links_api.route("/api/add/link", methods=["POST"])
@api.document(
    Operation(
        "/api/add/link",
        "POST",
        "Add a link at the end of your page",
        request=LINK_CREATE,
        response=LINK,
        success=201,
        errors=(400, 401, 403, 422),
    )
)
@api_login_required
def add_link() -> tuple[Response, int]:
    """Create a link; 201 with the link."""
    link = controller.create_link(user(), json_body())
    return jsonify(link.to_json()), 201


@links_api.route("/api/edit/link/<id:link_id>", methods=["PUT", "PATCH"])
@api.document(
    Operation(
        "/api/edit/link/{id}",
        "PUT",
        "Change any of a link's fields",
        request=LINK_UPDATE,
        response=LINK,
        errors=EDIT_ERRORS,
        parameters=[path_id()],
    )
)
@api.document(
    Operation(
        "/api/edit/link/{id}",
        "PATCH",
        "Change any of a link's fields (same as PUT)",
        request=LINK_UPDATE,
        response=LINK,
        errors=EDIT_ERRORS,
        parameters=[path_id()],
    )
)
@api_login_required
def edit_link(link_id: int) -> Response:
    """Update a link; 404 when it is not the user's."""
    return jsonify(controller.update_link(user(), link_id, json_body()).to_json())


@links_api.route("/api/delete/link/<id:link_id>", methods=["DELETE"])
@api.document(
    Operation(
        "/api/delete/link/{id}",
        "DELETE",
        "Delete a link",
        success=204,
        errors=(400, 401, 404),
        parameters=[path_id()],
    )
)
@api_login_required
def delete_link(link_id: int) -> Response:
    """Delete a link; 204."""
    controller.delete_link(user(), link_id)
    return no_content()


@links_api.route("/api/links/reorder", methods=["POST"])
@api.document(
    Operation(
        "/api/links/reorder",
        "POST",
        "Put your links in a new order",
        request=REORDER,
        response=LINK,
        many=True,
        errors=WRITE_ERRORS,
    )
)
@api_login_required
def reorder_links() -> Response:
    """Rewrite the order from ``{"ids": [...]}``; answers the links in their new order."""
    return jsonify([link.to_json() for link in controller.reorder_links(user(), json_body())])


@links_api.route("/api/link/<id:link_id>/icon", methods=["POST"])
@api.document(
    Operation(
        "/api/link/{id}/icon",
        "POST",
        "Upload a link's thumbnail (shown instead of its brand icon)",
        request=LINK_ICON_UPLOAD,
        response=LINK_ICON,
        errors=EDIT_ERRORS,
        parameters=[path_id()],
        request_media_type="multipart/form-data",
    )
)
@api_login_required
def upload_icon(link_id: int) -> Response:
    """Replace the link's thumbnail; a file that is not a valid image is a 400 and nothing is written."""
    try:
        link = link_icons.set_thumbnail(user(), link_id, request.files.get("icon"))
    except InvalidImage as error:
        raise InputError(str(error), field="icon", code="invalid_image", status=400) from None
    return jsonify(link_icons.icon_json(link))


@links_api.route("/api/link/<id:link_id>/icon", methods=["DELETE"])
@api.document(
    Operation(
        "/api/link/{id}/icon",
        "DELETE",
        "Remove a link's thumbnail (its brand icon shows again)",
        response=LINK_ICON,
        errors=(400, 401, 403, 404),
        parameters=[path_id()],
    )
)
@api_login_required
def remove_icon(link_id: int) -> Response:
    """Remove the link's thumbnail."""
    return jsonify(link_icons.icon_json(link_icons.remove_thumbnail(user(), link_id)))
