"""Sign up, log in, log out."""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Response

from conexoos.app.blueprints.form_rate_limits import NOT_LOGGED_IN, form_refused
from conexoos.app.blueprints.form_refill import first_to_fill
from conexoos.app.blueprints.link_pages import link_problem
from conexoos.app.blueprints.local_login import refuse_when_local_login_off
from conexoos.app.blueprints.login_completion import finish_login, handle_external_login, next_page
from conexoos.app.controllers import (
    invites,
    login_throttle,
    mail,
    maintenance,
    password_logins,
    pending_link,
    pending_login,
    pending_signups,
    site_settings,
)
from conexoos.app.controllers.accounts import SignupError
from conexoos.app.controllers.external_logins import keep_invite
from conexoos.app.controllers.login_session import (
    forget_provider,
    keep_provider_logout,
    provider_logout,
    take_provider_logout,
)
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.controllers.signup import sign_up, signup_problems
from conexoos.app.controllers.tokens import TokenError
from conexoos.app.controllers.user_sessions import forget_current_session
from conexoos.app.models.forms.accounts import LoginForm, SignupForm
from conexoos.app.models.forms.email import ConfirmForm
from conexoos.app.models.persistent import User
from conexoos.app.utils.network import network_of
from conexoos.app.utils.private_pages import secret_url
from conexoos.app.utils.rate_limit import enforce, too_many_requests
from conexoos.app.utils.redirects import safe_local_target
from conexoos.framework import end_session, require_session_store, wants_json
from conexoos.framework.logins import ExternalIdentity, LoginFailed, logins

accounts = Blueprint("accounts", __name__)
LOGIN_FAILED = "Those details do not match an account."


