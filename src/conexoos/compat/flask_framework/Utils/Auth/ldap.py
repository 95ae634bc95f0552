"""flask-framework's ``LDAP`` login views on Conexoos's LDAP backend (``LOGINS.ldap`` or ``LOGINS: LDAP``).

The form, the flashes, the redirects and the ``LDAP_*`` keys of ``FLASK.CONFIG`` (``LDAP_LOGIN_TEMPLATE``,
``LDAP_LOGIN_VIEW``, ``LDAP_SUCCESS_REDIRECT``) behave as in flask-framework; the password is checked by
Conexoos's LDAP backend, and the signed-in person is kept in the session as an :class:`LDAPUser`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from conexoos.compat.missing import module_getattr
from conexoos.compat.runtime import state
from conexoos.framework.logins.base import ExternalIdentity, LoginUnavailable

SESSION_KEY = "flask_framework_ldap_user"
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


class LDAPUser:
    """The signed-in person: the directory's attributes (``mail``, ``uid``, ``cn``...) as attributes."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        for key, value in attrs.items():
            setattr(self, key, value)

    def get_id(self) -> str:
        """Flask-Login's id: the mail address, as in flask-framework."""
        return str(getattr(self, "mail", ""))

    is_active = True
    is_authenticated = True
    is_anonymous = False

    def __repr__(self) -> str:
        return f"LDAPUser({self.get_id()!r})"


User = LDAPUser


def attributes(identity: ExternalIdentity) -> dict[str, Any]:
    """flask-framework's attribute names for what the directory said about the person."""
    return {
        "mail": identity.email or "",
        "sAMAccountName": identity.username,
        "uid": identity.username,
        "cn": identity.name or identity.username,
        "displayName": identity.name or identity.username,
        "distinguishedName": identity.subject,
        "is_admin": bool(identity.admin),
    }


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
        if not isinstance(getattr(app, "login_manager", None), LoginManager):
            manager = LoginManager(app)
            manager.user_loader(LDAP.user_loader)
            manager.login_view = app.config["LDAP_LOGIN_VIEW"]
            state(app).login_manager = manager

    @staticmethod
    def user_loader(user_id: str) -> LDAPUser | None:
        """The person kept in the session, when the id is theirs."""
        kept = session.get(SESSION_KEY)
        return LDAPUser(kept) if isinstance(kept, dict) and kept.get("mail") == user_id else None

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
        user = LDAPUser(attributes(identity))
        session[SESSION_KEY] = dict(vars(user))
        return bool(login_user(user))

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
        logout_user()
        session.pop(SESSION_KEY, None)
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
