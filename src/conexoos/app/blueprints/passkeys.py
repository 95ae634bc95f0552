"""Settings → Passkeys: add (needs JavaScript), rename and remove (logging in with one: passkey_login.py).

The browser side is ``static/js/passkeys.js``: it asks an ``.../options`` route for the ceremony's options,
calls ``navigator.credentials``, and posts the answer (JSON, with the page's CSRF token) to the route
beside it. The challenge waits in the session (``controllers/ceremonies``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.blueprints.api_support import api_login_required, json_body
from conexoos.app.blueprints.password_checks import limit_password_checks
from conexoos.app.blueprints.two_factor import CONFIRM_FAILED, confirmed, show_new_codes
from conexoos.app.controllers import ceremonies, passkeys
from conexoos.app.controllers.passkeys import Ceremony, PasskeyError
from conexoos.app.controllers.second_factor import (
    confirm_identity,
    forget_unneeded_recovery_codes,
    needs_recovery_codes,
)
from conexoos.app.controllers.security_notices import (
    PASSKEY_ADDED,
    PASSKEY_REMOVED,
    notify_second_factor_change,
    passkey_change,
)
from conexoos.app.dto.errors import malformed
from conexoos.app.models.forms.two_factor import ConfirmForm, PasskeyNameForm
from conexoos.app.models.persistent import Passkey
from conexoos.framework import error_response

passkeys_blueprint = Blueprint("passkeys", __name__)
REGISTRATION = "passkey_registration"


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
    limit_password_checks(current_user)
    try:
        name = passkeys.clean_name(str(body.get("name") or ""))
    except PasskeyError as error:
        return error_response(422, str(error), field="name")
    if not confirm_identity(current_user, str(body.get("confirmation") or "")):
        return error_response(401, CONFIRM_FAILED, field="confirmation")
    return ceremony_options(REGISTRATION, passkeys.registration_options(current_user, name))


@passkeys_blueprint.route("/settings/passkeys", methods=["POST"])
@api_login_required
def register() -> tuple[Response, int] | Response:
    """Keep the passkey the browser created; answer where to go next (the recovery codes the first time)."""
    credential = json_body()
    ceremony = ceremonies.take(REGISTRATION)
    if ceremony is None:
        return expired()
    try:
        passkey = passkeys.register(current_user, credential, ceremony)
    except PasskeyError as error:
        return error_response(400, str(error))
    notify_second_factor_change(current_user, passkey_change(PASSKEY_ADDED, passkey.name))
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
    if confirmed(form):
        name = passkey.shown_name
        passkeys.remove(passkey)
        forget_unneeded_recovery_codes(current_user)
        notify_second_factor_change(current_user, passkey_change(PASSKEY_REMOVED, name))
        flash("Passkey removed.")
        return redirect(url_for("passkeys.settings"))
    status = 401 if CONFIRM_FAILED in form.confirmation.errors else 422
    return _settings_page(removals={passkey_id: form}), status


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
    form.name.data = passkey.shown_name
    return form


def _owned_or_404(passkey_id: int) -> Passkey:
    passkey = passkeys.owned(current_user, passkey_id)
    if passkey is None:
        raise NotFound("No passkey of yours has this number.")
    return passkey


def ceremony_options(purpose: str, ceremony: Ceremony) -> Response:
    """Keep ``ceremony``'s challenge for ``purpose`` and answer its options (JSON for the browser)."""
    ceremonies.keep(purpose, ceremony.challenge, ceremony.user_handle, ceremony.name)
    return Response(ceremony.options_json, mimetype="application/json")


def expired() -> Response:
    """The answer to a ceremony whose challenge is gone: used already, expired, or never asked for."""
    return error_response(400, "This passkey request expired or was already used. Try again.", code="expired")


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise malformed("send a JSON object")
    return payload
