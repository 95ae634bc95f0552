"""What every JSON endpoint shares: login required as a 401, body reading, JSON answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, request
from flask_login import current_user, login_required
from werkzeug.exceptions import Unauthorized

from conexoos.app.dto.errors import malformed
from conexoos.app.models.persistent import User

View = TypeVar("View", bound=Callable[..., Any])
LOGGED_OUT = "You are not logged in (logged out in another tab or window?): log in to go on."
"""The 401 of every JSON endpoint; the dashboard shows it with a Log in link."""


def api_login_required(view: View) -> View:
    """Like ``login_required``, but a request without a login gets a 401 JSON error, never a redirect."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        require_login()
        return view(*args, **kwargs)

    guarded.requires_login = True  # type: ignore[attr-defined]  # read by the middleware, before CSRF
    return guarded  # type: ignore[return-value]


def page_login_required(view: View) -> View:
    """Flask-Login's ``login_required`` for a page's form that may also be sent as JSON: without a login,
    the login page (a 401 for JSON), checked before the CSRF token as for :func:`api_login_required`."""
    guarded = login_required(view)
    guarded.requires_login = "page"  # read by the middleware, before CSRF
    return guarded


def require_login() -> None:
    """401 JSON error unless someone is logged in."""
    if not current_user.is_authenticated:
        raise Unauthorized(LOGGED_OUT)


def json_body() -> Any:
    """The request's JSON body; 400 when it is missing or not JSON."""
    if not request.is_json:
        raise malformed("send a JSON body with Content-Type: application/json")
    try:
        payload = json.loads(
            request.get_data(cache=True), object_pairs_hook=_unique_keys, parse_constant=_no_constant
        )
    except NotStrictJson as error:
        raise malformed(str(error)) from None
    except RecursionError:  # thousands of nested arrays: the decoder gives up before it fails
        raise malformed("the request body nests too deeply") from None
    except json.JSONDecodeError as error:
        raise malformed(
            f"the request body is not valid JSON ({error.msg.removesuffix(' at')} at character {error.pos})"
        ) from error
    except (ValueError, UnicodeDecodeError) as error:  # a number past Python's 4300 digits, or no UTF-8
        raise malformed(_undecodable(error)) from error
    if payload is None:
        raise malformed("the request body must be a JSON object, not null")
    return payload


class NotStrictJson(Exception):
    """A body Python's decoder would read but JSON (RFC 8259) does not allow, or that says two things."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object, refused when it names a key twice (which value was meant is anyone's guess)."""
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key in fields:
            raise NotStrictJson(f"the request body gives the key {json.dumps(key)} twice in one object")
        fields[key] = value
    return fields


def _no_constant(name: str) -> Any:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity``: Python reads them, but they are not JSON."""
    raise NotStrictJson(f"the request body holds {name}, which is not a JSON number")


def _undecodable(error: ValueError) -> str:
    """What is wrong with a body that is JSON in form but that Python cannot read."""
    if isinstance(error, UnicodeDecodeError):
        return "the request body must be UTF-8 text"
    return "a number in the request body is too large (it has more than 4300 digits)"


def user() -> User:
    """The logged-in user (only inside views guarded by :func:`api_login_required`)."""
    return current_user._get_current_object()


def no_content() -> Response:
    """An empty 204, without the ``text/html`` Content-Type Flask would give an empty string."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
