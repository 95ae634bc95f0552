"""Which field a page drawn again after a refused form gives the focus to: the first one with an error.

A plain form refused by the server comes back as a new page, whose focus starts at its top: a keyboard or
screen-reader user had to find the field to fix among all the page's controls. The field macro
(``_field.html``) marks the first field it draws with an error ``autofocus``, once per page.
"""

from __future__ import annotations

from flask import Blueprint, g

form_focus = Blueprint("form_focus", __name__)


@form_focus.app_template_global()
def claim_autofocus() -> bool:
    """True for the first caller in a request, False after: the page's first field with an error takes
    the focus, no other."""
    if g.get("conexoos_autofocus_claimed"):
        return False
    g.conexoos_autofocus_claimed = True
    return True
