"""The product's own configuration keys: ``APP`` and ``SERVICES.stripe``.

The framework finds ``SCHEMA`` here and validates these keys like its own, in ``conexoos config check``, at
start-up and in every command; the README's reference for them is generated from it.
"""

from __future__ import annotations

from typing import Any

from conexoos.app.plans_config import DEFAULT_PLANS, FREE_PLAN, currency_code, plan_conflicts, price_id
from conexoos.framework.schema import Entries, Key, Schema

UNLIMITED = "an integer from 0, or null for unlimited"

PLAN: Schema = {
    "NAME": Key(
        "str", "", "Name shown to people (default: the plan id, capitalised).", empty_means_default=True
    ),
    "PRICE_ID": Key(
        "str",
        "",
        "Stripe price id; a paid plan is on sale only with one and Stripe keys. Each plan its own; none on "
        "`gratis`.",
        empty_means_default=True,
        convert=price_id,
        expected="a Stripe price id (letters, digits and underscores, such as price_1NvX2s)",
    ),
    "PRICE": Key(
        "int",
        0,
        'Price in minor units (cents), for display; without it a plan with a PRICE_ID shows "Price shown at '
        'checkout".',
        minimum=0,
        empty_means_default=True,
        expected="an amount in minor units (cents) from 0",
    ),
    "CURRENCY": Key(
        "str",
        "EUR",
        "ISO 4217 code of PRICE, any case.",
        empty_means_default=True,
        convert=currency_code,
        expected="an ISO 4217 code such as EUR",
    ),
    "INTERVAL": Key(
        "str", "", "Billing interval shown after the price (e.g. month).", empty_means_default=True
    ),
    "MAX_LINKS": Key(
        "int", None, "Links on the page; null = unlimited.", minimum=0, nullable=True, expected=UNLIMITED
    ),
    "MAX_PRODUCTS": Key(
        "int", None, "Products on the page; null = unlimited.", minimum=0, nullable=True, expected=UNLIMITED
    ),
    "MAX_CAPTURE_ENTRIES": Key(
        "int",
        None,
        "Email sign-ups kept from the page's sign-up forms, all forms together; null = unlimited.",
        minimum=0,
        nullable=True,
        expected=UNLIMITED,
    ),
    "HISTORY_DAYS": Key(
        "int",
        None,
        "Days of statistics one can read; null = unlimited.",
        minimum=0,
        nullable=True,
        expected=UNLIMITED,
    ),
    "REMOVE_BRANDING": Key(
        "bool",
        False,
        'Public pages of this plan go without the "Made with" footer link to the site.',
    ),
}

VERIFY_EMAIL_CHOICES = ("required", "optional", "off")
SSO_SECOND_FACTOR_CHOICES = ("trust_idp", "ask")

APP: Schema = {
    "ACCOUNTS": {
        "VERIFY_EMAIL": Key(
            "choice",
            "optional",
            "Email verification at sign-up: required (a sign-up makes its account only when the link "
            "mailed to the address is confirmed, and an unverified page stays unpublished, 404; under "
            "UAT/PROD start-up refuses without SERVICES.smtp), "
            "optional (the link is mailed, the page is public at once) or off (no link; a welcome mail).",
            choices=VERIFY_EMAIL_CHOICES,
            empty_means_default=True,
        ),
        "SSO_LINK_BY_EMAIL": Key(
            "bool",
            False,
            "A first sign-in through `LOGINS` (LDAP, OpenID Connect, SAML) whose provider vouches for the "
            "verified email address of an existing account is linked to that account at once. Off: the "
            "person logs in once with the account's password to link it.",
        ),
        "SSO_SECOND_FACTOR": Key(
            "choice",
            "trust_idp",
            "A sign-in through `LOGINS` to an account with an authenticator app or a passkey: trust_idp "
            "(the provider's login is enough) or ask (the second step follows, as after a password).",
            choices=SSO_SECOND_FACTOR_CHOICES,
            empty_means_default=True,
        ),
    },
    "PLANS": Entries(
        PLAN,
        f"Plans by id; `{FREE_PLAN}` is required. Absent or empty: `gratis` and `pro` as built in. A key "
        "written in another case (`max_links`) is read, with a warning.",
        required=(FREE_PLAN,),
        default=DEFAULT_PLANS,
        case_tolerant=True,
        check=plan_conflicts,
    ),
    "BILLING": {
        "PAST_DUE_GRACE_DAYS": Key(
            "int", 7, "How long a `past_due` subscription keeps its paid plan, in days.", minimum=0
        ),
    },
    "ANALYTICS": {
        "RETENTION_DAYS": Key(
            "int", 90, "Days raw events are kept; the rollups are kept for good.", minimum=1
        ),
        "COUNTRY_HEADER": Key(
            "str",
            "",
            "Request header holding a two-letter country code set by a proxy or CDN (e.g. `CF-IPCountry`).",
        ),
        "FLUSH_BATCH": Key(
            "int",
            1000,
            "Recorded views and clicks that the write buffer's flush (task `analytics-buffer-flush`, every "
            "second) inserts in one statement; it stores at most 20 such batches a run.",
            minimum=1,
            maximum=10000,
        ),
        "BUFFER_FSYNC": Key(
            "bool",
            False,
            "Without Redis, fsync each recorded view or click to the local write buffer's file before the "
            "request answers. Either way an acknowledged event survives kill -9 and SIGTERM of the worker "
            "and a database outage (the kernel holds the write); `true` also keeps it through a machine "
            "crash or power cut, at one disk flush per counted request; `false` may lose the last seconds "
            "then, as SQLite in WAL mode with `synchronous=NORMAL` does (see README, write buffer).",
        ),
    },
    "PAGE_CACHE": {
        "ENABLED": Key(
            "bool",
            True,
            "Keep each public page `/<username>` rendered for anonymous visitors (in Redis or memcached "
            "when `SERVICES` has one, else in the worker's memory), and the targets of the links it showed, "
            "so that pages and `/go` redirects still answer while the database is down.",
        ),
        "TTL": Key(
            "int",
            300,
            "Seconds a cached page is served without rendering it again (every change to the page, and a "
            "link's schedule opening or closing, ends it sooner).",
            minimum=1,
        ),
        "STALE_TTL": Key(
            "int",
            86400,
            "Seconds a cached page and a link's target are kept for a database outage: while the database "
            "does not answer, a page older than `TTL` that nothing has changed since is still served.",
            minimum=1,
        ),
        "MAX_ENTRIES": Key(
            "int",
            2000,
            "The most pages and link targets a worker keeps in its memory (least recently used go first); "
            "not used with Redis or memcached.",
            minimum=1,
        ),
    },
    "MEDIA_LIBRARY": {
        "MAX_FILE_BYTES": Key(
            "int",
            8 * 1024 * 1024,
            "Largest file one may upload to the media library `/admin/media`, in bytes (images are also "
            "capped at 8 MB and 40 megapixels by the image decoder; a request over Flask's "
            "`MAX_CONTENT_LENGTH`, 16 MB by default, is refused before it is read).",
            minimum=1,
        ),
        "MAX_TOTAL_BYTES": Key(
            "int",
            1024 * 1024 * 1024,
            "The site's storage limit for the media library, in bytes: an upload that would take the "
            "library's stored files (every image rendition, every PDF) over it is refused.",
            minimum=0,
        ),
    },
}

