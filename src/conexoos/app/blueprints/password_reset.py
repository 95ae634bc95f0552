"""Forgotten password: ask for a link by email or username, then set a new password through it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from conexoos.app.blueprints.form_rate_limits import PASSWORD_NOT_CHANGED, form_refused
from conexoos.app.blueprints.form_refill import first_to_fill
from conexoos.app.blueprints.link_pages import link_problem
from conexoos.app.blueprints.local_login import refuse_when_local_login_off
from conexoos.app.controllers.password_policy import password_problem
from conexoos.app.controllers.password_reset import request_reset, reset_password, user_for_reset
from conexoos.app.controllers.tokens import TokenError
from conexoos.app.models.forms.password_reset import ForgotPasswordForm, ResetPasswordForm
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.user import login_form
from conexoos.app.utils.network import network_of
from conexoos.app.utils.private_pages import secret_url

password_reset = Blueprint("password_reset", __name__, url_prefix="/password")
password_reset.before_request(refuse_when_local_login_off)  # no passwords of the site to reset then
TOO_MANY_LINKS = "Too many reset links were asked for with this email or username."


@password_reset.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a reset link; whether the account exists or not, the answer is the same redirect, after
    the same work (the link is mailed by a task: see ``controllers/password_reset``)."""
    form = ForgotPasswordForm()
    refused = None
    if request.method == "POST":
        network = request.remote_addr or ""
        refused = form_refused(("5/minute", "forgot-ip", network), ("20/hour", "forgot-ip-hour", network))
    if refused is None and form.validate_on_submit():
        login = form.login.data or ""
        limit = ("5/hour", "forgot-login", login_form(login))  # every spelling of an address is one
        refused = form_refused(limit, reason=TOO_MANY_LINKS)
        if refused is None:
            request_reset(login, network_of(request.remote_addr or ""))
            return redirect(url_for("password_reset.sent"))
    if refused is not None:  # no link is mailed: the form again, as typed
        page = render_template(
            "accounts/forgot.html", form=form, refusal=refused.message, focus=first_to_fill(form)
        )
        return page, 429, refused.headers
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/forgot.html", form=form), status


@password_reset.route("/forgot/sent", methods=["GET"])
def sent() -> str:
    """The same page for every request: a link is on its way if the account exists."""
    return render_template("accounts/forgot_sent.html")


@password_reset.route("/reset/<token>", methods=["GET", "POST"])
@secret_url
def reset(token: str) -> ResponseReturnValue:
    """The new-password form of a reset link (every problem of a sent one told at once); a link that cannot
    be used gets a page saying why."""
    if request.method == "POST":
        refused = form_refused(
            ("10/minute", "reset-ip", request.remote_addr or ""), consequence=PASSWORD_NOT_CHANGED
        )
        if refused is not None:  # before the link is read: its validity is not told at any rate
            form = ResetPasswordForm()
            focus = first_to_fill(form)
            page = render_template("accounts/reset.html", form=form, refusal=refused.message, focus=focus)
            return page, 429, refused.headers
    try:
        user = user_for_reset(token)
    except TokenError as error:
        return link_problem(error, "password_reset.forgot")
    form = ResetPasswordForm()
    if form.is_submitted() and _new_password_checked(form, user):
        try:
            reset_password(token, form.password.data or "")
        except TokenError as error:  # used by another tab meanwhile
            return link_problem(error, "password_reset.forgot")
        except ValueError as error:  # a password the policy refuses (see accounts.set_password)
            form.password.errors = [str(error)]
        else:
            flash("Your password was changed. Log in with the new one.")
            return redirect(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/reset.html", form=form), status


def _new_password_checked(form: ResetPasswordForm, user: User) -> bool:
    """Whether the sent form may set the password: its fields' own rules (the two passwords the same) and
    the password rules for ``user``, all in one round, each problem under its field."""
    valid = form.validate()
    if form.password.errors:
        return False
    problem = password_problem(form.password.data or "", user.username, user.email)
    if problem:
        form.password.errors.append(problem)
    return valid and problem is None
