"""Settings → Appearance: the creator's theme and overrides, with a preview that works without JavaScript
(the "Preview" button) and a live one with it (``static/js/appearance.js`` asks ``/preview``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.controllers import appearance, profiles, site_settings
from conexoos.app.controllers.appearance import Appearance, AppearanceRefused
from conexoos.app.controllers.themes import THEMES, Theme, theme_key
from conexoos.app.server.errorhandler import csrf_failed
from conexoos.app.utils import expired_form
from conexoos.app.utils.chosen_image import NOTHING_CHOSEN, ChosenImage, not_kept_note, read_chosen_image
from conexoos.app.utils.csp import allow_style
from conexoos.app.utils.shown_values import FIELD as SHOWN_FIELD
from conexoos.app.utils.shown_values import ShownValues, as_json, saved_message
from conexoos.app.utils.too_large_form import too_large_form
from conexoos.app.utils.upload_limits import image_input_limits
from conexoos.app.utils.wording import with_article
from conexoos.framework import error_response
from conexoos.framework.sessions import session_read_only

appearance_settings = Blueprint("appearance_settings", __name__, url_prefix="/settings")
PREVIEW_SELECTOR = ".appearance-preview"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@appearance_settings.route("/appearance", methods=["GET"])
@login_required
def index() -> tuple[str, int]:
    """The form, filled with the saved choices, and their preview."""
    saved = appearance.stored(current_user)
    return _page(appearance.choices(saved), saved, {}, 200)


@appearance_settings.route("/appearance", methods=["POST"])
@login_required
def submit() -> BaseResponse | tuple[str, int]:
    """``action=preview`` shows the choices without saving; otherwise they are saved. A bad field or a
    failing contrast is a 422 naming it, an upload that is no image or a body that is no form a 400;
    nothing is saved then. A field posted as the page showed it keeps what is stored now
    (``utils/shown_values.py``): a page left open in another tab does not put back what this one saved."""
    problem = not_a_form()
    if problem:
        raise BadRequest(problem)
    stored = appearance.stored(current_user)
    shown = ShownValues.posted(request.form)
    form = shown.merged(request.form, stored_values(stored))
    previewing = form.get("action") == "preview"
    image = _chosen_background(form)
    try:
        chosen = appearance.parse_form(form, stored)
    except AppearanceRefused as refused:
        return _refused(form, Appearance(), _every_problem(refused, image), previewing)
    theme = effective_theme(chosen)
    if previewing:  # stores nothing, an upload neither (a bad one is named: chosen again, it would fail)
        errors = {**appearance.contrast_errors(chosen, theme), **image.errors("background_image")}
        return _page(form, chosen, errors, 200, image_note=_image_note(errors))
    changed = shown.changed_names(appearance.FORM_VALUES, request.form)
    if expired_form.sent_file():
        changed.append("background_image")  # a file is never shown: an upload is always a change
    if shown.known and not changed:
        flash(saved_message("Appearance", [], known=True))
        return redirect(url_for("appearance_settings.index"))
    try:
        saved = appearance.save(current_user, chosen, image, theme)
    except AppearanceRefused as refused:
        return _refused(form, chosen, refused.errors, previewing)
    flash(_saved_message(changed, stored, saved, shown.known, asked_default=not form.get("theme")))
    return redirect(url_for("appearance_settings.index"))


def _chosen_background(form: Mapping[str, str]) -> ChosenImage:
    """The background image chosen, decoded and re-encoded before the form is decided (so that a bad file
    is named with every other problem, on a preview too: the person would choose it again for the save)
    when the page's background is to be an image; another background does not read it."""
    if form.get("background") != "image":
        return NOTHING_CHOSEN
    return read_chosen_image(request.files.get("background_image"), appearance.BACKGROUND_FOLDER)


def _every_problem(refused: AppearanceRefused, image: ChosenImage) -> dict[str, str]:
    """The fields ``refused`` names, the chosen image's problem and, when the colours could be read, their
    failing contrast too: one save names every problem, not the fields first and the rest after they are
    fixed."""
    if refused.readable is None:
        return {**image.errors("background_image"), **refused.errors}
    readable = refused.readable
    return {**appearance.save_problems(readable, image, effective_theme(readable)), **refused.errors}


def _saved_message(
    changed: list[str], before: Appearance, saved: Appearance, known: bool, *, asked_default: bool
) -> str:
    """What a save says: the theme named when what is stored changed, never when it did not (own colours
    keep the site's default theme of today: the select shows it after the save, and the message says so)."""
    changed = [name for name in changed if name != "theme"]
    if saved.theme != before.theme:
        changed.append("theme")
    labels = appearance.changed_labels(changed, saved)
    kept = asked_default and saved.theme is not None
    if kept and "theme" in changed:
        labels = [_kept_theme(saved) if label == "theme" else label for label in labels]
    message = saved_message("Appearance", labels, known)
    if kept and "theme" not in changed and known:
        message += f" Your own background or colours keep the {_theme_label(saved)} theme (see under Theme)."
    return message


def _kept_theme(saved: Appearance) -> str:
    return f"theme (now {_theme_label(saved)}: the site's default today)"


def _theme_label(saved: Appearance) -> str:
    return THEMES[theme_key(saved.theme)].name


