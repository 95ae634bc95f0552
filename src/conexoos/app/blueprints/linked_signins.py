"""Settings → Linked sign-ins: the identity providers an account logs in through, and unlinking one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from conexoos.app.blueprints.password_checks import limit_password_checks
from conexoos.app.controllers import linked_identities
from conexoos.app.models.forms.account_settings import UnlinkForm

linked_signins = Blueprint("linked_signins", __name__, url_prefix="/settings")


@linked_signins.route("/sign-ins", methods=["GET"])
@login_required
def index() -> str:
    """Each linked sign-in: its provider, the address it gave, since when, last used; and unlink."""
    return _page(UnlinkForm())


@linked_signins.route("/sign-ins/<id:identity_id>/unlink", methods=["POST"])
@login_required
def unlink(identity_id: int) -> Response | tuple[str, int]:
    """Unlink a sign-in of the current user (CSRF; the password when they have one), while another way
    to log in remains: 404 not theirs, 403 wrong password, 409 it is the only way left."""
    form = UnlinkForm()
    if not form.validate_on_submit():
        return _page(form), 422
    limit_password_checks(current_user)  # the password check is no oracle
    try:
        label = linked_identities.unlink(current_user, identity_id, form.password.data or "")
    except linked_identities.UnlinkRefused as refused:
        if refused.status == 404:
            abort(404, refused.message)
        return _page(form, refused.message), refused.status
    flash(f"Your {label} sign-in is no longer linked to this account.")
    return redirect(url_for("linked_signins.index"))


def _page(form: UnlinkForm, error: str = "") -> str:
    return render_template(
        "settings/linked_signins.html",
        form=form,
        error=error,
        linked=linked_identities.linked_of(current_user),
        needs_password=linked_identities.needs_password(current_user),
        no_other_way=linked_identities.no_other_way_message(),
    )
