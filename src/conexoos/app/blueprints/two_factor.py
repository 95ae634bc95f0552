"""Settings → Two-factor (an authenticator app, recovery codes) and the login's second step."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from conexoos.app.blueprints.login_completion import finish_login
from conexoos.app.blueprints.password_checks import limit_password_checks
from conexoos.app.controllers import passkeys, pending_login, recovery_codes, second_factor_throttle, totp
from conexoos.app.controllers.second_factor import (
    confirm_identity,
    forget_unneeded_recovery_codes,
    verify_second_factor,
)
from conexoos.app.controllers.security_notices import TOTP_OFF, TOTP_ON, notify_second_factor_change
from conexoos.app.models.forms.two_factor import CodeForm, ConfirmForm
from conexoos.app.models.persistent import User
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import too_many_requests

two_factor = Blueprint("two_factor", __name__)
FRESH_CODES = "fresh_recovery_codes"
CONFIRM_FAILED = "That is neither your password nor a current code."
Page = str | Response | tuple[str, int]


@two_factor.route("/settings/two-factor", methods=["GET"])
@login_required
def settings() -> str:
    """What protects the account: the authenticator app, the recovery codes left, the passkeys."""
    return _settings_page()


@two_factor.route("/settings/two-factor/totp/start", methods=["POST"])
@login_required
def start_totp() -> Page:
    """Make a new secret (not in force yet) and show it for scanning; needs the password (or a current
    code when a passkey is already set up), so that a stolen session cannot put its own app in."""
    form = ConfirmForm(prefix="start")
    if not confirmed(form):
        return _settings_with(form, "start_form")
    try:
        totp.start_enrolment(current_user)
    except totp.TotpError as error:
        flash(str(error))
        return redirect(url_for("two_factor.settings"))
    return redirect(url_for("two_factor.enrol_totp"))


@two_factor.route("/settings/two-factor/totp", methods=["GET", "POST"])
@login_required
def enrol_totp() -> Page:
    """The QR code and the secret as text; a matching code turns the app on and shows recovery codes."""
    enrolment = totp.pending_enrolment(current_user)
    if enrolment is None:
        return redirect(url_for("two_factor.settings"))
    form = CodeForm()
    if form.validate_on_submit():
        _limit_confirmations(current_user)
        try:
            totp.confirm_enrolment(current_user, form.code.data or "")
        except totp.TotpError as error:
            form.code.errors = [str(error)]
        else:
            notify_second_factor_change(current_user, TOTP_ON)
            flash("Your authenticator app is on: logging in now asks for one of its codes.")
            return _show_new_codes_if_needed(current_user)
    status = 422 if request.method == "POST" else 200
    return render_template("two_factor/enrol_totp.html", enrolment=enrolment, form=form), status


@two_factor.route("/settings/two-factor/totp/disable", methods=["POST"])
@login_required
def disable_totp() -> Page:
    """Turn the authenticator app off; needs the password or a current code."""
    form = ConfirmForm(prefix="disable")
    if not confirmed(form):
        return _settings_with(form, "disable_form")
    totp.disable(current_user)
    forget_unneeded_recovery_codes(current_user)
    notify_second_factor_change(current_user, TOTP_OFF)
    flash("The authenticator app is off.")
    return redirect(url_for("two_factor.settings"))


@two_factor.route("/settings/two-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate_codes() -> Page:
    """Replace the recovery codes with new ones (the old ones stop working); needs the password or a code."""
    form = ConfirmForm(prefix="regenerate")
    if not confirmed(form):
        return _settings_with(form, "regenerate_form")
    if not (totp.is_enabled(current_user) or passkeys.count(current_user)):
        flash("Recovery codes come with a second factor: set up an authenticator app or a passkey first.")
        return redirect(url_for("two_factor.settings"))
    return show_new_codes(current_user)


@two_factor.route("/settings/two-factor/recovery-codes", methods=["GET"])
@login_required
def recovery_codes_page() -> Page:
    """The recovery codes just made, shown this once."""
    codes = session.pop(FRESH_CODES, None)
    if not isinstance(codes, list):
        flash("Recovery codes are shown only once, when they are made. Make new ones if you lost them.")
        return redirect(url_for("two_factor.settings"))
    return render_template("two_factor/recovery_codes.html", codes=codes)


@two_factor.route("/login/two-factor", methods=["GET", "POST"])
def login_step() -> Page:
    """The login's second step: a code of the authenticator app, a recovery code, or a passkey."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    pending = pending_login.current()
    if pending is None:
        flash("Log in again: the second step waits at most 5 minutes after the password.")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        network = limit_second_factor_attempts(pending.user)
        if verify_second_factor(pending.user, form.code.data or ""):
            pending_login.clear()
            finish_login(pending.user)
            return redirect(pending.next_url)
        second_factor_throttle.record_failure(pending.user, network)
        left = pending_login.record_failure()
        if not left:
            flash("Too many wrong codes. Log in again.")
            return redirect(url_for("accounts.login"))
        # A code is good once: the one that turned the app on, or that logged in a minute ago, is not.
        error = (
            f"That code does not match, or was used already: wait for your app's next code. "
            f"{left} {'try' if left == 1 else 'tries'} left."
        )
    status = 401 if error else (422 if request.method == "POST" else 200)
    return render_template(
        "two_factor/login_step.html",
        form=form,
        error=error,
        has_totp=totp.is_enabled(pending.user),
        has_passkeys=passkeys.count(pending.user) > 0,
    ), status


def show_new_codes(user: User) -> Response:
    """Make new recovery codes and send the browser to the page that shows them once."""
    session[FRESH_CODES] = recovery_codes.generate(user)
    return redirect(url_for("two_factor.recovery_codes_page"))


def limit_second_factor_attempts(user: User) -> str:
    """The network of this request; 429 when it gave too many wrong second factors for ``user``, or all
    networks together did (see :mod:`~conexoos.app.controllers.second_factor_throttle`)."""
    network = network_of(request.remote_addr or "")
    try:
        second_factor_throttle.refuse_if_throttled(user, network)
    except second_factor_throttle.SecondFactorThrottled as throttled:
        raise too_many_requests(throttled.retry_after, str(throttled)) from None
    return network


def _show_new_codes_if_needed(user: User) -> Response:
    if recovery_codes.remaining(user):
        return redirect(url_for("two_factor.settings"))
    return show_new_codes(user)


def _limit_confirmations(user: User) -> None:
    limit_password_checks(user)


def confirmed(form: ConfirmForm) -> bool:
    """Whether ``form`` was posted with the user's password or a current code (else its errors say why)."""
    if not form.validate_on_submit():
        return False
    _limit_confirmations(current_user)
    if confirm_identity(current_user, form.confirmation.data or ""):
        return True
    form.confirmation.errors = [CONFIRM_FAILED]
    return False


def _settings_with(form: ConfirmForm, name: str) -> tuple[str, int]:
    """The settings page again, with ``form``'s errors shown where it stands."""
    status = 401 if CONFIRM_FAILED in form.confirmation.errors else 422
    return _settings_page(**{name: form}), status


def _settings_page(**forms: FlaskForm) -> str:
    forms.setdefault("disable_form", ConfirmForm(prefix="disable"))
    forms.setdefault("regenerate_form", ConfirmForm(prefix="regenerate"))
    forms.setdefault("start_form", ConfirmForm(prefix="start"))
    return render_template(
        "two_factor/settings.html",
        totp_enabled=totp.is_enabled(current_user),
        codes_left=recovery_codes.remaining(current_user),
        passkey_count=passkeys.count(current_user),
        **forms,
    )
