"""What every JSON endpoint shares: login required as a 401, body reading, JSON answers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, request
from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from conexoos.app.dto.errors import malformed
from conexoos.app.models.persistent import User

View = TypeVar("View", bound=Callable[..., Any])


def api_login_required(view: View) -> View:
    """Like ``login_required``, but a request without a login gets a 401 JSON error, never a redirect."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        require_login()
        return view(*args, **kwargs)

    guarded.requires_login = True  # type: ignore[attr-defined]  # read by the middleware, before CSRF
    return guarded  # type: ignore[return-value]


def require_login() -> None:
    """401 JSON error unless someone is logged in."""
    if not current_user.is_authenticated:
        raise Unauthorized("Log in to use this endpoint.")


def json_body() -> Any:
    """The request's JSON body; 400 when it is missing or not JSON."""
    if not request.is_json:
        raise malformed("send a JSON body with Content-Type: application/json")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # thousands of nested arrays: the decoder gives up before it fails
        raise malformed("the request body nests too deeply") from None
    if payload is None:
        raise malformed("the request body is not valid JSON")
    return payload


def user() -> User:
    """The logged-in user (only inside views guarded by :func:`api_login_required`)."""
    return current_user._get_current_object()


def no_content() -> Response:
    """An empty 204, without the ``text/html`` Content-Type Flask would give an empty string."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