def _refused(
    form: Mapping[str, object], shown: Appearance, errors: dict[str, str], previewing: bool
) -> tuple[str, int]:
    """The page drawn again after a refusal: 422, every problem under its field and summed up on top."""
    summary = _summary(errors, previewing)
    return _page(form, shown, errors, 422, image_note=_image_note(errors), summary=summary)


def _summary(errors: Mapping[str, str], previewing: bool) -> str:
    """``Nothing was saved: 2 problems below.``"""
    count = len(_problems(errors))
    problems = "1 problem" if count == 1 else f"{count} problems"
    return f"{'Nothing was previewed' if previewing else 'Nothing was saved'}: {problems} below."


def _image_note(errors: Mapping[str, str]) -> str:
    """Said under the background image of the page drawn again: that a file chosen was not kept
    (``utils/chosen_image.py``), unless the image itself was refused."""
    return not_kept_note(image_refused="background_image" in errors)


@appearance_settings.errorhandler(CSRFError)
def expired(error: CSRFError) -> Any:
    """The form saved or previewed with a stale token: shown again with what was chosen
    (``utils/expired_form.py``), with the shown values it had; the live preview's JSON and anything else:
    the 400."""
    if request.endpoint != "appearance_settings.submit" or not expired_form.may_show_again(error):
        return csrf_failed(error)
    expired_form.say_expired()
    shown = ShownValues.posted(request.form)
    return _page(request.form, appearance.stored(current_user), {}, 400, shown_values=shown.shown)


@appearance_settings.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """The form sent without JavaScript with an image over the request limit: a 413 naming the field and
    the sizes, linking back here (``utils/too_large_form.py``); anything else: the framework's 413."""
    return too_large_form(
        error,
        form="appearance_settings.submit",
        field="background image",
        page="appearance_settings.index",
        label="Appearance",
    )


@appearance_settings.route("/appearance/preview", methods=["POST"])
@session_read_only
@login_required
def preview() -> Response:
    """The custom properties of the preview for the choices posted, and what fails contrast (JSON); 400
    for a body that is no form, 422 naming a bad field. It only reads the session: the page asks for it
    while its form may be saving, whose "Appearance saved." flash a write-back would lose."""
    problem = not_a_form()
    if problem:
        return error_response(400, problem, code="malformed")
    try:
        chosen = appearance.parse_form(request.form, appearance.stored(current_user))
    except AppearanceRefused as refused:  # the page's live preview shows one problem at a time
        field, message = next(iter(refused.errors.items()))
        return error_response(422, message, code="invalid_appearance", field=field)
    theme = effective_theme(chosen)
    return jsonify(
        properties={
            **dict.fromkeys(appearance.OVERRIDE_NAMES, "initial"),
            **appearance.preview_properties(chosen, theme),
        },
        problems=appearance.contrast_problems(chosen, theme),
    )


def _problems(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """(anchor, label) of each problem, in the form's order, for the summary's links."""
    found = [("contrast-errors", "Contrast of the colours")] if errors.get("contrast") else []
    for name, label in appearance.FIELD_LABELS.items():
        if name in errors:
            found.append((name, label[0].upper() + label[1:]))
    return found


def not_a_form() -> str:
    """Why the request's body is no form the page could have sent (JSON, text, nothing), or ""."""
    if request.mimetype in FORM_TYPES:
        return ""
    wanted = f"Send the appearance as form fields ({' or '.join(FORM_TYPES)})"
    if request.mimetype:
        return f"{wanted}, not {with_article(request.mimetype)} body."
    if not request.get_data(cache=True):
        return f"{wanted}: the request's body is empty."
    return f"{wanted}: the request's body has no Content-Type."


def effective_theme(chosen: Appearance) -> Theme:
    """The creator's theme, or the site's default one."""
    return THEMES[theme_key(chosen.theme or site_settings.cached().get(profiles.THEME_SETTING))]


def stored_values(stored: Appearance) -> dict[str, str]:
    """What the form's inputs hold when it shows the stored choices: the page's shown values."""
    return appearance.form_values(stored, effective_theme(stored).palettes[0])


def _page(
    values: Mapping[str, object],
    shown: Appearance,
    errors: dict[str, str],
    status: int,
    *,
    shown_values: Mapping[str, str] | None = None,
    summary: str = "",
    image_note: str = "",
) -> tuple[str, int]:
    """The page, its form holding ``values`` and its preview ``shown``; its shown values are what is stored
    now, so that a field shown again as stored counts as unchanged on the next save (``shown_values``:
    those a form shown again had posted). ``summary``: the line on top of a refused form, over a link
    to each problem; ``image_note``: said under the background image (:func:`_image_note`)."""
    theme = effective_theme(shown)
    style = appearance.declarations(PREVIEW_SELECTOR, appearance.preview_properties(shown, theme))
    allow_style(style)
    html = render_template(
        "settings/appearance.html",
        values=values,
        errors=errors,
        summary=summary,
        problems=_problems(errors),
        image_note=image_note,
        preview_style=style,
        themes=THEMES,
        site_theme=THEMES[theme_key(site_settings.cached().get(profiles.THEME_SETTING))],
        palette=theme.palettes[0],
        options=appearance,
        shown_values=as_json(shown_values or stored_values(appearance.stored(current_user))),
        shown_field=SHOWN_FIELD,
        file_input_limit=image_input_limits(),
    )
    return html, status