@accounts.route("/signup", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    """Show the sign-up form; a valid POST goes to "check your inbox", whether the address was new (an
    account is made and a link mailed; under ``VERIFY_EMAIL: required`` only a pending sign-up, see
    :func:`confirm_signup`) or already had an account (its owner is mailed): the two answers
    are the same redirect, with no cookie set, so the form tells nobody which addresses have accounts. A
    taken or reserved username is reported (usernames are public), with every other problem of the form in
    the same answer (see :func:`_signup_checked`). With local login off: 404, a page saying how to log in."""
    if request.method == "GET" and not current_user.is_authenticated:
        _keep_a_valid_invite()
    if (refused := refuse_when_local_login_off()) is not None:
        return refused
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    maintenance.refuse_signup()
    invite, refusal = _signup_allowed()
    if refusal is not None:
        return refusal
    form = SignupForm()
    if request.method == "POST":
        network = request.remote_addr or ""
        limited = form_refused(("5/minute", "signup-ip", network), ("30/hour", "signup-ip-hour", network))
        if limited is not None:  # nothing is done: the form again, as typed
            return _signup_page(form, invite, limited.message), 429, limited.headers
        require_session_store()  # no account is created for a visitor who could not be logged in
    if form.is_submitted() and _signup_checked(form):
        try:
            sign_up(form.email.data or "", form.username.data or "", form.password.data or "", invite)
        except invites.InviteError as error:
            return render_template("accounts/signup_closed.html", message=str(error)), 410
        except SignupError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            return redirect(url_for("accounts.signup_sent"))
    status = 422 if request.method == "POST" else 200
    return _signup_page(form, invite), status


def _signup_checked(form: SignupForm) -> bool:
    """Whether the sent form may make an account: its fields' own rules, and the username and password
    rules of :func:`signup_problems` for the fields those passed, all in one round (each problem under its
    field, not the next one after each send)."""
    valid = form.validate()
    username = None if form.username.errors else form.username.data or ""
    password = None if form.password.errors else form.password.data or ""
    problems = signup_problems(form.email.data or "", username, password)
    for problem in problems:
        getattr(form, problem.field).errors.append(problem.message)
    return valid and not problems


def _signup_page(form: SignupForm, invite: str | None, refusal: str | None = None) -> str:
    focus = first_to_fill(form) if refusal else None  # the form again after a refusal at its top
    return render_template("accounts/signup.html", form=form, invite=invite, refusal=refusal, focus=focus)


CLOSED_MESSAGE = (
    "Sign-up is closed on this site: only people its administrators invite may join. "
    "Ask them for an invitation link."
)


def _signup_allowed() -> tuple[str | None, tuple[str, int] | None]:
    """The invitation this sign-up uses (policy ``invite`` or ``closed``), or the page refusing it: 403
    without an invitation, 410 with one that cannot be used."""
    policy = site_settings.signup_policy()
    if policy == site_settings.OPEN:
        return None, None
    secret = request.args.get("invite", "")
    try:
        invites.usable(secret)
    except invites.InviteError as error:
        message = CLOSED_MESSAGE if policy == site_settings.CLOSED and not secret else str(error)
        status = 403 if not secret else 410
        return None, (render_template("accounts/signup_closed.html", message=message), status)
    return secret, None


def _keep_a_valid_invite() -> None:
    """Under ``invite``, keep a valid invitation of the URL in the session: a first sign-in at a provider
    in this browser may make the account with it (also when the site has no sign-up form)."""
    secret = request.args.get("invite", "")
    if site_settings.signup_policy() != site_settings.INVITE or not secret:
        return
    try:
        invites.usable(secret)
    except invites.InviteError:
        return  # the sign-up page says why
    keep_invite(secret)


@accounts.route("/signup/sent", methods=["GET"])
def signup_sent() -> str:
    """ "Check your inbox", then log in: the same page after every accepted sign-up."""
    required = current_app.config["CONEXOOS_ACCOUNTS"].verification_required
    return render_template(
        "accounts/signup_sent.html", confirmation_required=required, mail_folder=mail.mail_folder()
    )


@accounts.route("/signup/confirm/<token>", methods=["GET", "POST"])
@secret_url
def confirm_signup(token: str) -> ResponseReturnValue:
    """The link of a pending sign-up (``VERIFY_EMAIL: required``): a button makes the account, its address
    verified (a link scanner's GET makes nothing); a link that cannot be used gets a page saying why.
    Refused like sign-up itself during maintenance."""
    if request.method == "POST":
        enforce("10/minute", "signup-confirm-ip", request.remote_addr or "")
        maintenance.refuse_signup()
    try:
        row = pending_signups.pending(token)
        form = ConfirmForm()
        if form.validate_on_submit():
            user = pending_signups.confirm(token)
            return render_template("accounts/signup_confirmed.html", user=user)
    except TokenError as error:
        return link_problem(error, "accounts.signup")
    return render_template("accounts/confirm_signup.html", form=form, pending=row)


@accounts.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the log-in form (and a button per identity provider); on a valid POST try the site's own
    password and each directory of ``LOGINS`` in order (see :mod:`~conexoos.app.controllers.password_logins`),
    log in and go to ``next`` when it is a path on this site (see :func:`safe_local_target`), else to the
    dashboard. Unknown user and wrong password read the same; a directory that cannot be asked, when no
    other backend accepted, answers 503 with a sentence saying so.

    Wrong passwords slow down the network they come from, for that account only (429, see
    :mod:`~conexoos.app.controllers.login_throttle`): the owner still logs in from another network."""
    if current_user.is_authenticated:
        return redirect(next_page())
    form = LoginForm()
    error, status = None, 200
    if request.method == "POST":
        if not _has_password_form():
            raise NotFound("This site has no password login: use one of the sign-in buttons.")
        limited = form_refused(
            ("10/minute", "login-ip", request.remote_addr or ""), consequence=NOT_LOGGED_IN
        )
        if limited is not None:  # nothing is tried: the form again, as typed
            return _login_page(form, limited.message), 429, limited.headers
        require_session_store()
        status = 422
    if form.validate_on_submit():
        try:
            found = _attempt(form.login.data or "", form.password.data or "")
        except LoginFailed as refused:  # a directory that cannot be asked (503), or that refused (4xx)
            error, status = refused.message, refused.status
        except login_throttle.LoginThrottled as throttled:  # nothing was tried: the form again, as typed
            return _login_page(form, str(throttled)), 429, {"Retry-After": str(throttled.retry_after)}
        else:
            if isinstance(found, ExternalIdentity):
                return handle_external_login(found)
            if found is not None:
                return _password_login(found)
            error, status = LOGIN_FAILED, 401
    return _login_page(form, error), status


def _attempt(login_text: str, password: str) -> User | ExternalIdentity | None:
    """What the password is right for (see :func:`password_logins.check`); when throttled, 429 for a JSON
    client, :class:`~.login_throttle.LoginThrottled` for the form's page."""
    try:
        return password_logins.check(login_text, password, network_of(request.remote_addr or ""))
    except login_throttle.LoginThrottled as throttled:
        if wants_json():
            raise too_many_requests(throttled.retry_after, str(throttled)) from None
        raise


def _password_login(user: User) -> Response:
    """Log ``user`` in, or begin the second step when the password alone is not enough."""
    forget_provider()
    if has_second_factor(user):
        pending_login.begin(user, next_page())
        return redirect(url_for("two_factor.login_step"))
    finish_login(user)
    return redirect(next_page())


def _has_password_form() -> bool:
    return logins().local_enabled or bool(logins().password_backends())


def _login_page(form: LoginForm, error: str | None) -> str:
    registry = logins()
    return render_template(
        "accounts/login.html",
        form=form,
        error=error,
        focus=first_to_fill(form) if error else None,  # the form again after a refusal at its top
        password_form=_has_password_form(),
        local_enabled=registry.local_enabled,
        buttons=[(button.label, _with_next(button.url)) for button in registry.buttons()],
        waiting_link=pending_link.current(),
    )


def _with_next(url: str) -> str:
    """A provider button's URL carrying this page's ``next`` (when it is a path on this site)."""
    target = safe_local_target(request.args.get("next"))
    if not target:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': target})}"


@accounts.route("/logout", methods=["POST"])
def logout() -> Response:
    """Log out (POST only, CSRF-protected): the server-side session is deleted. After a sign-in through an
    identity provider that offers logout, the browser goes on to log out there too (and comes back home),
    through :func:`leaving`: the CSP's ``form-action 'self'`` blocks a form's redirect to another site."""
    leaving = provider_logout()
    forget_current_session()
    logout_user()
    end_session()
    if leaving is None:
        return redirect(url_for("public.home"))
    keep_provider_logout(leaving)  # in the new anonymous session, never read from the query
    return redirect(url_for("accounts.leaving"), 303)


@accounts.route("/logout/provider", methods=["GET"])
def leaving() -> ResponseReturnValue:
    """ "Logging you out at <provider>": the page moves on to the provider's logout by itself (a
    ``<meta http-equiv="refresh">``, no JavaScript) and links to it. Without a logout kept by the
    POST just before: home."""
    kept = take_provider_logout()
    if kept is None:
        return redirect(url_for("public.home"))
    response = make_response(render_template("accounts/leaving.html", leaving=kept))
    response.headers["Cache-Control"] = "no-store"
    return response


@accounts.route("/logout", methods=["GET"])
def logout_by_get() -> NoReturn:
    """Refuse GET with 405: without this rule, ``/<username>`` would answer it with a 404."""
    raise MethodNotAllowed(
        valid_methods=["POST"], description="Log out with the Log out button (a POST form)."
    )
