"""Passkeys: Settings → Passkeys (add, rename, remove) and logging in with one, alone or after the password.

The browser side is ``static/js/passkeys.js``: it asks an ``.../options`` route for the ceremony's options,
calls ``navigator.credentials``, and posts the answer (JSON, with the page's CSRF token) to the route
beside it. Each ceremony's challenge is kept in the session, taken out by the answer (single use) and
valid for :data:`CHALLENGE_LIFETIME` seconds. Logged-in and half-logged-in sessions are server-side; an
anonymous visitor's session is a signed cookie (the framework stores nothing for visitors), so there the
passkey row also records the issue time of the newest challenge it answered, and an older one (a replayed
answer with its cookie) is refused.
"""

from __future__ import annotations

import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.blueprints.accounts import _log_in
from conexoos.app.blueprints.api_support import api_login_required, json_body
from conexoos.app.blueprints.two_factor import CONFIRM_FAILED, limit_second_factor_attempts, show_new_codes
from conexoos.app.controllers import passkeys, pending_login
from conexoos.app.controllers.passkeys import Ceremony, PasskeyError
from conexoos.app.controllers.second_factor import (
    confirm_identity,
    forget_unneeded_recovery_codes,
    needs_recovery_codes,
)
from conexoos.app.dto.errors import malformed
from conexoos.app.models.forms.two_factor import ConfirmForm, PasskeyNameForm
from conexoos.app.models.persistent import Passkey
from conexoos.app.utils.rate_limit import enforce
from conexoos.app.utils.redirects import safe_local_target
from conexoos.framework import error_response

passkeys_blueprint = Blueprint("passkeys", __name__)
CHALLENGE_LIFETIME = 300
REGISTRATION = "passkey_registration"
LOGIN = "passkey_login"
SECOND_FACTOR = "passkey_second_factor"


@passkeys_blueprint.route("/settings/passkeys", methods=["GET"])
@login_required
def settings() -> str:
    """The user's passkeys, with a form to add one (needs JavaScript) and to rename or remove each."""
    return _settings_page()


@passkeys_blueprint.route("/settings/passkeys/options", methods=["POST"])
@api_login_required
def registration_options() -> Response:
    """Check the name and the password (or a code), then give ``navigator.credentials.create`` options."""
    body = _object(json_body())
    enforce("10/minute", "second-factor-confirm", str(current_user.id))
    try:
        name = passkeys.clean_name(str(body.get("name") or ""))
    except PasskeyError as error:
        return error_response(422, str(error), field="name")
    if not confirm_identity(current_user, str(body.get("confirmation") or "")):
        return error_response(401, CONFIRM_FAILED, field="confirmation")
    ceremony = passkeys.registration_options(current_user)
    _keep(REGISTRATION, ceremony, name=name)
    return Response(ceremony.options_json, mimetype="application/json")


@passkeys_blueprint.route("/settings/passkeys", methods=["POST"])
@api_login_required
def register() -> tuple[Response, int] | Response:
    """Keep the passkey the browser created; answer where to go next (the recovery codes the first time)."""
    credential = json_body()
    state = _take(REGISTRATION)
    if state is None:
        return _expired()
    ceremony = Ceremony("", _decode(state["challenge"]), _decode(state["handle"]))
    try:
        passkeys.register(current_user, credential, ceremony, str(state["name"]))
    except PasskeyError as error:
        return error_response(400, str(error))
    flash("Passkey added.")
    if needs_recovery_codes(current_user):
        return jsonify(redirect=show_new_codes(current_user).location), 201
    return jsonify(redirect=url_for("passkeys.settings")), 201


@passkeys_blueprint.route("/settings/passkeys/<id:passkey_id>/rename", methods=["POST"])
@login_required
def rename(passkey_id: int) -> BaseResponse | tuple[str, int]:
    """Rename one of the user's passkeys (404 for anyone else's)."""
    passkey = _owned_or_404(passkey_id)
    form = PasskeyNameForm(prefix=f"rename-{passkey_id}")
    if form.validate_on_submit():
        try:
            passkeys.rename(passkey, form.name.data or "")
        except PasskeyError as error:
            form.name.errors = [str(error)]
        else:
            flash("Passkey renamed.")
            return redirect(url_for("passkeys.settings"))
    return _settings_page(renames={passkey_id: form}), 422


@passkeys_blueprint.route("/settings/passkeys/<id:passkey_id>/delete", methods=["POST"])
@login_required
def remove(passkey_id: int) -> BaseResponse | tuple[str, int]:
    """Remove one of the user's passkeys; needs the password or a current code (404 for anyone else's)."""
    passkey = _owned_or_404(passkey_id)
    form = ConfirmForm(prefix=f"remove-{passkey_id}")
    if form.validate_on_submit():
        enforce("10/minute", "second-factor-confirm", str(current_user.id))
        if confirm_identity(current_user, form.confirmation.data or ""):
            passkeys.remove(passkey)
            forget_unneeded_recovery_codes(current_user)
            flash("Passkey removed.")
            return redirect(url_for("passkeys.settings"))
        form.confirmation.errors = [CONFIRM_FAILED]
        return _settings_page(removals={passkey_id: form}), 401
    return _settings_page(removals={passkey_id: form}), 422


