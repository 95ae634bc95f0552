"""Which field a form page drawn again after a refusal said at its top (a rate limit's 429, a log-in that
failed) gives the focus to: the first one the person must fill in again.

Such a refusal marks no field with an error, so the field macro (``_field.html``, see
:mod:`~conexoos.app.blueprints.form_focus`) gave the focus to none: it stayed on the page's body, and a
keyboard or screen-reader user had to find the form again. The page passes the field named here
``autofocus`` (claiming it with ``claim_autofocus()``, so that no two fields have it).
"""

from __future__ import annotations

from flask_wtf import FlaskForm


def first_to_fill(form: FlaskForm) -> str | None:
    """The name of ``form``'s first visible field that is empty or a password (a password field is always
    drawn empty); its first visible field when every one is filled in; None when it has none."""
    visible = [field for field in form if getattr(field.widget, "input_type", None) != "hidden"]
    for field in visible:
        if field.type == "PasswordField" or not field.data:
            return str(field.name)
    return str(visible[0].name) if visible else None
