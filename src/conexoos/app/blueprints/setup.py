"""``/setup``: the first administrator of a new site (see controllers/setup.py for who may open it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.wrappers import Response

from conexoos.app.controllers import setup as setup_controller
from conexoos.app.controllers.site_settings import SettingError
from conexoos.app.models.forms.setup import SetupForm
from conexoos.app.models.forms.setup_site import SiteSetupForm
from conexoos.framework import db
from conexoos.framework.causes import one_line_cause
from conexoos.framework.http_errors import NOT_FOUND_MESSAGE
from conexoos.framework.lazy import lazy_module
from conexoos.framework.logins import logins

if TYPE_CHECKING:
    from conexoos.app.controllers import accounts
else:  # at its first setup: every worker loads this blueprint (its hook)
    accounts = lazy_module("conexoos.app.controllers.accounts")

setup_blueprint = Blueprint("setup", __name__)
log = logging.getLogger("conexoos.setup")
_announced: dict[str, bool] = {"done": False}
NOT_LOCAL = (
    "Open this page with the one-time setup link that the command conexoos setup-token prints on the server."
)


@setup_blueprint.before_app_request
def _announce_once() -> None:
    """At the first request of the process, say in the log that setup is pending and how to open it."""
    if _announced["done"]:
        return
    _announced["done"] = True
    try:
        pending = setup_controller.available()
    except SQLAlchemyError as error:  # tables not made yet, or the database is down: the page says so
        db.session.rollback()  # the request goes on with a usable session
        log.warning("could not tell whether setup is pending: %s", one_line_cause(error))
        return
    if pending:
        setup_controller.log_pending(force=True)


def refuse_spent_setup() -> None:
    """``before_request`` hook, registered before CSRF (server/middleware.py): ``/setup`` is a 404 once
    setup ran or an administrator exists, to a POST as to a GET. After the CSRF check, a POST without a
    valid token was a 400, which told that the page is there."""
    if request.endpoint == "setup.page" and not setup_controller.available():
        raise NotFound(NOT_FOUND_MESSAGE)


@setup_blueprint.route("/setup", methods=["GET", "POST"])
def page() -> str | Response | tuple[str, int]:
    """The setup form (a 404 once it is spent: :func:`refuse_spent_setup`); 403 from another machine
    without a valid token (the log then says how to get a link); on success, on to the log-in page."""
    token = request.values.get("token", "")
    local = setup_controller.trusts_local_requests() and setup_controller.is_local(
        request.remote_addr, request.headers, request.environ
    )
    if not local and not setup_controller.token_valid(token):
        setup_controller.log_pending()
        raise Forbidden(_not_local())
    form = SetupForm()
    if not logins().local_enabled:
        return _without_local_login(token)
    form.token.data = token
    if form.validate_on_submit():
        try:
            admin = setup_controller.complete(
                form.site_name.data or "",
                form.email.data or "",
                form.username.data or "",
                form.password.data or "",
                form.signup_policy.data or "",
            )
        except setup_controller.SetupUnavailable:
            raise NotFound(NOT_FOUND_MESSAGE) from None
        except accounts.SignupError as error:
            getattr(form, error.field).errors.append(error.message)
        except SettingError as error:
            getattr(form, error.key).errors.append(error.message)
        else:
            flash(f"Your site is set up. Log in as {admin.username} to open the admin panel.")
            return redirect(url_for("accounts.login", next=url_for("admin.overview")))
    status = 422 if request.method == "POST" else 200
    return render_template("setup/page.html", form=form), status


def _not_local() -> str:
    """Why the page is refused, and the ways that open it here (the local one under DEV only)."""
    local = setup_controller.local_setup_url()
    if local is None:
        return NOT_LOCAL
    return f"{NOT_LOCAL[:-1]}; on this development server, {local} opens it from the server itself."


def _without_local_login(token: str) -> tuple[str, int]:
    """Setup of a site without its own password login: name and sign-up policy, and how the operator
    makes the first administrator (``conexoos user set-role``); the page stays until one exists."""
    form = SiteSetupForm()
    form.token.data = token
    saved = False
    if form.validate_on_submit():
        try:
            setup_controller.store_site(form.site_name.data or "", form.signup_policy.data or "")
        except setup_controller.SetupUnavailable:
            raise NotFound(NOT_FOUND_MESSAGE) from None
        except SettingError as error:
            getattr(form, error.key).errors.append(error.message)
        else:
            saved = True
    status = 422 if request.method == "POST" and not saved else 200
    page = render_template(
        "setup/without_local_login.html",
        form=form,
        saved=saved,
        command=setup_controller.SET_ROLE,
        providers=[button.label for button in logins().buttons()],
    )
    return page, status
