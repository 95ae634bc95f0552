"""The blueprints ``server/web.py`` and ``server/ws.py`` register lazily: imported at their first request.

Generated from the blueprints by
``python -m conexoos.framework.lazy_blueprints conexoos.app.server.blueprint_routes``
(then ``ruff format``): run it again after changing their routes (a test fails until then). To make a
blueprint lazy, add an entry with its reference and no rules, then run it.
"""

from conexoos.framework.lazy_blueprints import LazyBlueprint

TABLE = "conexoos.app.server.blueprint_routes"

BLUEPRINTS = {
    "account_settings": LazyBlueprint(
        "conexoos.app.blueprints.account_settings:account_settings",
        "account_settings",
        (
            (
                "/settings/account",
                "account_settings.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/account/export",
                "account_settings.request_export",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/account/export/<token>",
                "account_settings.download_export",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/account/delete",
                "account_settings.delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "accounts": LazyBlueprint(
        "conexoos.app.blueprints.accounts:accounts",
        "accounts",
        (
            (
                "/signup",
                "accounts.signup",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/signup/sent",
                "accounts.signup_sent",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/signup/confirm/<token>",
                "accounts.confirm_signup",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/login",
                "accounts.login",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/logout",
                "accounts.logout",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/logout/provider",
                "accounts.leaving",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/logout",
                "accounts.logout_by_get",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin": LazyBlueprint(
        "conexoos.app.blueprints.admin:admin",
        "admin",
        (
            (
                "/admin",
                "admin.overview",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/users",
                "admin.users",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>",
                "admin.user",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/suspend",
                "admin.suspend",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/unsuspend",
                "admin.unsuspend",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/role",
                "admin.change_role",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/plan",
                "admin.change_plan",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/reset-2fa",
                "admin.reset_two_factor",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/resend-verification",
                "admin.resend_verification",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/users/<id:user_id>/delete",
                "admin.delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/audit",
                "admin.audit_log",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/audit.csv",
                "admin.audit_csv",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/invites",
                "admin.invitations",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/admin/invites/<id:invite_id>/revoke",
                "admin.revoke_invite",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/signup-policy",
                "admin.signup_policy",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_blocklist": LazyBlueprint(
        "conexoos.app.blueprints.admin_blocklist:admin_blocklist",
        "admin_blocklist",
        (
            (
                "/admin/blocklist",
                "admin_blocklist.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/blocklist/add",
                "admin_blocklist.add",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/blocklist/<id:domain_id>/remove",
                "admin_blocklist.remove",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/blocklist/import",
                "admin_blocklist.import_file",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_media": LazyBlueprint(
        "conexoos.app.blueprints.admin_media:admin_media",
        "admin_media",
        (
            (
                "/admin/media",
                "admin_media.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/media",
                "admin_media.upload",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/media/<id:item_id>",
                "admin_media.item",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/media/<id:item_id>/delete",
                "admin_media.delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_menus": LazyBlueprint(
        "conexoos.app.blueprints.admin_menus:admin_menus",
        "admin_menus",
        (
            (
                "/admin/menus",
                "admin_menus.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/menus/<any(header, footer):menu>/add",
                "admin_menus.add",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/menus/<id:item_id>/edit",
                "admin_menus.edit",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/admin/menus/<id:item_id>/move",
                "admin_menus.move",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/menus/<any(header, footer):menu>/order",
                "admin_menus.order",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/menus/<id:item_id>/delete",
                "admin_menus.delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_pages": LazyBlueprint(
        "conexoos.app.blueprints.admin_pages:admin_pages",
        "admin_pages",
        (
            (
                "/admin/pages",
                "admin_pages.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/pages/new",
                "admin_pages.new",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/admin/pages/<id:page_id>/edit",
                "admin_pages.edit",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/admin/pages/preview",
                "admin_pages.preview",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/pages/<id:page_id>/delete",
                "admin_pages.confirm_delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/pages/<id:page_id>/delete",
                "admin_pages.delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/pages/<id:page_id>/revisions",
                "admin_pages.revisions",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/pages/<id:page_id>/revisions/<id:revision_id>",
                "admin_pages.changes",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/pages/<id:page_id>/revisions/<id:revision_id>/restore",
                "admin_pages.restore",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_plugins": LazyBlueprint(
        "conexoos.app.blueprints.admin_plugins:admin_plugins",
        "admin_plugins",
        (
            (
                "/admin/plugins",
                "admin_plugins.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/plugins/<name>/enable",
                "admin_plugins.enable",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/plugins/<name>/disable",
                "admin_plugins.disable",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_reports": LazyBlueprint(
        "conexoos.app.blueprints.admin_reports:admin_reports",
        "admin_reports",
        (
            (
                "/admin/reports",
                "admin_reports.queue",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>",
                "admin_reports.report",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>/dismiss",
                "admin_reports.dismiss",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>/hide-link",
                "admin_reports.hide_link",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>/hide-product",
                "admin_reports.hide_product",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>/hide-item",
                "admin_reports.hide_item",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>/suspend",
                "admin_reports.confirm_suspend",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/reports/<id:report_id>/suspend",
                "admin_reports.suspend",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "admin_settings": LazyBlueprint(
        "conexoos.app.blueprints.admin_settings:admin_settings",
        "admin_settings",
        (
            (
                "/admin/settings",
                "admin_settings.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/admin/settings",
                "admin_settings.save",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "appearance_settings": LazyBlueprint(
        "conexoos.app.blueprints.appearance_settings:appearance_settings",
        "appearance_settings",
        (
            (
                "/settings/appearance",
                "appearance_settings.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/appearance",
                "appearance_settings.submit",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/appearance/preview",
                "appearance_settings.preview",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "capture": LazyBlueprint(
        "conexoos.app.blueprints.capture:capture",
        "capture",
        (
            (
                "/capture/<id:block_id>",
                "capture.sign_up",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/capture/<id:block_id>",
                "capture.form_page",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/capture/confirm/<token>",
                "capture.confirm",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
        ),
        TABLE,
    ),
    "capture_dashboard": LazyBlueprint(
        "conexoos.app.blueprints.capture_dashboard:capture_dashboard",
        "capture_dashboard",
        (
            (
                "/dashboard/signups",
                "capture_dashboard.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/dashboard/signups/signups.csv",
                "capture_dashboard.download",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/dashboard/signups/<id:entry_id>/delete",
                "capture_dashboard.delete",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "dashboard": LazyBlueprint(
        "conexoos.app.blueprints.dashboard:dashboard",
        "dashboard",
        (
            (
                "/dashboard",
                "dashboard.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/dashboard/settings",
                "dashboard.settings",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/dashboard/qr.<any(png, svg):kind>",
                "dashboard.qr",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "email": LazyBlueprint(
        "conexoos.app.blueprints.email_verification:email",
        "email",
        (
            (
                "/verify/<token>",
                "email.verify",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/settings/email",
                "email.settings",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/settings/email/resend",
                "email.resend",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/email/confirm/<token>",
                "email.confirm_change",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/settings/email/undo/<token>",
                "email.undo_change",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
        ),
        TABLE,
    ),
    "linked_signins": LazyBlueprint(
        "conexoos.app.blueprints.linked_signins:linked_signins",
        "linked_signins",
        (
            (
                "/settings/sign-ins",
                "linked_signins.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/sign-ins/<id:identity_id>/unlink",
                "linked_signins.unlink",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "media": LazyBlueprint(
        "conexoos.app.blueprints.media:media",
        "media",
        (
            (
                "/media/<path:filename>",
                "media.serve",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/media/library/<id:item_id>/<name>",
                "media.library_file",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "passkey_login": LazyBlueprint(
        "conexoos.app.blueprints.passkey_login:passkey_login",
        "passkey_login",
        (
            (
                "/login/passkey/options",
                "passkey_login.options",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/login/passkey",
                "passkey_login.login",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/login/two-factor/passkey/options",
                "passkey_login.second_factor_options",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/login/two-factor/passkey",
                "passkey_login.second_factor",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "passkeys": LazyBlueprint(
        "conexoos.app.blueprints.passkeys:passkeys_blueprint",
        "passkeys",
        (
            (
                "/settings/passkeys",
                "passkeys.settings",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/passkeys/options",
                "passkeys.registration_options",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/passkeys",
                "passkeys.register",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/passkeys/<id:passkey_id>/rename",
                "passkeys.rename",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/passkeys/<id:passkey_id>/delete",
                "passkeys.remove",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "password_reset": LazyBlueprint(
        "conexoos.app.blueprints.password_reset:password_reset",
        "password_reset",
        (
            (
                "/password/forgot",
                "password_reset.forgot",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/password/forgot/sent",
                "password_reset.sent",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/password/reset/<token>",
                "password_reset.reset",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
        ),
        TABLE,
    ),
    "products_page": LazyBlueprint(
        "conexoos.app.blueprints.products_page:products_page",
        "products_page",
        (
            (
                "/dashboard/products",
                "products_page.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "reports": LazyBlueprint(
        "conexoos.app.blueprints.reports:page_reports",
        "reports",
        (
            (
                "/<username>/report",
                "reports.report",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/<username>/report/thanks",
                "reports.thanks",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "security": LazyBlueprint(
        "conexoos.app.blueprints.security:security",
        "security",
        (
            (
                "/settings/security",
                "security.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/security/password",
                "security.password",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/security/sessions/<id:session_id>/end",
                "security.end_one",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/security/sessions/end-others",
                "security.end_others",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "site_pages": LazyBlueprint(
        "conexoos.app.blueprints.site_pages:site_pages_blueprint",
        "site_pages",
        (
            (
                "/p/<slug>",
                "site_pages.show",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "stats_page": LazyBlueprint(
        "conexoos.app.blueprints.stats_page:stats_page",
        "stats_page",
        (
            (
                "/dashboard/stats",
                "stats_page.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "subscriptions": LazyBlueprint(
        "conexoos.app.blueprints.subscriptions:subscriptions",
        "subscriptions",
        (
            (
                "/subscriptions",
                "subscriptions.index",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/subscriptions/checkout",
                "subscriptions.checkout",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/subscriptions/choose",
                "subscriptions.choose",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/subscriptions/cancel",
                "subscriptions.confirm_cancel",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/subscriptions/cancel",
                "subscriptions.cancel",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/subscriptions/keep",
                "subscriptions.keep",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/subscriptions/portal",
                "subscriptions.portal",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/subscriptions/manage-billing",
                "subscriptions.manage_billing",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/stripe/webhook",
                "subscriptions.webhook",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "two_factor": LazyBlueprint(
        "conexoos.app.blueprints.two_factor:two_factor",
        "two_factor",
        (
            (
                "/settings/two-factor",
                "two_factor.settings",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/settings/two-factor/totp/start",
                "two_factor.start_totp",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/two-factor/totp",
                "two_factor.enrol_totp",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
            (
                "/settings/two-factor/totp/disable",
                "two_factor.disable_totp",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/two-factor/recovery-codes",
                "two_factor.regenerate_codes",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/settings/two-factor/recovery-codes",
                "two_factor.recovery_codes_page",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/login/two-factor",
                "two_factor.login_step",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["GET", "POST"],
                    "subdomain": None,
                },
            ),
        ),
        TABLE,
    ),
    "links_api": LazyBlueprint(
        "conexoos.app.blueprints.links_api:links_api",
        "links_api",
        (
            (
                "/api/links",
                "links_api.get_links",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/api/links/locks",
                "links_api.get_link_locks",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/api/links/icons",
                "links_api.get_link_icons",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/api/add/link",
                "links_api.add_link",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/api/edit/link/<id:link_id>",
                "links_api.edit_link",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["PUT", "PATCH"],
                    "subdomain": None,
                },
            ),
            (
                "/api/delete/link/<id:link_id>",
                "links_api.delete_link",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["DELETE"], "subdomain": None},
            ),
            (
                "/api/links/reorder",
                "links_api.reorder_links",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/api/link/<id:link_id>/icon",
                "links_api.upload_icon",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/api/link/<id:link_id>/icon",
                "links_api.remove_icon",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["DELETE"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "products_api": LazyBlueprint(
        "conexoos.app.blueprints.products_api:products_api",
        "products_api",
        (
            (
                "/api/products",
                "products_api.get_products",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/api/add/product",
                "products_api.add_product",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/api/edit/product/<id:product_id>",
                "products_api.edit_product",
                {
                    "defaults": {},
                    "provide_automatic_options": None,
                    "methods": ["PUT", "PATCH"],
                    "subdomain": None,
                },
            ),
            (
                "/api/delete/product/<id:product_id>",
                "products_api.delete_product",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["DELETE"], "subdomain": None},
            ),
            (
                "/api/products/reorder",
                "products_api.reorder_products",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/api/product/<id:product_id>/image",
                "products_api.upload_image",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "blocks_api": LazyBlueprint(
        "conexoos.app.blueprints.blocks_api:blocks_api",
        "blocks_api",
        (
            (
                "/api/blocks",
                "blocks_api.list_blocks",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/api/blocks",
                "blocks_api.add_block",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
            (
                "/api/blocks/<id:block_id>",
                "blocks_api.edit_block",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["PATCH"], "subdomain": None},
            ),
            (
                "/api/blocks/<id:block_id>",
                "blocks_api.delete_block",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["DELETE"], "subdomain": None},
            ),
            (
                "/api/blocks/reorder",
                "blocks_api.reorder_blocks",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["POST"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "stats_api": LazyBlueprint(
        "conexoos.app.blueprints.stats_api:stats_api",
        "stats_api",
        (
            (
                "/api/stats",
                "stats_api.get_stats",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
            (
                "/api/stats.csv",
                "stats_api.get_stats_csv",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
    "openapi": LazyBlueprint(
        "conexoos.app.blueprints.openapi:openapi",
        "openapi",
        (
            (
                "/api/openapi.json",
                "openapi.document",
                {"defaults": {}, "provide_automatic_options": None, "methods": ["GET"], "subdomain": None},
            ),
        ),
        TABLE,
    ),
}
