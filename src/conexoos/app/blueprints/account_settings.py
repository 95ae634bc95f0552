"""Settings → Account: export your data, delete your account."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from conexoos.app.blueprints.password_checks import limit_password_checks
from conexoos.app.controllers import account_deletion, account_export, administrators
from conexoos.app.controllers.accounts import has_usable_password
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.models.forms.account_settings import DeleteAccountForm, ExportForm
from conexoos.app.models.persistent.export_job import BUILDING, FAILED, PENDING
from conexoos.app.utils.rate_limit import enforce
from conexoos.framework import end_session

account_settings = Blueprint("account_settings", __name__, url_prefix="/settings")


@account_settings.route("/account", methods=["GET"])
@login_required
def index() -> str:
    """The export's state (with its download link when ready) and the deletion form."""
    return _page(DeleteAccountForm())


@account_settings.route("/account/export", methods=["POST"])
@login_required
def request_export() -> Response | tuple[str, int]:
    """Ask for an export: small accounts are built now, others by a task (the page says which)."""
    form = ExportForm()
    if not form.validate_on_submit():
        return _page(DeleteAccountForm()), 400
    enforce("10/hour", "account-export", str(current_user.id))
    job = account_export.request_export(current_user)
    if job.status in (PENDING, BUILDING):
        flash("Your export is being prepared. Reload this page in a minute to download it.")
    elif job.status == FAILED:
        flash("Your export could not be built. Try again later; the error was logged for the operators.")
    else:
        flash("Your export is ready to download.")
    return redirect(url_for("account_settings.index"))


@account_settings.route("/account/export/<token>", methods=["GET"])
@login_required
def download_export(token: str) -> Response:
    """Stream the zip a signed link names, to its owner only: 404 forged, 403 another account's, 410 old."""
    try:
        _job, path = account_export.job_for_download(token, current_user)
    except account_export.ExportLinkRefused as refused:
        abort(refused.status, refused.message)
    name = f"{current_user.username}-conexoos-export.zip"
    response = send_file(path, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@account_settings.route("/account/delete", methods=["POST"])
@login_required
def delete() -> Response | tuple[str, int]:
    """Delete the account after the password (and second factor) check, then log out everywhere here."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _page(form), 422
    if administrators.is_last_active_admin(current_user):  # said before any password check is spent
        return _page(form), 409
    if has_usable_password(current_user) and not form.password.data:
        form.password.errors = ["This field is required."]
        return _page(form), 422
    limit_password_checks(current_user)  # the password check is no oracle
    try:
        account_deletion.confirm_deletion(
            current_user, form.password.data or "", form.second_factor_code.data or ""
        )
    except account_deletion.DeletionRefused as refused:
        if not has_usable_password(current_user):
            return _page(form, refused.message), refused.status  # no password field to show it under
        form.password.errors = [refused.message]
        return _page(form), refused.status
    try:
        deleted = account_deletion.delete_account(current_user)
    except account_deletion.DeletionRefused as refused:
        return _page(form, refused.message), refused.status
    logout_user()
    end_session()
    flash(f"Your account {deleted.username} and everything in it have been deleted.")
    return redirect(url_for("public.home"))


def _page(form: DeleteAccountForm, deletion_error: str = "") -> str:
    return render_template(
        "settings/account.html",
        delete_form=form,
        second_factor=has_second_factor(current_user),
        has_password=has_usable_password(current_user),
        export_form=ExportForm(),
        export=account_export.status_for(current_user),
        deletion_error=deletion_error,
        last_admin=administrators.is_last_active_admin(current_user),
        last_admin_message=administrators.LAST_ADMIN,
    )