STRIPE_TIMEOUT = 10
"""Seconds to wait for each answer from Stripe, unless ``SERVICES.stripe.TIMEOUT`` says otherwise."""

STRIPE: Schema = {
    "SECRET_KEY": Key(
        "str",
        "",
        "Stripe secret key; without it (or without `WEBHOOK_SECRET`) paid plans show as unavailable and "
        "`gratis` still works.",
        secret=True,
    ),
    "WEBHOOK_SECRET": Key(
        "str",
        "",
        "Signing secret of the `/stripe/webhook` endpoint. Paid plans are sold only with it: a payment is "
        "applied by the webhook.",
        secret=True,
    ),
    "API_BASE": Key(
        "str",
        "",
        "Another base URL for Stripe's API (tests, proxies). On a loopback host, `HTTP(S)_PROXY` is ignored.",
    ),
    "TIMEOUT": Key(
        "int",
        STRIPE_TIMEOUT,
        "Seconds to wait for each answer from Stripe. A call that times out is not tried again: the person "
        "is told to try again in a minute rather than kept waiting (a lost connection is retried twice).",
        minimum=1,
        maximum=80,
        empty_means_default=True,
    ),
}

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"


def _holds_csrf_header(headers: list[str]) -> list[str]:
    """``headers`` when the product's scripts' header is among them (any case, as HTTP reads names)."""
    if CSRF_HEADER.lower() not in (str(name).lower() for name in headers):
        raise ValueError(headers)
    return headers


FLASK_CONFIG: Schema = {
    "WTF_CSRF_FIELD_NAME": Key(
        "choice",
        CSRF_FIELD,
        f"The product's forms send their CSRF token in the field `{CSRF_FIELD}`: it cannot be renamed.",
        choices=(CSRF_FIELD,),
    ),
    "WTF_CSRF_HEADERS": Key(
        "list",
        None,
        f"Headers that may carry the CSRF token; the product's scripts send `{CSRF_HEADER}`, which must be "
        "one of them.",
        convert=_holds_csrf_header,
        expected=f"a list of header names holding {CSRF_HEADER} (the product's scripts send it)",
    ),
}
"""Flask-WTF settings the product's pages rely on: its forms and scripts send the token where these say."""

SCHEMA: dict[str, Any] = {"APP": APP, "SERVICES": {"stripe": STRIPE}, "FLASK": {"CONFIG": FLASK_CONFIG}}
"""What the framework validates for this project, besides its own sections."""


def mail_features(tree: dict[str, Any]) -> dict[str, bool]:
    """The features that send mail, and whether the product cannot run without them (read by the framework
    at start-up: under UAT/PROD without SERVICES.smtp, a required one refuses to start, others warn)."""
    verify = tree["APP"]["ACCOUNTS"]["VERIFY_EMAIL"]
    features = {
        "password reset": False,
        "email change": False,
        "sign-up notices": False,
        "double opt-in of email sign-up forms (without SMTP, entries stay unconfirmed)": False,
    }
    if verify != "off":
        features[f"email verification (APP.ACCOUNTS.VERIFY_EMAIL: {verify})"] = verify == "required"
    return features
