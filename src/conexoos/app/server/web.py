"""Routes for people: pages and forms.

The public page's blueprints (with link_locks, whose lock page it shows, and those adding app-wide
template functions: site_context, form_focus) are imported with the app; the others are registered by their
rules (``blueprint_routes.py``) and imported at their first request (``framework/lazy_blueprints.py``), so
that a worker serving public pages does not load the settings, admin and login pages.
"""

from __future__ import annotations

from flask import Flask
from flask.typing import ResponseReturnValue

from conexoos.app.blueprints.form_focus import form_focus
from conexoos.app.blueprints.link_icons import link_icons
from conexoos.app.blueprints.link_locks import link_locks
from conexoos.app.blueprints.public import public
from conexoos.app.blueprints.setup import setup_blueprint
from conexoos.app.blueprints.site_context import site_context
from conexoos.app.server.blueprint_routes import BLUEPRINTS as LAZY
from conexoos.framework.lazy_blueprints import register_blueprints
from conexoos.framework.logins import ExternalIdentity

PEOPLE = ("accounts", "password_reset", "email", "security", "two_factor", "passkeys", "passkey_login")
"""The blueprints of accounts and logins, by name (registered first, as before they were lazy)."""


class Route:
    """Registers the web blueprints on the server, and the product's answer to external sign-ins."""

    def __init__(self, server: Flask) -> None:
        # "/admin//users" would otherwise be redirected to "/admin/users" for anyone, telling a visitor
        # which staff addresses exist (staff URLs answer 404 to everyone else).
        server.url_map.merge_slashes = False
        register_blueprints(
            server,
            (
                *(LAZY[name] for name in PEOPLE),
                *(LAZY[name] for name in ("account_settings", "appearance_settings", "linked_signins")),
                *(LAZY[name] for name in ("dashboard", "capture_dashboard", "products_page", "stats_page")),
                *(LAZY[name] for name in ("subscriptions", "media")),
                setup_blueprint,
                site_context,
                form_focus,
                *(LAZY[name] for name in ("admin", "admin_reports", "admin_blocklist", "admin_pages")),
                *(LAZY[name] for name in ("site_pages", "admin_menus", "admin_settings", "admin_media")),
                LAZY["admin_plugins"],
                public,
                link_locks,
                LAZY["capture"],
                link_icons,
                LAZY["reports"],
            ),
        )
        server.extensions["conexoos"].logins.on_login(_handle_external_login)


def _handle_external_login(identity: ExternalIdentity) -> ResponseReturnValue:
    """``login_completion.handle_external_login``, imported at the first external sign-in (it needs the
    login controllers, which the accounts blueprint loads too)."""
    from conexoos.app.blueprints.login_completion import handle_external_login

    return handle_external_login(identity)
