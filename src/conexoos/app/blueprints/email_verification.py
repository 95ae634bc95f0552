"""The account's email address: the link that verifies it, Settings → Email (resend, change), and the
old address's "this wasn't me" link that undoes a change."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from conexoos.app.blueprints.form_rate_limits import form_refused
from conexoos.app.blueprints.link_pages import link_problem
from conexoos.app.blueprints.password_checks import password_check_refused
from conexoos.app.controllers import email_addresses, email_change_undo
from conexoos.app.controllers.tokens import TokenError
from conexoos.app.models.forms.email import ConfirmForm, EmailChangeForm
from conexoos.app.server.errorhandler import csrf_failed
from conexoos.app.utils.private_pages import secret_url
from conexoos.app.utils.rate_limit import enforce
from conexoos.framework import wants_json
from conexoos.framework.csrf import is_referrer_refusal
from conexoos.framework.mail.message import MailError

email = Blueprint("email", __name__)
CHANGE_SENT = (
    "We sent a link to the new address. Your address changes when you follow it (within 24 hours); "
    "until then you keep using the current one."
)


@email.route("/verify/<token>", methods=["GET", "POST"])
@secret_url
def verify(token: str) -> str | tuple[str, int]:
    """Verify the address a link was mailed to, with a button: a mail filter that opens every link (a GET)
    verifies nothing, or whoever signed up with another person's address would have it verified by that
    person's mail filter (and, with SSO_LINK_BY_EMAIL, their later single sign-on joined to that account).
    Following the link again once verified says so (harmless)."""
    try:
        user = email_addresses.verification_request(token)
        form = ConfirmForm()
        if not user.email_verified and not form.validate_on_submit():
            return render_template("accounts/confirm_email.html", form=form, user=user)
        user = email_addresses.verify_email(token)
    except TokenError as error:
        return link_problem(error, "email.settings")
    return render_template("accounts/email_verified.html", user=user)


LINK_PAGES = ("email.verify", "email.confirm_change", "email.undo_change")
"""The pages a mailed link opens, whose button confirms: the link's own token is what proves the mailbox."""


@email.errorhandler(CSRFError)
def expired(error: CSRFError) -> ResponseReturnValue:
    """A mailed link's button pressed on a page whose security token no longer holds (the visitor's session
    ended while the page was open, or they logged in or out in another tab): the link's page again (a
    400: nothing was done), with a fresh token and a word; the generic 400 told them to log in, which
    was no help. JSON, a Referer refusal, and any other form: the generic 400."""
    if request.endpoint not in LINK_PAGES or wants_json() or is_referrer_refusal(error.description):
        return csrf_failed(error)
    g.link_page_expired = True  # its page says so (accounts/_link_page_expired.html)
    page = make_response(current_app.view_functions[request.endpoint](**(request.view_args or {})))
    if page.status_code != 200:  # the link itself cannot be used: the token's refusal says why it was refused
        return csrf_failed(error)
    page.status_code = 400  # nothing was done
    return page


@email.route("/settings/email", methods=["GET", "POST"])
@login_required
def settings() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Current address, its verified flag, "resend", and the change form (needs the current password)."""
    form = EmailChangeForm()
    if form.validate_on_submit():
        refused = password_check_refused(current_user)  # after the form's own checks: they cost none
        if refused is not None:
            form.password.errors = [str(refused.description)]
            return _page(form), 429, {"Retry-After": str(refused.retry_after)}
        try:
            email_addresses.request_email_change(
                current_user, form.password.data or "", form.email.data or ""
            )
        except email_addresses.EmailChangeError as error:
            getattr(form, error.field).errors = [error.message]
        else:
            flash(CHANGE_SENT)
            return redirect(url_for("email.settings"))
    status = 422 if request.method == "POST" else 200
    return _page(form), status


def _page(form: EmailChangeForm) -> str:
    return render_template("dashboard/email.html", form=form, resend=ConfirmForm())


@email.route("/settings/email/resend", methods=["POST"])
@login_required
def resend() -> Response:
    """Mail the verification link again (at most 3 an hour: past that, the email settings again saying so
    and when to try again; a JSON client gets the 429 of :func:`enforce`)."""
    if ConfirmForm().validate_on_submit():
        limit = ("3/hour", "verify-resend", str(current_user.id))
        refused = form_refused(
            limit, reason="A new link can be sent 3 times an hour:", consequence="none was sent."
        )
        if refused is not None:
            flash(refused.message)
            return redirect(url_for("email.settings"))
        try:
            email_addresses.resend_verification(current_user)
        except MailError:  # an address stored before such addresses were refused
            flash(
                f"{current_user.email} cannot be mailed: change your address below, then verify the new one."
            )
        else:
            flash(f"We sent a new link to {current_user.email}.")
    return redirect(url_for("email.settings"))


@email.route("/settings/email/confirm/<token>", methods=["GET", "POST"])
@secret_url
def confirm_change(token: str) -> str | Response | tuple[str, int]:
    """Confirm a change of address with a button (a link scanner's GET changes nothing)."""
    try:
        user, new_email = email_addresses.change_request(token)
    except email_addresses.ChangeDone as done:
        return _change_done(done)
    except TokenError as error:
        return link_problem(error, "email.settings")
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            email_addresses.confirm_email_change(token)
        except TokenError as error:
            return link_problem(error, "email.settings")
        return _changed(user.id, new_email)
    return render_template("accounts/confirm_email_change.html", form=form, user=user, new_email=new_email)


def _changed(owner_id: int, new_email: str) -> Response:
    """Where a confirmed change goes on: the owner (or a visitor not logged in) is told the address is
    theirs now; someone logged in to another account (the link is a bearer link: it works for whoever
    holds it) is told, without the account's name or old address, that it was confirmed for the account
    that asked, on their dashboard rather than on their own email settings."""
    if current_user.is_authenticated and current_user.id != owner_id:
        flash(f"The address {new_email} is confirmed for the account that asked for it.")
        return redirect(url_for("dashboard.index"))
    flash(f"Your email address is now {new_email}.")
    return redirect(url_for("email.settings" if current_user.is_authenticated else "accounts.login"))


def _change_done(done: email_addresses.ChangeDone) -> tuple[str, int]:
    """A used change link whose change is done (410, as any used link): it says so, and names the address
    only to the account's owner, logged in: the link may have been forwarded."""
    owner = current_user.is_authenticated and current_user.id == done.user.id
    message = f"This link was already used: your address is now {done.user.email}." if owner else str(done)
    return render_template("accounts/email_change_done.html", message=message, owner=owner), 410


@email.route("/settings/email/undo/<token>", methods=["GET", "POST"])
@secret_url
def undo_change(token: str) -> str | tuple[str, int]:
    """Undo a change of address from the old address's notice, with a button (a GET changes nothing)."""
    if request.method == "POST":
        enforce("5/minute", "email-undo-ip", request.remote_addr or "")
    try:
        user, old_email = email_change_undo.undo_request(token)
        form = ConfirmForm()
        if form.validate_on_submit():
            email_change_undo.undo_email_change(token)
            return render_template("accounts/email_change_undone.html", email=old_email)
    except TokenError as error:
        # No new undo link can be asked for: the way on is a password reset to the address the account has.
        page, status = link_problem(error, "password_reset.forgot", "Forgot your password?")
        return page, 409 if isinstance(error, email_change_undo.AddressTaken) else status
    return render_template("accounts/undo_email_change.html", form=form, user=user, old_email=old_email)