@passkeys_blueprint.route("/login/passkey/options", methods=["POST"])
def login_options() -> Response:
    """Options to sign in with any passkey of this site (the login page's button and autofill)."""
    enforce("30/minute", "passkey-options-ip", request.remote_addr or "")
    ceremony = passkeys.authentication_options(None)
    _keep(LOGIN, ceremony)
    return Response(ceremony.options_json, mimetype="application/json")


@passkeys_blueprint.route("/login/passkey", methods=["POST"])
def login() -> Response:
    """Log in with a passkey alone (verified on the device: two factors in one)."""
    enforce("10/minute", "passkey-login-ip", request.remote_addr or "")
    credential = json_body()
    state = _take(LOGIN)
    if state is None:
        return _expired()
    try:
        user = passkeys.authenticate(credential, _decode(state["challenge"]), int(state["issued_at"]), None)
    except PasskeyError as error:
        return error_response(401, str(error))
    pending_login.clear()
    _log_in(user)
    return jsonify(redirect=safe_local_target(request.args.get("next")) or url_for("dashboard.index"))


@passkeys_blueprint.route("/login/two-factor/passkey/options", methods=["POST"])
def second_factor_options() -> Response:
    """Options to confirm a login with one of the (half-logged-in) user's passkeys."""
    pending = pending_login.current()
    if pending is None:
        return _no_pending_login()
    ceremony = passkeys.authentication_options(pending.user)
    _keep(SECOND_FACTOR, ceremony)
    return Response(ceremony.options_json, mimetype="application/json")


@passkeys_blueprint.route("/login/two-factor/passkey", methods=["POST"])
def second_factor() -> Response:
    """Finish a login with a passkey of the user who gave the right password."""
    pending = pending_login.current()
    if pending is None:
        return _no_pending_login()
    credential = json_body()
    state = _take(SECOND_FACTOR)
    if state is None:
        return _expired()
    limit_second_factor_attempts(pending.user)
    try:
        passkeys.authenticate(credential, _decode(state["challenge"]), int(state["issued_at"]), pending.user)
    except PasskeyError as error:
        if not pending_login.record_failure():
            return error_response(401, f"{error} Too many tries: log in again.", code="login_again")
        return error_response(401, str(error))
    pending_login.clear()
    _log_in(pending.user)
    return jsonify(redirect=pending.next_url)


def _settings_page(
    renames: dict[int, PasskeyNameForm] | None = None, removals: dict[int, ConfirmForm] | None = None
) -> str:
    """The passkeys page; a form given in ``renames`` or ``removals`` is shown with its errors."""
    renames, removals = renames or {}, removals or {}
    rows = [
        (
            passkey,
            renames.get(passkey.id) or _name_form(passkey),
            removals.get(passkey.id) or ConfirmForm(prefix=f"remove-{passkey.id}", formdata=None),
        )
        for passkey in passkeys.passkeys_of(current_user)
    ]
    return render_template(
        "passkeys/settings.html", rows=rows, unavailable=passkeys.unavailable_reason(), add_form=ConfirmForm()
    )


def _name_form(passkey: Passkey) -> PasskeyNameForm:
    form = PasskeyNameForm(prefix=f"rename-{passkey.id}", formdata=None)
    form.name.data = passkey.name
    return form


def _owned_or_404(passkey_id: int) -> Passkey:
    passkey = passkeys.owned(current_user, passkey_id)
    if passkey is None:
        raise NotFound("No passkey of yours has this number.")
    return passkey


def _keep(key: str, ceremony: Ceremony, **extra: str) -> None:
    session[key] = {
        "challenge": _encode(ceremony.challenge),
        "handle": _encode(ceremony.user_handle),
        "issued_at": time.time_ns() // 1000,
        **extra,
    }


def _take(key: str) -> dict[str, Any] | None:
    """The ceremony kept under ``key``, removed from the session (single use); None when none or expired."""
    state = session.pop(key, None)
    if not isinstance(state, dict):
        return None
    if int(state["issued_at"]) + CHALLENGE_LIFETIME * 1_000_000 < time.time_ns() // 1000:
        return None
    return state


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise malformed("send a JSON object")
    return payload


def _expired() -> Response:
    return error_response(400, "This passkey request expired or was already used. Try again.", code="expired")


def _no_pending_login() -> Response:
    return error_response(401, "Log in again: the second step waits at most 5 minutes.", code="login_again")


def _encode(value: bytes) -> str:
    return urlsafe_b64encode(value).decode()


def _decode(value: str) -> bytes:
    return urlsafe_b64decode(value.encode())
