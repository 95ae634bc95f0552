"""``/admin/settings``: one form with every editable site setting, for administrators only.

The form lists :func:`site_settings.editable` (declared once in controllers/site_settings.py); a POST
validates every field first and stores none when one is refused (each error shown next to its field, every
value kept), else saves the changed ones in one transaction, an audit entry each.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from conexoos.app.controllers import site_settings
from conexoos.app.controllers.roles import ADMIN, staff_only
from conexoos.framework.wording import counted

admin_settings = staff_only(Blueprint("admin_settings", __name__, url_prefix="/admin/settings"), ADMIN)
MAX_FIELD_CHARACTERS = 10_000
"""Longer than any setting allows: a value past it (text pasted in by mistake) is cut there before it is
checked, refused under its field like any value too long, and shown again that long, not whole."""


@admin_settings.route("", methods=["GET"])
def index() -> str:
    """The settings form with the current values."""
    return _page(site_settings.values(), {})


@admin_settings.route("", methods=["POST"])
def save() -> Response | tuple[str, int]:
    """Save the form: 302 back to it, or 422 with each refused field's reason and every value kept."""
    given = _form_values()
    try:
        changed = site_settings.change_many(given)
    except site_settings.SettingsRefused as refused:
        return _page({**site_settings.values(), **given}, refused.errors), 422
    flash(f"Saved: {counted(len(changed), 'setting')} changed." if changed else "Nothing changed.")
    return redirect(url_for("admin_settings.index"))


def _form_values() -> dict[str, Any]:
    """Every editable setting's value from the form (an unticked box is ``False``)."""
    given: dict[str, Any] = {}
    for setting in site_settings.editable():
        if setting.kind is bool:
            given[setting.key] = setting.key in request.form
            continue
        raw = request.form.get(setting.key)
        if raw is None:
            raise BadRequest(f"The form lacks the field {setting.key}: reload the page and try again.")
        given[setting.key] = raw[: MAX_FIELD_CHARACTERS + 1]  # still too long: refused under its field
    return given


def _page(shown: dict[str, Any], errors: dict[str, str]) -> str:
    return render_template(
        "admin/settings.html", settings=site_settings.editable(), values=shown, errors=errors
    )
