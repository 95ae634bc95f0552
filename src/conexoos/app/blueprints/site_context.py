"""What every page template may read about the site: its name and whether anyone may sign up.

``site`` in a template reads the settings lazily, through the per-process cache of
``controllers/site_settings.cached``: a page that does not use it (the public profile page, with its
query budget) costs nothing, and one that does costs at most one query every 30 seconds per process.
"""

from __future__ import annotations

from flask import Blueprint, request

from conexoos.app.controllers import site_settings

site_context = Blueprint("site_context", __name__)


class Site:
    """The site as templates see it."""

    @property
    def name(self) -> str:
        """The name chosen at setup or in the admin panel (default: ``SERVER_ENV.APP_NAME``)."""
        return str(site_settings.cached()["site_name"])

    @property
    def signup_open(self) -> bool:
        """Whether to invite visitors to sign up: the policy is ``open``, or the URL has an invitation."""
        if request.args.get("invite"):
            return True
        return site_settings.cached()["signup_policy"] == site_settings.OPEN


@site_context.app_context_processor
def site() -> dict[str, Site]:
    """``site`` for every template (read only when used)."""
    return {"site": Site()}
