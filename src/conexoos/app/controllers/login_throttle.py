"""Log-in throttling that slows guessing down without locking the owner out.

Failed log-ins are counted per (login, network), the login being what was typed in the one spelling
accounts are looked up by (:func:`login_form`: every spelling of an address that logs in to an account is
one login, so writing its domain in full-width letters gives no fresh count):
a network that guessed wrong too often at a login gets 429 for it until the window ends, while a log-in
from any other network goes on as usual. The username and the email of one account are two logins, each
with its own count, known or not: were they one count, a 429 for an email right after guesses at a
public username would tell that the email is that person's (so a guesser has twice the tries at an
account, 10 in the window instead of 5). Failures against an account, through either login and from
every network together, decide when its owner is told (:func:`failed_login_alert_due`).

Counters live in the rate-limit storage (Redis when configured, else memory); with
``RATELIMIT_ENABLED: false`` nothing is counted.
"""

from __future__ import annotations

from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.user import login_form
from conexoos.app.utils.rate_limit import count, seconds_until_allowed
from conexoos.app.utils.wording import waiting

FAILURES_PER_NETWORK = "5 per 15 minutes"
"""Wrong passwords one network may try against one account before it must wait."""
ALERT_AFTER_FAILURES = "5 per 1 hour"
"""Failures against one account, from anywhere, that make its owner's alert due."""
ALERT_AT_MOST = "1 per 1 day"
"""How often an owner is told about failed log-ins at most."""
LOGIN_NETWORK_SCOPE = "login-network"
"""The counters of :data:`FAILURES_PER_NETWORK` (renamed when they stopped being per account: counts kept
under the old name expire with their window)."""


class LoginThrottled(Exception):
    """This network tried too many wrong passwords for this login; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed log-ins with this username or email from your network. Try again in "
            f"{waiting(retry_after)}, or log in from another network."
        )
        self.retry_after = retry_after


def account_key(login: str, user: User | None) -> str:
    """What failures are counted by: the account's id, else the login in its look-up spelling."""
    return f"user:{user.id}" if user is not None else f"login:{login_form(login)}"


def refuse_if_throttled(login: str, network: str) -> None:
    """Raise :class:`LoginThrottled` when ``network`` may not try ``login`` now (counts nothing)."""
    wait = seconds_until_allowed(FAILURES_PER_NETWORK, LOGIN_NETWORK_SCOPE, _key(login, network))
    if wait:
        raise LoginThrottled(wait)


def record_failure(login: str, user: User | None, network: str) -> None:
    """Count one wrong password from ``network`` for ``login`` and, when it names one, against ``user``'s
    account (for its owner's alert)."""
    count(FAILURES_PER_NETWORK, LOGIN_NETWORK_SCOPE, _key(login, network))
    if user is not None:
        count(ALERT_AFTER_FAILURES, "login-failures-account", account_key(login, user))


def failed_login_alert_due(user: User) -> bool:
    """Whether ``user`` should now be emailed about failed log-ins: their account had
    ``ALERT_AFTER_FAILURES`` and no alert went out within ``ALERT_AT_MOST``. True at most once per that
    period: a True answer is taken as the alert being sent."""
    key = account_key("", user)
    return alert_due(ALERT_AFTER_FAILURES, "login-failures-account", "login-alert-sent", key)


def alert_due(threshold: str, failures_scope: str, sent_scope: str, key: str) -> bool:
    """Whether the failures counted in ``failures_scope`` for ``key`` reached ``threshold`` and no alert
    of ``sent_scope`` went out within :data:`ALERT_AT_MOST`; a True answer is taken as the alert sent."""
    if not seconds_until_allowed(threshold, failures_scope, key):
        return False  # fewer failures than the threshold so far
    return count(ALERT_AT_MOST, sent_scope, key)


def _key(login: str, network: str) -> str:
    return f"{account_key(login, None)}|{network}"
