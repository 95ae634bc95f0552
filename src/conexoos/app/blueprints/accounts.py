"""Sign up, log in, log out."""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Response

from conexoos.app.controllers import invites, login_throttle, pending_login, site_settings
from conexoos.app.controllers.accounts import SignupError, verify_password
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.controllers.signup import sign_up
from conexoos.app.controllers.user_sessions import forget_current_session, register_current_session
from conexoos.app.models.forms.accounts import LoginForm, SignupForm
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import enforce, too_many_requests
from conexoos.app.utils.redirects import safe_local_target
from conexoos.framework import db, end_session, regenerate_session, require_session_store

accounts = Blueprint("accounts", __name__)
LOGIN_FAILED = "Those details do not match an account."


@accounts.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response | tuple[str, int]:
    """Show the sign-up form; a valid POST goes to "check your inbox", whether the address was new (an
    account is made and a link mailed) or already had an account (its owner is mailed): the two answers
    are the same redirect, with no cookie set, so the form tells nobody which addresses have accounts. A
    taken or reserved username is reported (usernames are public)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    invite, refusal = _signup_allowed()
    if refusal is not None:
        return refusal
    form = SignupForm()
    if request.method == "POST":
        enforce("5/minute", "signup-ip", request.remote_addr or "")
        enforce("30/hour", "signup-ip-hour", request.remote_addr or "")
        require_session_store()  # no account is created for a visitor who could not be logged in
    if form.validate_on_submit():
        try:
            sign_up(form.email.data or "", form.username.data or "", form.password.data or "", invite)
        except invites.InviteError as error:
            return render_template("accounts/signup_closed.html", message=str(error)), 410
        except SignupError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            return redirect(url_for("accounts.signup_sent"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/signup.html", form=form, invite=invite), status


def _signup_allowed() -> tuple[str | None, tuple[str, int] | None]:
    """The invitation this sign-up uses (policy ``invite``), or the page refusing it: 403 when sign-up
    is closed, 403/410 without a usable invitation under ``invite``."""
    policy = site_settings.signup_policy()
    if policy == site_settings.CLOSED:
        message = "Sign-up is closed on this site. Ask its administrators for an account."
        return None, (render_template("accounts/signup_closed.html", message=message), 403)
    if policy != site_settings.INVITE:
        return None, None
    secret = request.args.get("invite", "")
    try:
        invites.usable(secret)
    except invites.InviteError as error:
        status = 403 if not secret else 410
        return None, (render_template("accounts/signup_closed.html", message=str(error)), status)
    return secret, None


@accounts.route("/signup/sent", methods=["GET"])
def signup_sent() -> str:
    """ "Check your inbox", then log in: the same page after every accepted sign-up."""
    return render_template("accounts/signup_sent.html")


@accounts.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the log-in form; on a valid POST log in and go to ``next`` when it is a path on this site (see
    :func:`safe_local_target`), else to the dashboard. Unknown user and wrong password read the same.

    Wrong passwords slow down the network they come from, for that account only (429, see
    :mod:`~conexoos.app.controllers.login_throttle`): the owner still logs in from another network."""
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = LoginForm()
    error = None
    if request.method == "POST":
        enforce("10/minute", "login-ip", request.remote_addr or "")
        require_session_store()
    if form.validate_on_submit():
        user = _attempt(form.login.data or "", form.password.data or "")
        if user is not None:
            if has_second_factor(user):  # the password alone is not enough: ask for the second factor
                pending_login.begin(user, _next_page())
                return redirect(url_for("two_factor.login_step"))
            _log_in(user)
            return redirect(_next_page())
        error = LOGIN_FAILED
    status = 401 if error else (422 if request.method == "POST" else 200)
    return render_template("accounts/login.html", form=form, error=error), status


def _attempt(login_text: str, password: str) -> User | None:
    """The user when the password is theirs and this network may try it; failures are counted."""
    user = User.get_by_login(login_text)
    network = network_of(request.remote_addr or "")
    try:
        login_throttle.refuse_if_throttled(login_text, user, network)
    except login_throttle.LoginThrottled as throttled:
        raise too_many_requests(throttled.retry_after, str(throttled)) from None
    if verify_password(user, password):
        return user
    login_throttle.record_failure(login_text, user, network)
    if user is not None and login_throttle.failed_login_alert_due(user):
        queue_mail_to_account(user.email, "failed_logins", user=user, network=network)
        db.session.commit()
    return None


@accounts.route("/logout", methods=["POST"])
def logout() -> Response:
    """Log out (POST only, CSRF-protected): the server-side session is deleted."""
    forget_current_session()
    logout_user()
    end_session()
    return redirect(url_for("public.home"))


@accounts.route("/logout", methods=["GET"])
def logout_by_get() -> NoReturn:
    """Refuse GET with 405: without this rule, ``/<username>`` would answer it with a 404."""
    raise MethodNotAllowed(
        valid_methods=["POST"], description="Log out with the Log out button (a POST form)."
    )


def _log_in(user: User) -> None:
    """Log ``user`` in on a session with a new id (kept server-side from now on) and a new CSRF secret:
    whoever planted the anonymous cookie before knows neither. The session is entered in the registry
    (Settings → Security), without which the user loader refuses it: every way of logging in (a second
    factor included) ends here."""
    regenerate_session()
    session.pop("csrf_token", None)
    login_user(user)
    user.last_login_at = utcnow()
    register_current_session(user)  # commits the registry row and the login time together


def _next_page() -> str:
    return safe_local_target(request.args.get("next")) or url_for("dashboard.index")
