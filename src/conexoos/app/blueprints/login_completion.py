"""The last step of every login, and the product's answer to a completed external sign-in.

:func:`handle_external_login` is registered with ``logins().on_login`` (``server/web.py``): OpenID Connect
and SAML call it from their callback routes, the login form calls it for a directory (LDAP) sign-in.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user

from conexoos.app.controllers import external_logins, pending_login, provider_labels
from conexoos.app.controllers.login_session import log_in, remember_provider
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.controllers.user_sessions import forget_current_session
from conexoos.app.models.persistent import User
from conexoos.app.utils.redirects import safe_local_target
from conexoos.framework import db, require_session_store
from conexoos.framework.logins import ExternalIdentity, LoginFailed
from conexoos.framework.logins.pages import render_login_failure

LOGIN_NEXT = "login_next"
"""``flask.g`` key where redirect backends (OpenID Connect) put the ``?next=`` their login started with."""


def finish_login(user: User) -> None:
    """Log ``user`` in (see :func:`~conexoos.app.controllers.login_session.log_in`) and tell them when a
    waiting sign-in was linked to their account on the way."""
    linked = log_in(user)
    if linked is not None:
        flash(
            f"Your {linked.label} sign-in ({linked.email}) is now linked to your account: "
            "next time you can log in with it."
        )


def next_page() -> str:
    """Where a login goes: the page it was started for when that is a path on this site (``?next=``, or
    what a redirect backend kept through the provider, ``g.login_next``), else the dashboard."""
    kept = g.get(LOGIN_NEXT) if isinstance(g.get(LOGIN_NEXT), str) else None
    return safe_local_target(kept or request.args.get("next")) or url_for("dashboard.index")


def handle_external_login(identity: ExternalIdentity) -> ResponseReturnValue:
    """Log the person ``identity`` names in (its account found, linked or made, see
    :func:`~conexoos.app.controllers.external_logins.resolve`), through the second step when
    ``APP.ACCOUNTS.SSO_SECOND_FACTOR`` is ``ask``; or ask them to log in locally once to link it; or say
    why not (a page with a 4xx, nothing saved)."""
    require_session_store()
    if current_user.is_authenticated:  # a new sign-in replaces the session's login
        forget_current_session()
        logout_user()
    try:
        result = external_logins.resolve(identity)
    except external_logins.ExternalLoginRefused as refused:
        db.session.rollback()  # nothing half-made
        return render_login_failure(LoginFailed(refused.message, status=refused.status))
    if isinstance(result, external_logins.LinkAsked):  # the login page says what to do
        return redirect(url_for("accounts.login"))
    user = result.user
    pending_login.clear()
    remember_provider(user, identity)
    asks = current_app.config["CONEXOOS_ACCOUNTS"].sso_asks_second_factor or result.second_factor_first
    if asks and has_second_factor(user):
        pending_login.begin(user, next_page())  # commits the identity's last use and role with its row
        return redirect(url_for("two_factor.login_step"))
    finish_login(user)
    _tell(result, identity)
    return redirect(next_page())


def _tell(result: external_logins.Resolved, identity: ExternalIdentity) -> None:
    label = provider_labels.provider_label(identity.backend, identity.provider)
    yours = provider_labels.your_sign_in(label)
    if result.created:
        flash(f"Welcome! Your account {result.user.username} was made from {yours}.")
    elif result.linked:
        flash(f"{yours[0].upper()}{yours[1:]} is now linked to your account {result.user.username}.")
