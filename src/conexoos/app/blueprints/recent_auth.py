"""``@requires_recent_auth``: sudo mode for the administrators' actions that grant power.

An action POSTed more than :data:`~conexoos.app.controllers.recent_auth.RECENT_AUTH` after the login (and
after the last confirmation) is not done: the answer is the "Confirm it's you" page (403: the action is
refused until then, so a script reading the status does not take it for done), which names the waiting
action and asks for the password, and with two-factor on a code. Its form posts the same URL again with
the fields the action reads (hidden), a fresh CSRF token and the confirmation; a correct one is recorded
and the action runs in that request. Only a verified password (or code) counts: the marker field alone
makes the page check them, nothing more. A JSON client gets 403 ``confirm_access`` instead of the page.

A request the view would refuse anyway (a mistyped name, a role held already...) grants no power: it is
refused at once, by the view's own refusal, with no page and no password check spent (``check``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from conexoos.app.blueprints.password_checks import password_check_refused
from conexoos.app.controllers import recent_auth
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.utils.network import network_of
from conexoos.framework.http_errors import error_response, wants_json

View = TypeVar("View", bound=Callable[..., Any])
MARKER = "confirm_access"
"""The hidden field of the confirmation form: the post carries a password (and code) to check."""
PASSWORD_FIELD = "confirm_access_password"
CODE_FIELD = "confirm_access_code"


@dataclass(frozen=True)
class Waiting:
    """The action the "Confirm it's you" page holds: in words, where Cancel leads, the fields it re-posts."""

    action: str
    back: str
    carried: list[tuple[str, str]]


def requires_recent_auth(
    describe: Callable[..., str],
    back: Callable[..., str] | None = None,
    carry: tuple[str, ...] = (),
    when: Callable[..., bool] | None = None,
    check: Callable[..., Any] | None = None,
) -> Callable[[View], View]:
    """A view decorator for POSTs that grant power: run the view when the administrator authenticated
    within the window, else ask them to confirm. ``describe`` gets the view's arguments and returns the
    action in words ("make bob an administrator"); it may raise 404 for an unknown target. ``back`` gets
    them too and returns where the page's Cancel leads (the page the action came from; by default the
    admin overview). ``carry``: the form fields the action reads, re-posted by the page (no other field
    is). ``when`` gets the view's arguments: False when this request grants no power (suspending an
    account without a role), so that it needs no confirmation. ``check`` gets them too and returns the
    view's answer refusing this request (from the very function the view refuses with), or None when
    the view would go on: that refusal is the answer, before any page or password check."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if request.method != "POST" or recent_auth.is_recent(current_user):
                return view(*args, **kwargs)
            if when is not None and not when(*args, **kwargs):
                return view(*args, **kwargs)
            refused = check(*args, **kwargs) if check is not None else None
            if refused is not None:
                return refused
            waiting = Waiting(
                describe(*args, **kwargs),
                back(*args, **kwargs) if back else url_for("admin.overview"),
                [(name, value) for name, value in request.form.items(multi=True) if name in carry],
            )
            if wants_json():
                return _json_refusal(waiting.action)
            if MARKER not in request.form:
                return _page(waiting), 403
            refused = _check_confirmation(waiting)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def _check_confirmation(waiting: Waiting) -> tuple[str, int] | tuple[str, int, dict[str, str]] | None:
    """Verify the confirmation form's password and code: None when confirmed (and recorded), else the
    page again with why (403, or 429 with ``Retry-After`` past the shared budget of password checks)."""
    if recent_auth.needs_login_again(current_user):
        return _page(waiting), 403
    if not request.form.get(PASSWORD_FIELD):
        return _page(waiting, "Enter your password.", "password"), 403
    too_many = password_check_refused(current_user)
    if too_many is not None:
        retry = {"Retry-After": str(too_many.retry_after)}
        return _page(waiting, str(too_many.description), "password"), 429, retry
    try:
        recent_auth.confirm(
            current_user,
            request.form.get(PASSWORD_FIELD, ""),
            request.form.get(CODE_FIELD, ""),
            network_of(request.remote_addr or ""),
        )
    except recent_auth.ConfirmationRefused as refused:
        return _page(waiting, refused.message, refused.field), 403
    return None


def _page(waiting: Waiting, error: str = "", field: str = "") -> str:
    """The "Confirm it's you" page for the waiting action, its fields carried as hidden inputs."""
    return render_template(
        "admin/confirm_access.html",
        action=waiting.action,
        action_url=request.full_path.rstrip("?"),
        carried=waiting.carried,
        login_again=recent_auth.needs_login_again(current_user),
        login_again_message=recent_auth.login_again_message(),
        second_factor=has_second_factor(current_user),
        minutes=recent_auth.minutes(),
        back=waiting.back,
        marker=MARKER,
        password_field=PASSWORD_FIELD,
        code_field=CODE_FIELD,
        error=error,
        field=field,
    )


def _json_refusal(action: str) -> Response:
    if recent_auth.needs_login_again(current_user):
        message = recent_auth.login_again_message()
    else:
        message = (
            f"Confirm your password in the browser to {action}: your login is more than "
            f"{recent_auth.minutes()} minutes old."
        )
    return error_response(403, message, code="confirm_access")
