"""First-run setup: on a site without an administrator, ``/setup`` makes the first one.

Who may open it (see README, "Operating a site"):

- a client on the server itself: the request's peer address (after ``SERVER_ENV.TRUSTED_PROXIES`` is
  applied by ``framework/proxy.py``, and only then) is a loopback address, no trusted proxy rewrote it,
  and the request carries no proxy header at all (see :mod:`.local_requests`: a reverse proxy on the
  same host would otherwise make every visitor look local); or
- anyone holding a setup token: signed with the app's key, valid :data:`TOKEN_MAX_AGE` seconds, written
  to the server's log at the first request of each process and at each refused visit (at most once a
  minute), and printed by ``conexoos setup-token``.

Setup runs once: it stores ``setup_completed_at`` in the same transaction that makes the administrator,
inserting that row first, so two setups racing make one administrator (the other's insert of the same key
fails). After that, or once any administrator exists, ``/setup`` is a 404 and every token is spent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.datastructures import Headers

from conexoos.app.models.persistent import ADMIN, SiteSetting, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from conexoos.framework.lazy import lazy_module
from conexoos.framework.urls import external_url, public_url

from . import audit, local_requests, site_settings, tokens

if TYPE_CHECKING:
    from . import accounts, email_addresses
else:  # sign-up, second factors, TOTP, passkeys: the setup blueprint is loaded by every worker (its hook)
    accounts = lazy_module("conexoos.app.controllers.accounts")
    email_addresses = lazy_module("conexoos.app.controllers.email_addresses")

log = logging.getLogger("conexoos.setup")
TOKEN_PURPOSE = "first-run-setup"
TOKEN_MAX_AGE = 24 * 3600
LOG_EVERY = 60.0
"""Seconds between two log lines with a token from one process (refused visits can be many)."""
_logged = {"at": -LOG_EVERY}
_log_lock = threading.Lock()


class SetupUnavailable(Exception):
    """Setup already ran, or an administrator exists (also: another setup won the race)."""


def available() -> bool:
    """Whether ``/setup`` may run: no administrator exists and setup never completed (two queries)."""
    if db.session.scalar(select(exists().where(User.role == ADMIN))):
        return False
    return db.session.get(SiteSetting, site_settings.SETUP_COMPLETED) is None


SEEN_DONE = "conexoos_app_setup_seen_done"
"""Key of ``app.extensions`` set once :func:`pending` found setup done: never asked again by this process."""


def pending() -> bool:
    """Whether setup still waits (:func:`available`), for the home page's notice: once it is seen done,
    this process asks the database no more (setup does not open again), so a visit costs no query."""
    if current_app.extensions.get(SEEN_DONE):
        return False
    if available():
        return True
    current_app.extensions[SEEN_DONE] = True
    return False


def is_local(
    remote_address: str | None,
    headers: Headers | Mapping[str, str],
    environ: Mapping[str, object] | None = None,
) -> bool:
    """Whether the request comes from the server itself, not through any proxy, and names this machine
    or the site in its ``Host`` (not a host name re-pointed at it: see local_requests)."""
    return local_requests.is_local(
        remote_address, [name for name, value in headers.items() if value], environ or {}
    ) and local_requests.names_this_host(headers.get("Host", ""), public_url())


def make_token() -> str:
    """A fresh setup token (valid :data:`TOKEN_MAX_AGE` seconds, until setup completes)."""
    return tokens.make_token(TOKEN_PURPOSE, {"s": 1})


def token_valid(token: str) -> bool:
    """Whether ``token`` is a setup token made by this site within :data:`TOKEN_MAX_AGE` seconds."""
    if not token:
        return False
    try:
        tokens.read_token(TOKEN_PURPOSE, token, TOKEN_MAX_AGE)
    except tokens.TokenError:
        return False
    return True


def setup_link(token: str) -> str:
    """The absolute address of the setup page with ``token`` (from ``PUBLIC_URL``)."""
    return external_url("setup.page", token=token)


def trusts_local_requests() -> bool:
    """Whether a request from the server itself may open setup without the link: under DEV only. Under
    UAT and PROD the site usually sits behind a proxy on the same host, and one that adds no forwarding
    header (a bare ``proxy_pass``) makes every visitor look local: there, only the link opens setup."""
    return bool(current_app.extensions["conexoos"].settings.is_development)


def local_setup_url() -> str | None:
    """The address that opens setup from the server itself without the link (the public URL, which
    under DEV is the bound address and port); None under UAT and PROD, where only the link does."""
    return external_url("setup.page") if trusts_local_requests() else None


def log_pending(force: bool = False) -> None:
    """Say in the log that setup is pending and how to open it (at most once a minute per process unless
    ``force``). The log holds no setup link: a link there would open setup to whoever reads the logs (and
    their redaction hides it anyway); ``conexoos setup-token`` prints one on the server."""
    with _log_lock:
        now = time.monotonic()
        if not force and now - _logged["at"] < LOG_EVERY:
            return
        _logged["at"] = now
    local = local_setup_url()
    log.warning(
        "No administrator yet: run `conexoos setup-token` on the server for a one-time link to set up "
        "this site%s",
        f", or open {local} from this machine" if local else "",
    )


def complete(site_name: str, email: str, username: str, password: str, signup_policy: str) -> User:
    """Make the first administrator and store the site's name and sign-up policy, all in one transaction,
    with the mail that verifies the administrator's address.

    Raises :class:`~.accounts.SignupError` (username, email, password) or
    :class:`~.site_settings.SettingError` for a bad value, :class:`SetupUnavailable` when setup already
    ran or lost a race.
    """
    # Checks and hashes, outside the lock.
    admin = accounts.build_account(email, username, password, role=ADMIN)
    for key, raw in (("site_name", site_name), ("signup_policy", signup_policy)):
        site_settings.SETTINGS[key].check(raw)
    db.session.commit()  # end any read transaction: the lock below is the transaction's first write
    try:
        site_settings.store(site_settings.SETUP_COMPLETED, utcnow().isoformat())
        db.session.flush()  # the row that makes racing setups collide
        if not available_after_lock():
            raise SetupUnavailable("An administrator already exists.")
        db.session.add(admin)
        site_settings.store("site_name", site_name)
        site_settings.store("signup_policy", signup_policy)
        db.session.flush()
        audit.record(
            email_addresses.SETUP_ACTION,
            admin,
            None,
            _state(admin, site_name, signup_policy),
            f"site set up; first administrator {admin.username}",
            actor=admin,
        )
        # The address was typed, never proved: the usual link, as at sign-up.
        email_addresses.queue_verification(admin, at_setup=True)
        db.session.commit()
    except (IntegrityError, OperationalError) as error:
        db.session.rollback()
        raise SetupUnavailable("Setup already ran.") from error
    except BaseException:
        db.session.rollback()
        raise
    log.info("setup completed: administrator %s (id %s)", admin.username, admin.id)
    return admin


def store_site(site_name: str, signup_policy: str) -> None:
    """Store the site's name and sign-up policy, for a site without its own password login
    (``LOGINS.local.ENABLED: false``): setup makes no administrator then (one with a password could never
    log in), and stays open until one exists, made by the operator with ``conexoos user set-role
    <username> admin`` once that person signed in through the provider (see :func:`operator_steps`).

    Raises :class:`~.site_settings.SettingError` for a bad value, :class:`SetupUnavailable` when an
    administrator exists."""
    for key, raw in (("site_name", site_name), ("signup_policy", signup_policy)):
        site_settings.SETTINGS[key].check(raw)
    if not available():
        raise SetupUnavailable("An administrator already exists.")
    site_settings.store("site_name", site_name)
    site_settings.store("signup_policy", signup_policy)
    audit.record(
        "setup.site",
        ("site", None),
        None,
        {"site_name": site_name.strip(), "signup_policy": signup_policy},
        "site named before its first administrator (no local login)",
    )
    db.session.commit()


SET_ROLE = "conexoos user set-role <username> admin"
"""The command that makes the first administrator of a site without its own password login."""


def available_after_lock() -> bool:
    """No administrator exists (checked once this transaction holds the setup row)."""
    return not db.session.scalar(select(exists().where(User.role == ADMIN)))


def _state(admin: User, site_name: str, signup_policy: str) -> dict[str, object]:
    return {
        "administrator": admin.username,
        "email": admin.email,
        "site_name": site_name.strip(),
        "signup_policy": signup_policy,
    }
