"""Link locks: a sensitive-content notice or a password that ``/go/<id>`` asks for before it redirects.

The visitor needs no session (``/go`` is served to anonymous visitors, and with the session store down):
the lock form carries a signed, short-lived token naming the link and its lock as shown, and the answer
is checked against it. A cross-site post gains nothing a plain link to ``/go/<id>`` would not, so no
session-bound CSRF token is needed; the signed token stops a form from being replayed after the owner
changed the lock and makes every answer come from a form this site rendered in the last
:data:`FORM_MAX_AGE` seconds.

Wrong passwords are counted per (link, visitor network) and per link from every network together, in the
rate-limit storage as log-ins are (``login_throttle``); past either limit the answer is 429 until the window
ends. A right password is never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conexoos.app.dto.links import PASSCODE_MAX
from conexoos.app.models.persistent import UserLink
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import count, seconds_until_allowed
from conexoos.app.utils.wording import waiting
from conexoos.framework.lazy import lazy_module

from .tokens import TokenError, fingerprint, make_token, read_token

if TYPE_CHECKING:
    from . import accounts
else:  # with sign-up, its mail and invites: every public page imports this module
    accounts = lazy_module("conexoos.app.controllers.accounts")

TOKEN_PURPOSE = "link-lock"
FORM_MAX_AGE = 30 * 60
"""Seconds a lock form may be answered after it was shown."""
PASSWORD_MAX = PASSCODE_MAX
"""Longest link password accepted (longer answers are wrong without hashing them)."""
FAILURES_PER_NETWORK = "5 per 15 minutes"
"""Wrong passwords one visitor network may try against one link before it must wait."""
FAILURES_PER_LINK = "50 per 1 hour"
"""Wrong passwords from every network together against one link before everyone must wait."""
SENSITIVE_NOTICE = "This link may contain content for adults."


class LockRefused(ValueError):
    """The answer does not open the lock; ``status`` is the HTTP status to send with ``message``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LockThrottled(LockRefused):
    """Too many wrong passwords for this link; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many wrong passwords for this link. Try again in {waiting(retry_after)}.",
            status=429,
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class LockAnswer:
    """What the visitor sent from the lock form."""

    token: str
    confirmed: bool
    password: str


def form_token(link: UserLink) -> str:
    """The signed token the lock form carries for ``link`` as it is locked now."""
    return make_token(TOKEN_PURPOSE, {"link": link.id, "lock": _lock_state(link)})


def hash_link_password(password: str) -> str:
    """The stored form of a link's password (argon2id, as account passwords); "" removes the password."""
    return accounts.hash_password(password) if password else ""


def stored_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Parsed link fields with a given ``passcode`` (the API's name of the link's password) replaced by
    its hash (``password_hash``)."""
    if "passcode" not in fields:
        return fields
    stored = {name: value for name, value in fields.items() if name != "passcode"}
    stored["password_hash"] = hash_link_password(fields["passcode"])
    return stored


def open_lock(link: UserLink, answer: LockAnswer, remote_address: str) -> None:
    """Return when ``answer`` opens ``link``'s lock; else raise :class:`LockRefused` (400 for a stale or
    forged form or a missing confirmation, 403 for a wrong password) or :class:`LockThrottled` (429)."""
    _check_token(link, answer.token)
    if link.sensitive and not answer.confirmed:
        raise LockRefused("Confirm that you want to continue to this link.")
    if link.password_hash:
        _check_password(link, answer.password, remote_address)


def _check_token(link: UserLink, token: str) -> None:
    try:
        payload = read_token(TOKEN_PURPOSE, token, FORM_MAX_AGE)
    except TokenError as error:
        message = "has expired" if error.expired else "is not valid"
        raise LockRefused(f"This form's security token {message}. Try again below.") from None
    if payload.get("link") != link.id or payload.get("lock") != _lock_state(link):
        raise LockRefused("This link's lock has changed since the form was shown. Try again below.")


def check_not_throttled(link: UserLink, remote_address: str) -> None:
    """Return unless too many wrong passwords were tried against ``link`` from ``remote_address``'s
    network (or from everyone); then raise :class:`LockThrottled`. Nothing for a link without password."""
    if not link.password_hash:
        return
    for limit, scope, key in _failure_keys(link, network_of(remote_address)):
        wait = seconds_until_allowed(limit, scope, key)
        if wait:
            raise LockThrottled(wait)


def _failure_keys(link: UserLink, network: str) -> tuple[tuple[str, str, str], ...]:
    """(limit, scope, key) of each count of wrong passwords for ``link`` tried from ``network``."""
    return (
        (FAILURES_PER_NETWORK, "link-lock-network", f"{link.id}|{network}"),
        (FAILURES_PER_LINK, "link-lock-link", str(link.id)),
    )


def _check_password(link: UserLink, password: str, remote_address: str) -> None:
    check_not_throttled(link, remote_address)
    if not password:
        raise LockRefused("Enter the link's password.", status=400)
    if len(password) <= PASSWORD_MAX and accounts.verify_password_hash(link.password_hash, password):
        return
    for limit, scope, key in _failure_keys(link, network_of(remote_address)):
        count(limit, scope, key)
    raise LockRefused("That password is not right. Check it and try again.", status=403)


def _lock_state(link: UserLink) -> str:
    """A keyed digest of the lock as it is now: changing the notice or the password makes old forms stale."""
    return fingerprint(f"{int(link.sensitive)}|{link.password_hash}")
