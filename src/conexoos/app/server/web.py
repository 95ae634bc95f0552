"""Routes for people: pages and forms."""

from __future__ import annotations

from flask import Flask

from conexoos.app.blueprints.account_settings import account_settings
from conexoos.app.blueprints.accounts import accounts
from conexoos.app.blueprints.admin import admin
from conexoos.app.blueprints.admin_blocklist import admin_blocklist
from conexoos.app.blueprints.admin_media import admin_media
from conexoos.app.blueprints.admin_menus import admin_menus
from conexoos.app.blueprints.admin_pages import admin_pages
from conexoos.app.blueprints.admin_plugins import admin_plugins
from conexoos.app.blueprints.admin_reports import admin_reports
from conexoos.app.blueprints.admin_settings import admin_settings
from conexoos.app.blueprints.appearance_settings import appearance_settings
from conexoos.app.blueprints.capture import capture
from conexoos.app.blueprints.capture_dashboard import capture_dashboard
from conexoos.app.blueprints.dashboard import dashboard
from conexoos.app.blueprints.email_verification import email
from conexoos.app.blueprints.link_icons import link_icons
from conexoos.app.blueprints.link_locks import link_locks
from conexoos.app.blueprints.linked_signins import linked_signins
from conexoos.app.blueprints.login_completion import handle_external_login
from conexoos.app.blueprints.media import media
from conexoos.app.blueprints.passkey_login import passkey_login
from conexoos.app.blueprints.passkeys import passkeys_blueprint
from conexoos.app.blueprints.password_reset import password_reset
from conexoos.app.blueprints.products_page import products_page
from conexoos.app.blueprints.public import public
from conexoos.app.blueprints.reports import page_reports
from conexoos.app.blueprints.security import security
from conexoos.app.blueprints.setup import setup_blueprint
from conexoos.app.blueprints.site_context import site_context
from conexoos.app.blueprints.site_pages import site_pages_blueprint
from conexoos.app.blueprints.stats_page import stats_page
from conexoos.app.blueprints.subscriptions import subscriptions
from conexoos.app.blueprints.two_factor import two_factor


class Route:
    """Registers the web blueprints on the server, and the product's answer to external sign-ins."""

    def __init__(self, server: Flask) -> None:
        # "/admin//users" would otherwise be redirected to "/admin/users" for anyone, telling a visitor
        # which staff addresses exist (staff URLs answer 404 to everyone else).
        server.url_map.merge_slashes = False
        people = (accounts, password_reset, email, security, two_factor, passkeys_blueprint, passkey_login)
        for blueprint in (
            *people,
            account_settings,
            appearance_settings,
            linked_signins,
            dashboard,
            capture_dashboard,
            products_page,
            stats_page,
            subscriptions,
            media,
            setup_blueprint,
            site_context,
            admin,
            admin_reports,
            admin_blocklist,
            admin_pages,
            site_pages_blueprint,
            admin_menus,
            admin_settings,
            admin_media,
            admin_plugins,
            public,
            link_locks,
            capture,
            link_icons,
            page_reports,
        ):
            server.register_blueprint(blueprint)
        server.extensions["conexoos"].logins.on_login(handle_external_login)
