"""What answers the product's own sign-up and password pages when ``LOGINS.local`` is turned off."""

from __future__ import annotations

from flask import render_template

from conexoos.framework.logins import logins


def refuse_when_local_login_off() -> tuple[str, int] | None:
    """A ``before_request`` hook: with local login off, a 404 page saying how to log in here instead
    (password sign-up and reset do not exist then); None otherwise."""
    if logins().local_enabled:
        return None
    page = render_template(
        "accounts/local_login_off.html",
        buttons=logins().buttons(),
        has_password_form=bool(logins().password_backends()),
    )
    return page, 404
