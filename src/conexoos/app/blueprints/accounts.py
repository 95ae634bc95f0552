"""Sign up, log in, log out."""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Response

from conexoos.app.controllers.accounts import SignupError, authenticate, create_account
from conexoos.app.models.forms.accounts import LoginForm, SignupForm
from conexoos.app.models.persistent import User
from conexoos.app.utils.rate_limit import enforce
from conexoos.app.utils.redirects import safe_local_target
from conexoos.framework import end_session, regenerate_session, require_session_store

accounts = Blueprint("accounts", __name__)
LOGIN_FAILED = "Those details do not match an account."


@accounts.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response | tuple[str, int]:
    """Show the sign-up form; on a valid POST create the account and log it in."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignupForm()
    if request.method == "POST":
        enforce("5/minute", "signup-ip", request.remote_addr or "")
        enforce("30/hour", "signup-ip-hour", request.remote_addr or "")
        require_session_store()  # no account is created for a visitor who could not be logged in
    if form.validate_on_submit():
        try:
            user = create_account(form.email.data or "", form.username.data or "", form.password.data or "")
        except SignupError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            _log_in(user)
            return redirect(url_for("dashboard.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/signup.html", form=form), status


@accounts.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the log-in form; on a valid POST log in and go to ``next`` when it is a path on this site (see
    :func:`safe_local_target`), else to the dashboard. Unknown user and wrong password read the same."""
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = LoginForm()
    error = None
    if request.method == "POST":
        enforce("10/minute", "login-ip", request.remote_addr or "")
        enforce("5/minute", "login-account", (request.form.get("login") or "").strip().lower())
        require_session_store()
    if form.validate_on_submit():
        user = authenticate(form.login.data or "", form.password.data or "")
        if user is not None:
            _log_in(user)
            return redirect(_next_page())
        error = LOGIN_FAILED
    status = 401 if error else (422 if request.method == "POST" else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@accounts.route("/logout", methods=["POST"])
def logout() -> Response:
    """Log out (POST only, CSRF-protected): the server-side session is deleted."""
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
    whoever planted the anonymous cookie before knows neither."""
    regenerate_session()
    session.pop("csrf_token", None)
    login_user(user)


def _next_page() -> str:
    return safe_local_target(request.args.get("next")) or url_for("dashboard.index")
