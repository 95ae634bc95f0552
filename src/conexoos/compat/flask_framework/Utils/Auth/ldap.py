"""flask-framework's ``LDAP`` login views on Conexoos's LDAP backend (``LOGINS.ldap`` or ``LOGINS: LDAP``).

The form, the flashes, the redirects and the ``LDAP_*`` keys of ``FLASK.CONFIG`` (``LDAP_LOGIN_TEMPLATE``,
``LDAP_LOGIN_VIEW``, ``LDAP_SUCCESS_REDIRECT``) behave as in flask-framework; the password is checked by
Conexoos's LDAP backend, and the signed-in person is kept in the session as an :class:`LDAPUser`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from conexoos.compat.missing import module_getattr
from conexoos.compat.users import SessionUser, ensure_login_manager, kept_user, sign_in, sign_out
from conexoos.framework.logins.base import LoginUnavailable

DEFAULTS = {
    "LDAP_LOGIN_VIEW": "login",
    "LDAP_LOGOUT_VIEW": None,
    "LDAP_LOGIN_TEMPLATE": "login.html",
    "LDAP_SUCCESS_REDIRECT": "index",
}


class LDAPForm(FlaskForm):
    """The login form: username, password, submit (with Flask-WTF's CSRF token)."""

    username = StringField("username", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])
    submit = SubmitField()


LDAPUser = SessionUser
User = SessionUser


class LDAP:
    """flask-framework's LDAP login: ``LDAP(app)``, then the ``login``/``logout`` views."""

    def __init__(self, app: Flask | None = None) -> None:
        self.app = app
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set the ``LDAP_*`` defaults and a login manager restoring the person from the session."""
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        self.login_func = app.config["LDAP_LOGIN_VIEW"]
        ensure_login_manager(app, app.config["LDAP_LOGIN_VIEW"])

    @staticmethod
    def user_loader(user_id: str) -> SessionUser | None:
        """The person kept in the session, when the id is theirs."""
        return kept_user(user_id)

    @staticmethod
    def ldap_login(username: str, pwd: str) -> bool:
        """Check the password with the LDAP backend; sign the person in (True) or flash why not (False)."""
        backends = [backend for backend in _registry().password_backends() if backend.name == "ldap"]
        if not backends:
            raise RuntimeError("LDAP login: LOGINS has no ldap backend; add LOGINS: LDAP or LOGINS.ldap")
        try:
            identity = backends[0].authenticate(username, pwd)
        except LoginUnavailable as error:
            flash(str(error), "error")
            return False
        if identity is None:
            flash("Invalid credentials", "error")
            return False
        return sign_in(identity)

    @staticmethod
    def login(admin_template: str | None = None) -> ResponseReturnValue:
        """The login view: the form, then the redirect to ``next`` or ``LDAP_SUCCESS_REDIRECT``."""
        form = LDAPForm()
        template = admin_template or current_app.config["LDAP_LOGIN_TEMPLATE"]
        if form.validate_on_submit():
            if LDAP.ldap_login(str(form.username.data), str(form.password.data)):
                flash("Logged in successfully.")
                return redirect(safe_next(request.args.get("next")) or _success_url())
            return render_template(template, form=form)
        if current_user.is_authenticated:
            flash(f"You are already logged in as {getattr(current_user, 'mail', '')}")
            return redirect(_success_url())
        return render_template(template, form=form)

    @staticmethod
    @login_required
    def logout(admin_template: str | None = None) -> ResponseReturnValue:
        """Sign out, then back to the login view."""
        sign_out()
        flash("logged out")
        return redirect(url_for(admin_template or current_app.config["LDAP_LOGIN_VIEW"]))


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/...``), else None: never a redirect elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return None
    return target


def _success_url() -> str:
    return url_for(current_app.config["LDAP_SUCCESS_REDIRECT"])


def _registry() -> Any:
    return current_app.extensions["conexoos"].logins


__getattr__ = module_getattr(
    "flask_framework.Utils.Auth.ldap",
    {
        "FIELDS": "LOGINS.ldap (USERNAME_ATTRIBUTE, EMAIL_ATTRIBUTE, NAME_ATTRIBUTE)",
        "LDAP_ATTRIBUTE_MAP": "LOGINS.ldap (EMAIL_ATTRIBUTE, NAME_ATTRIBUTE)",
    },
)
