"""Throttling of the login's second step that slows guessing down without locking the owner out.

Whoever reaches the second step gave the account's password. Wrong codes (or passkey answers) are counted
per (account, network), as wrong passwords are (:mod:`.login_throttle`): a network that tried too many gets
429 for that account for a minute, while the owner's code from any other network is checked as usual.

Every network together may try at most :data:`WRONG_PER_ACCOUNT` wrong codes an hour against one account:
that is the bound on guessing, and the only way left to delay the owner. Reaching it takes that many
wrong codes, each after the right password; a TOTP guess wins with odds of about 3 in a million (the
previous, current and next code are accepted), so 30 an hour give a guesser about 1 chance in 11,000 an
hour, while the owner, told by mail after :data:`ALERT_AFTER`, changes the password that let them in.

Counters live in the rate-limit storage (Redis when configured, else memory); with
``RATELIMIT_ENABLED: false`` nothing is counted.
"""

from __future__ import annotations

from conexoos.app.controllers.login_throttle import account_key, alert_due
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import transaction
from conexoos.app.utils.rate_limit import count, seconds_until_allowed
from conexoos.app.utils.wording import waiting

WRONG_PER_NETWORK = "5 per 1 minute"
"""Wrong second factors one network may give for one account before it must wait."""
WRONG_PER_ACCOUNT = "30 per 1 hour"
"""Wrong second factors from all networks together for one account: the bound on guessing."""
ALERT_AFTER = "5 per 1 hour"
"""Wrong second factors for one account, from anywhere, that make its owner's alert due (at most once a
day, as for wrong passwords)."""
NETWORK_SCOPE = "second-factor-account-network"
ACCOUNT_SCOPE = "second-factor-account"
ALERT_COUNT_SCOPE = "second-factor-failures-account"
ALERT_SENT_SCOPE = "second-factor-alert-sent"


class SecondFactorThrottled(Exception):
    """Too many wrong second factors for this account, from this network or in all; wait ``retry_after``."""

    def __init__(self, retry_after: int, whole_account: bool) -> None:
        wait = f"Try again in {waiting(retry_after)}"
        super().__init__(
            f"Too many wrong codes for this account within the hour. {wait}, or use a recovery code later."
            if whole_account
            else f"Too many wrong codes for this account from your network. {wait}, or use another network."
        )
        self.retry_after = retry_after


def refuse_if_throttled(user: User, network: str) -> None:
    """Raise :class:`SecondFactorThrottled` when ``network`` may not try a second factor for ``user`` now
    (counts nothing: only wrong answers count)."""
    wait = seconds_until_allowed(WRONG_PER_NETWORK, NETWORK_SCOPE, _network_key(user, network))
    if wait:
        raise SecondFactorThrottled(wait, whole_account=False)
    wait = seconds_until_allowed(WRONG_PER_ACCOUNT, ACCOUNT_SCOPE, account_key("", user))
    if wait:
        raise SecondFactorThrottled(wait, whole_account=True)


def record_failure(user: User, network: str) -> None:
    """Count one wrong second factor from ``network`` for ``user``, and mail the owner (``failed_codes``,
    committed) when the failures reached :data:`ALERT_AFTER`, at most once a day."""
    key = account_key("", user)
    count(WRONG_PER_NETWORK, NETWORK_SCOPE, _network_key(user, network))
    count(WRONG_PER_ACCOUNT, ACCOUNT_SCOPE, key)
    count(ALERT_AFTER, ALERT_COUNT_SCOPE, key)
    if alert_due(ALERT_AFTER, ALERT_COUNT_SCOPE, ALERT_SENT_SCOPE, key):
        with transaction():
            queue_mail_to_account(user.email, "failed_codes", user=user, network=network)


def _network_key(user: User, network: str) -> str:
    return f"{account_key('', user)}|{network}"
