"""What every page template may read about the site: its name, whether anyone may sign up, its home
text, maintenance mode, and its menus (read only by the pages that show them: home, sign-up, login).

``site`` in a template reads the settings lazily, through the per-process cache of
``controllers/site_settings.cached``: a page that does not use it (the public profile page, with its
query budget) costs nothing, and one that does costs at most one query every 30 seconds per process.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from conexoos.app.controllers import maintenance, menus, setup, site_settings
from conexoos.framework import db
from conexoos.framework.http_errors import is_error_page

site_context = Blueprint("site_context", __name__)
LEGAL_SLUGS = ("terms", "privacy")
SETTINGS_BLUEPRINTS = (
    "email",
    "security",
    "two_factor",
    "passkeys",
    "linked_signins",
    "account_settings",
    "appearance_settings",
)
SECTIONS = {
    "stats_page": "stats",
    "products_page": "products",
    "capture_dashboard": "links",  # Email sign-ups, linked from Page layout on the Links page
    "subscriptions": "plan",
    **dict.fromkeys(SETTINGS_BLUEPRINTS, "settings"),
}
"""The navigation entry of each signed-in blueprint (``Site.section`` splits ``dashboard`` by endpoint)."""
PLAIN_SETTINGS = (
    ("dashboard.settings", "profile"),
    ("appearance_settings.index", "appearance"),
    ("account_settings.index", "account settings"),
    ("email.settings", "email address"),
    ("security.index", "password"),
)
"""The settings pages that work without JavaScript, in the order the notice names them."""


class Site:
    """The site as templates see it."""

    @property
    def name(self) -> str:
        """The name chosen at setup or in the admin panel (default: ``SERVER_ENV.APP_NAME``). While the
        database does not answer: as this process read it last, else the default (see
        ``site_settings.shown``: an error page of the outage is drawn without asking it again)."""
        return str(site_settings.shown()["site_name"])

    @property
    def signup_open(self) -> bool:
        """Whether to invite visitors to sign up: the policy is ``open``, or the URL has an invitation, and
        maintenance mode does not pause sign-ups."""
        settings = site_settings.shown()  # never the database again on a page drawn for its outage
        if settings["maintenance_mode"]:
            return False
        if request.args.get("invite"):
            return True
        return settings["signup_policy"] == site_settings.OPEN

    @property
    def home_paragraphs(self) -> list[list[str]]:
        """The home text: paragraphs (split at empty lines), each a list of lines (escaped when shown)."""
        text = str(site_settings.shown()["home_text"])
        blocks = [block.strip("\n") for block in text.split("\n\n")]
        return [block.split("\n") for block in blocks if block.strip()]

    @property
    def setup_pending(self) -> bool:
        """Whether the site has no administrator yet and ``/setup`` still waits (the home page tells its
        operator how to open it). False while the database does not answer: the page is drawn as before."""
        try:
            return setup.pending()
        except SQLAlchemyError:  # an outage: the home page still shows, without the notice
            db.session.rollback()
            return False

    @property
    def local_setup_url(self) -> str | None:
        """The address that opens setup from the server itself (DEV only), else None."""
        return setup.local_setup_url()

    @property
    def maintenance(self) -> bool:
        """Whether maintenance mode is on (as this process last read it, at most 30 s ago)."""
        return maintenance.is_on()

    @property
    def maintenance_message(self) -> str:
        """What people are told during maintenance."""
        return maintenance.message()

    @property
    def section(self) -> str | None:
        """Which entry of the signed-in navigation the current page belongs to (``aria-current``):
        ``links``, ``stats``, ``products``, ``settings``, ``plan``, ``admin``, or None (on an error
        page, which belongs to none)."""
        if is_error_page():
            return None
        blueprint = request.blueprint or ""
        if blueprint == "dashboard":
            return "settings" if request.endpoint == "dashboard.settings" else "links"
        if blueprint.startswith("admin"):
            return "admin"
        return SECTIONS.get(blueprint)

    @property
    def plain_settings(self) -> list[tuple[str, str]]:
        """(label, URL) of the settings pages that are plain forms, so work without JavaScript: the
        dashboard's ``<noscript>`` notice links them. A page this installation lacks is left out."""
        return [
            (label, url_for(endpoint))
            for endpoint, label in PLAIN_SETTINGS
            if endpoint in current_app.view_functions
        ]

    def menu(self, name: str) -> list[menus.Shown]:
        """The entries of the ``header`` or ``footer`` menu visitors see (one query)."""
        return menus.shown(name)

    def legal_pages(self) -> set[str]:
        """Which of the ``terms`` and ``privacy`` pages are public (one query), for the sign-up form."""
        return menus.public_slugs(LEGAL_SLUGS)


@site_context.app_context_processor
def site() -> dict[str, Site]:
    """``site`` for every template (read only when used)."""
    return {"site": Site()}
