"""Who may use the operator's pages: roles, and the checks every staff route makes on the server.

Roles: ``admin`` (everything), ``moderator`` (reports, pages, users' visibility) and ``user``.
A request without the role a route asks for gets **404**, whoever sends it (anonymous visitors
included): staff URLs are not confirmed to exist, and no redirect to the log-in page gives them away.

Two ways to guard routes, both read by :func:`refuse_without_role`, which the product's middleware runs
*before* the CSRF check (so a POST without the role is a 404 too, never a 400 that would confirm the URL):

- a whole blueprint: ``staff_only(blueprint, ADMIN)`` (every route of it);
- one view: ``@require_role(ADMIN, MODERATOR)``.

A view inside a ``staff_only`` blueprint may narrow it further with ``@require_role``; both must pass.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from conexoos.app.models.persistent import ADMIN, MODERATOR, ROLES, USER
from conexoos.framework.http_errors import NOT_FOUND_MESSAGE
from conexoos.framework.lazy_blueprints import load_blueprint

View = TypeVar("View", bound=Callable[..., Any])
STAFF = (ADMIN, MODERATOR)
"""The roles that see the admin panel (a moderator sees less of it)."""
ROLE_WORDS = {ADMIN: "an administrator", MODERATOR: "a moderator", USER: "a user without a staff role"}
"""The roles in words, as the "Confirm it's you" page names what an action is about."""


def named_with_role(user: Any) -> str:
    """ "bob, an administrator": how a power action on a staff account names it."""
    return f"{user.username}, {ROLE_WORDS.get(user.role, user.role)}"


_ATTRIBUTE = "required_roles"

__all__ = [
    "ADMIN",
    "MODERATOR",
    "ROLES",
    "STAFF",
    "USER",
    "has_role",
    "require_role",
    "role_for_admin_flag",
    "staff_only",
]


def has_role(*roles: str) -> bool:
    """Whether the current request's user is logged in, not suspended, and has one of ``roles``."""
    if not current_user.is_authenticated or current_user.is_suspended:
        return False
    return str(current_user.role) in roles


def require_role(*roles: str) -> Callable[[View], View]:
    """A view decorator: 404 unless the current user has one of ``roles`` (checked again in the view)."""
    _check_roles(roles)

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not has_role(*roles):
                raise NotFound(NOT_FOUND_MESSAGE)
            return view(*args, **kwargs)

        setattr(guarded, _ATTRIBUTE, tuple(roles))
        return guarded  # type: ignore[return-value]

    return decorate


def staff_only(blueprint: Blueprint, *roles: str) -> Blueprint:
    """Make every route of ``blueprint`` answer 404 unless the user has one of ``roles`` (default: staff)."""
    allowed = tuple(roles) or STAFF
    _check_roles(allowed)
    setattr(blueprint, _ATTRIBUTE, allowed)

    @blueprint.before_request
    def _guard() -> None:  # a second check, for an app whose middleware does not run the gate
        if not has_role(*allowed):
            raise NotFound(NOT_FOUND_MESSAGE)

    return blueprint


def required_roles(endpoint: str | None) -> list[tuple[str, ...]]:
    """Every role set the route of ``endpoint`` demands (its blueprint's, then its view's); [] for none."""
    demands = []
    blueprint_name = endpoint.rpartition(".")[0] if endpoint and "." in endpoint else None
    # the endpoint of a 405's allowed method may be in a blueprint no request imported yet
    blueprint = load_blueprint(current_app, blueprint_name) if blueprint_name else None
    if blueprint is not None and getattr(blueprint, _ATTRIBUTE, None):
        demands.append(getattr(blueprint, _ATTRIBUTE))
    view = current_app.view_functions.get(endpoint or "")
    if view is not None and getattr(view, _ATTRIBUTE, None):
        demands.append(getattr(view, _ATTRIBUTE))
    return demands


def refuse_without_role() -> None:
    """``before_request`` hook (registered before CSRF): 404 when the route needs a role the user lacks.

    A request with a method the URL does not take (a 405 to come) is checked against the route it would
    reach with an allowed method, so that the 405 does not confirm a staff URL to someone without the role.
    When no route takes the URL under any method (Werkzeug answers 405 before a converter refuses an id
    out of range), the answer is the 404 it really is.
    """
    for roles in required_roles(request.endpoint or _endpoint_for_other_method()):
        if not has_role(*roles):
            raise NotFound(NOT_FOUND_MESSAGE)


def _endpoint_for_other_method() -> str | None:
    """The endpoint of the request's URL under one of its allowed methods, when its own is not allowed."""
    error = request.routing_exception
    if not isinstance(error, MethodNotAllowed) or not error.valid_methods:
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(method=sorted(error.valid_methods)[0])
    except NotFound:
        raise NotFound(NOT_FOUND_MESSAGE) from None  # no route takes the URL at all: not a 405
    except HTTPException:  # RequestRedirect and the like: no route to judge by
        return None
    return str(endpoint)


def _check_roles(roles: tuple[str, ...]) -> None:
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise ValueError(f"unknown roles {unknown!r}; roles are {', '.join(ROLES)}")


def role_for_admin_flag(current: str, admin: bool | None) -> str:
    """The role an account gets when an identity provider says whether it is an administrator (SSO group
    mapping): ``True`` makes it ``admin``; ``False`` takes ``admin`` away (a moderator stays one); ``None``
    (the provider does not say) keeps ``current``. Use it where code once set ``user.is_admin``."""
    if admin is None:
        return current
    if admin:
        return ADMIN
    return USER if current == ADMIN else current
