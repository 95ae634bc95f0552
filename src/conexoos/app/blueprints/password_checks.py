"""One budget of password checks per account, shared by every form of a signed-in person that checks the
current password (or a second factor's code instead): changing the password or the email address,
deleting the account, unlinking a sign-in, and the confirmations of two-factor settings and passkeys.

Each form once had a limit of its own, so a stolen session could guess the password at the sum of them
(about 20 a minute). Counted together, per account whatever the session or network, they allow 5 checks
a minute and 20 an hour, as the password form alone did: a stolen session cannot guess the password
here past the log-in's throttling. Every check counts, right or wrong: the count says nothing. What a form
can refuse without the password (a new password the rules refuse, two that differ, a bad address) is
refused first, and costs no check.
"""

from __future__ import annotations

from werkzeug.exceptions import TooManyRequests

from conexoos.app.models.persistent import User
from conexoos.app.utils.rate_limit import enforce

MINUTE_LIMIT = "5/minute"
HOUR_LIMIT = "20/hour"
TOO_MANY_TRIES = "Too many tries of your password (or codes) on this account."


def limit_password_checks(user: User) -> None:
    """Count one password check of ``user``'s account; 429 past :data:`MINUTE_LIMIT` or
    :data:`HOUR_LIMIT` (with ``Retry-After``)."""
    account = str(user.id)
    enforce(MINUTE_LIMIT, "password-check", account, f"{TOO_MANY_TRIES} Wait a minute and try again.")
    enforce(HOUR_LIMIT, "password-check-hour", account, f"{TOO_MANY_TRIES} Wait an hour.")


def password_check_refused(user: User) -> TooManyRequests | None:
    """:func:`limit_password_checks`, for a form that shows the refusal under its password field (what
    was typed kept) rather than on an error page: the 429, or None when the check may go on."""
    try:
        limit_password_checks(user)
    except TooManyRequests as refused:
        return refused
    return None
