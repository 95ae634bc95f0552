"""The logged-in user's pages: the links dashboard, profile settings and the QR code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.controllers import billing, plan_messages, plans, profiles
from conexoos.app.controllers.blocks.link import LINK
from conexoos.app.controllers.blocks.registry import KINDS
from conexoos.app.dto.block_editor import editor_kinds
from conexoos.app.models.forms.profile import ProfileForm
from conexoos.app.server.errorhandler import csrf_failed
from conexoos.app.utils import expired_form
from conexoos.app.utils.chosen_image import NOTHING_CHOSEN, ChosenImage, not_kept_note, read_chosen_image
from conexoos.app.utils.icon_networks import NETWORKS
from conexoos.app.utils.shown_values import FIELD as SHOWN_FIELD
from conexoos.app.utils.shown_values import ShownValues, as_json, saved_message
from conexoos.app.utils.text import ends_sentence
from conexoos.app.utils.too_large_form import too_large_form
from conexoos.app.utils.upload_limits import image_input_limits

dashboard = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@dashboard.route("", methods=["GET"])
@login_required
def index() -> str:
    """The links editor (works through the JSON API); a suspended owner's notice, its reason one sentence;
    a failed payment (until when the plan is kept, where to pay), and a subscription that may still bill
    while the plan is gratis, with the way to cancel it."""
    plan = plans.plan_for(current_user)
    return render_template(
        "dashboard/index.html",
        page_url=profiles.page_url(current_user),
        plan=plan,
        notes=plan_messages.notes(plan, LINK),
        plan_ending=plan_messages.plan_ending(current_user),
        plan_ended=plan_messages.plan_ended(current_user),
        payment_failed=plan_messages.payment_failed(current_user),
        still_billing=(
            plan_messages.still_billing(current_user)
            if billing.bills_without_paid_plan(current_user)
            else None
        ),
        social_networks=sorted(NETWORKS.values(), key=lambda network: network.name.casefold()),
        block_kinds=editor_kinds(KINDS.values()),
        reason_ends_sentence=ends_sentence(current_user.suspension_reason),
    )


@dashboard.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> str | BaseResponse | tuple[str, int]:
    """Edit display name, bio and avatar (or remove it); a bad image is a 422 under its field, named with
    every other field refused (it is read before the form is decided), and changes nothing; a good one
    beside a refused field is not stored either, and the page says to choose it again. Only the
    fields changed on the page are saved (``utils/shown_values.py``): a page left open in another tab does
    not put back what this one saved since."""
    form = ProfileForm(obj=current_user)
    avatar = _chosen_avatar(form) if form.is_submitted() else NOTHING_CHOSEN
    if form.validate_on_submit() and not avatar.problem:
        shown = ShownValues.posted(request.form)
        changed = shown.changed_names(PROFILE_TEXTS, request.form)
        remove_avatar = bool(form.remove_avatar.data)
        new_avatar = avatar.image is not None
        if shown.known and not changed and not new_avatar and not remove_avatar:
            flash(saved_message("Profile", [], known=True))
            return redirect(url_for("dashboard.settings"))
        profiles.update_profile(
            current_user,
            _new_or_stored(form.display_name.data, current_user.display_name, "display_name" in changed),
            _new_or_stored(form.bio.data, current_user.bio, "bio" in changed),
            avatar.image,
            remove_avatar=remove_avatar,
        )
        labels = [form[name].label.text.lower() for name in changed]
        if new_avatar or remove_avatar:
            labels.append("new avatar" if new_avatar else "avatar removed")
        flash(saved_message("Profile", labels, shown.known))
        return redirect(url_for("dashboard.settings"))
    if avatar.problem:
        form.avatar.errors = [avatar.problem]  # as any field refused, beside the others
    refused = bool(form.errors)
    note = not_kept_note(image_refused=bool(avatar.problem)) if refused else ""
    return _settings_page(form, 422 if refused else 200, avatar_note=note)


def _chosen_avatar(form: ProfileForm) -> ChosenImage:
    """The avatar chosen, decoded and re-encoded before the form is decided (``utils/chosen_image.py``).
    Without a file part, ``obj=current_user`` fills the field with the stored avatar's path: no upload."""
    upload = form.avatar.data if isinstance(form.avatar.data, FileStorage) else None
    return read_chosen_image(upload, profiles.AVATAR_FOLDER)


@dashboard.errorhandler(CSRFError)
def expired(error: CSRFError) -> Any:
    """The profile form sent with a stale token: shown again with what was typed (``utils/expired_form.py``),
    as shown before, so that its untouched fields still count as unchanged; anything else: the 400."""
    if request.endpoint != "dashboard.settings" or not expired_form.may_show_again(error):
        return csrf_failed(error)
    form = ProfileForm(formdata=request.form, obj=current_user)  # its token field draws a fresh token
    expired_form.say_expired()
    return _settings_page(form, 400, shown=ShownValues.posted(request.form))


@dashboard.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """The profile form sent without JavaScript with an avatar over the request limit: a 413 naming the
    field and the sizes, linking back to the form (``utils/too_large_form.py``); anything else: the
    framework's 413."""
    return too_large_form(
        error, form="dashboard.settings", field="avatar", page="dashboard.settings", label="Profile"
    )


PROFILE_TEXTS = ("display_name", "bio")
"""The profile's text fields, listed in the page's shown values (the avatar is a file: always a change)."""


def _new_or_stored(posted: str | None, stored: str | None, changed: bool) -> str:
    return (posted if changed else stored) or ""


def _settings_page(
    form: ProfileForm, status: int, shown: ShownValues | None = None, avatar_note: str = ""
) -> tuple[str, int]:
    """The settings page, its form showing ``form``'s values; its shown values are what is stored now, so
    that a field shown again as stored counts as unchanged on the next save (``shown``: those posted).
    ``avatar_note``: said under the avatar (a file chosen that was not kept)."""
    stored = {name: getattr(current_user, name) or "" for name in PROFILE_TEXTS}
    if shown is not None and shown.shown is not None:
        stored = dict(shown.shown)
    return render_template(
        "dashboard/settings.html",
        form=form,
        page_url=profiles.page_url(current_user),
        shown_values=as_json(stored),
        shown_field=SHOWN_FIELD,
        file_input_limit=image_input_limits(),
        avatar_note=avatar_note,
    ), status


@dashboard.route("/qr.<any(png, svg):kind>", methods=["GET"])
@login_required
def qr(kind: str) -> Response:
    """The QR code of the public page, as a PNG or SVG download."""
    body = profiles.qr_code(current_user, kind)
    mimetype = "image/png" if kind == "png" else "image/svg+xml"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{current_user.username}-qr.{kind}"'
    return response
