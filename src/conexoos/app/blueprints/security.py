"""Settings → Security: change the password, see the logged-in sessions and end them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from conexoos.app.blueprints.password_checks import password_check_refused
from conexoos.app.controllers.accounts import PasswordRejected, change_password, new_password_problem
from conexoos.app.controllers.user_sessions import (
    end_session_of,
    end_sessions,
    is_current,
    rotate_current_session,
    sessions_of,
)
from conexoos.app.models.forms.accounts import ChangePasswordForm
from conexoos.framework import end_session
from conexoos.framework.wording import counted

security = Blueprint("security", __name__, url_prefix="/settings/security")


@security.route("", methods=["GET"])
@login_required
def index() -> str:
    """The password form and the list of sessions."""
    return _page(ChangePasswordForm())


@security.route("/password", methods=["POST"])
@login_required
def password() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Change the password (the current one is needed); every other session ends at once, this one goes
    on under a new id. A refused password is a 422 saying why."""
    form = ChangePasswordForm()
    if not _change_checked(form):  # refused before a check is spent
        return _page(form), 422
    current, new = form.current_password.data or "", form.new_password.data or ""
    refused = password_check_refused(current_user)
    if refused is not None:
        form.current_password.errors.append(str(refused.description))
        return _page(form), 429, {"Retry-After": str(refused.retry_after)}
    try:
        change_password(current_user, current, new)
    except PasswordRejected as error:
        getattr(form, error.field).errors.append(error.message)
        return _page(form), 422
    rotate_current_session()
    flash("Password changed. Every other session is logged out.")
    return redirect(url_for("security.index"))


@security.route("/sessions/<id:session_id>/end", methods=["POST"])
@login_required
def end_one(session_id: int) -> Response:
    """Log one of the user's sessions out; ending this very session logs out here. 404 when the session
    is not one of the user's (or already ended)."""
    current = is_current(session_id)
    if not end_session_of(current_user, session_id):
        raise NotFound("No such session of yours: it may have ended already.")
    if current:
        logout_user()
        end_session()
        return redirect(url_for("accounts.login"))
    flash("That session is logged out.")
    return redirect(url_for("security.index"))


@security.route("/sessions/end-others", methods=["POST"])
@login_required
def end_others() -> Response:
    """Log out every session of the user but this one."""
    ended = end_sessions(current_user, keep_current=True)
    flash(f"Logged out {counted(ended, 'other session')}.")
    return redirect(url_for("security.index"))


def _change_checked(form: ChangePasswordForm) -> bool:
    """Whether the sent form may spend a check of the current password: its fields' own rules (the two new
    passwords the same...) and the new password's rules (:func:`new_password_problem`), all in one
    round, each problem under its field, rather than the rules only once the rest was right."""
    valid = form.validate_on_submit()
    if form.new_password.errors:
        return False
    current, new = form.current_password.data or "", form.new_password.data or ""
    problem = new_password_problem(current_user, current, new)
    if problem:
        form.new_password.errors.append(problem)
    return valid and problem is None


def _page(form: ChangePasswordForm) -> str:
    return render_template("dashboard/security.html", form=form, sessions=sessions_of(current_user))
