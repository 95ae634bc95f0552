"""Logging in with a passkey: alone (the login page's button and autofill), or as the second factor.

The browser side is ``static/js/passkeys.js``; each ``.../options`` route gives the ceremony's options and
the route beside it checks the answer. The second factor's challenge is kept in the server session; a
passkey alone gets a signed challenge and nothing is written (``controllers/ceremonies`` says why).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import NotFound

from conexoos.app.blueprints.api_support import json_body
from conexoos.app.blueprints.login_completion import finish_login
from conexoos.app.blueprints.passkeys import ceremony_options, expired
from conexoos.app.blueprints.two_factor import limit_second_factor_attempts
from conexoos.app.controllers import ceremonies, passkeys, pending_login, second_factor_throttle
from conexoos.app.controllers.passkeys import PasskeyError
from conexoos.app.utils.rate_limit import enforce
from conexoos.app.utils.redirects import safe_local_target
from conexoos.framework import error_response
from conexoos.framework.logins import logins

passkey_login = Blueprint("passkey_login", __name__)
LOGIN = "passkey_login"
SECOND_FACTOR = "passkey_second_factor"


@passkey_login.route("/login/passkey/options", methods=["POST"])
def options() -> Response:
    """Options to sign in with any passkey of this site (user verification required); 404 when
    ``LOGINS.local`` is off (the site's own credentials are not used then)."""
    _require_local_login()
    enforce("30/minute", "passkey-options-ip", request.remote_addr or "")
    ceremony = passkeys.authentication_options(None, ceremonies.signed_challenge(LOGIN))
    return Response(ceremony.options_json, mimetype="application/json")  # nothing kept: see ceremonies


@passkey_login.route("/login/passkey", methods=["POST"])
def login() -> Response:
    """Log in with a passkey alone (verified on the device: possession and a PIN or biometric); 404 when
    ``LOGINS.local`` is off."""
    _require_local_login()
    enforce("10/minute", "passkey-login-ip", request.remote_addr or "")
    credential = json_body()
    try:
        ceremony = ceremonies.signed_answer(LOGIN, passkeys.answered_challenge(credential))
    except PasskeyError as error:
        return error_response(400, str(error), code="malformed")
    if ceremony is None:
        return expired()
    try:
        user = passkeys.authenticate(credential, ceremony, None)
    except PasskeyError as error:
        return error_response(401, str(error))
    pending_login.clear()
    finish_login(user)
    return jsonify(redirect=safe_local_target(request.args.get("next")) or url_for("dashboard.index"))


@passkey_login.route("/login/two-factor/passkey/options", methods=["POST"])
def second_factor_options() -> Response:
    """Options to confirm a login with one of the passkeys of the user who gave the right password."""
    pending = pending_login.current()
    if pending is None:
        return _login_again()
    return ceremony_options(SECOND_FACTOR, passkeys.authentication_options(pending.user))


@passkey_login.route("/login/two-factor/passkey", methods=["POST"])
def second_factor() -> Response:
    """Finish a login with a passkey of the user who gave the right password."""
    pending = pending_login.current()
    if pending is None:
        return _login_again()
    credential = json_body()
    ceremony = ceremonies.take(SECOND_FACTOR)
    if ceremony is None:
        return expired()
    network = limit_second_factor_attempts(pending.user)
    try:
        passkeys.authenticate(credential, ceremony, pending.user)
    except PasskeyError as error:
        second_factor_throttle.record_failure(pending.user, network)
        if not pending_login.record_failure():
            return error_response(401, f"{error} Too many tries: log in again.", code="login_again")
        return error_response(401, str(error))
    pending_login.clear()
    finish_login(pending.user)
    return jsonify(redirect=pending.next_url)


def _require_local_login() -> None:
    if not logins().local_enabled:
        raise NotFound("Passkeys do not log in on this site: use one of the login page's sign-in buttons.")


def _login_again() -> Response:
    return error_response(401, "Log in again: the second step waits at most 5 minutes.", code="login_again")
