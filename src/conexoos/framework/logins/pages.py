"""The page a person sees when an external login fails: what happened, in words, and a way back."""

from __future__ import annotations

from flask import render_template

from .base import LoginFailed, LoginUnavailable

FAILED_TEMPLATE = "logins/failed.html"
"""A project overrides the page by shipping a template of this name."""


def render_login_failure(error: LoginFailed) -> tuple[str, int]:
    """The failure page for ``error`` (its message shown as it is, escaped) and its HTTP status."""
    html = render_template(
        FAILED_TEMPLATE,
        message=error.message,
        status=error.status,
        temporary=isinstance(error, LoginUnavailable),
    )
    return html, error.status
