"""The current password, asked again of a signed-in person before a change that matters (the password
itself, the email address, deleting the account, unlinking a sign-in, the second factors).

A wrong one counts against the account, whatever the form, session or network. After
:data:`ALERT_AFTER` within the hour, the owner is mailed (``failed_password_checks``), at most once a day as
for failed log-ins: a session that does not know its own password may be someone else's, and the owner
can end it in Settings → Security. How often it may be tried is the blueprints' shared budget
(``blueprints/password_checks.py``).

Counters live in the rate-limit storage (Redis when configured, else memory); with
``RATELIMIT_ENABLED: false`` nothing is counted.
"""

from __future__ import annotations

from flask import request

from conexoos.app.controllers import accounts  # the module: accounts uses this one too
from conexoos.app.controllers.login_throttle import account_key, alert_due
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import transaction
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import count

ALERT_AFTER = "5 per 1 hour"
"""Wrong current passwords for one account, from anywhere, that make its owner's alert due."""
ALERT_COUNT_SCOPE = "current-password-wrong"
ALERT_SENT_SCOPE = "current-password-alert-sent"


def verify(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s; a wrong one is counted, and may mail the owner (committed)."""
    if accounts.verify_password(user, password):
        return True
    record_wrong(user)
    return False


def record_wrong(user: User) -> None:
    """Count one wrong current password for ``user``, and mail them when :data:`ALERT_AFTER` is reached
    and no such mail went out within the day."""
    key = account_key("", user)
    count(ALERT_AFTER, ALERT_COUNT_SCOPE, key)
    if alert_due(ALERT_AFTER, ALERT_COUNT_SCOPE, ALERT_SENT_SCOPE, key):
        with transaction():
            network = network_of(request.remote_addr or "")
            queue_mail_to_account(user.email, "failed_password_checks", user=user, network=network)
