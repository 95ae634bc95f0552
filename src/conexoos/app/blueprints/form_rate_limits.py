"""Rate limits of the page-reload forms (sign-up, log-in, password reset): a refused post comes back as the
same form, filled in again, rather than as an error page.

The limit itself is unchanged: a refused post does nothing (no account, no log-in, no mail). Only its
answer is kinder: the form page with status 429 and ``Retry-After``, what was typed kept (never a password:
password fields are drawn empty), a fresh security token, and a sentence at the top saying what did not
happen (nothing was sent, you were not logged in, your password was not changed) and when to try again.
A JSON client (see :func:`~conexoos.framework.wants_json`) keeps the JSON 429 of
:func:`~conexoos.app.utils.rate_limit.enforce`.
"""

from __future__ import annotations

from dataclasses import dataclass

from conexoos.app.utils.rate_limit import enforce, over_limit
from conexoos.app.utils.wording import waiting
from conexoos.framework import wants_json

FROM_YOUR_NETWORK = "Too many attempts from your network."
NOTHING_SENT = "Nothing was sent."
NOT_LOGGED_IN = "You were not logged in."
PASSWORD_NOT_CHANGED = "Your password was not changed."


@dataclass(frozen=True)
class FormRefusal:
    """A form post refused by a rate limit: the sentence for the top of the form, the seconds to wait."""

    message: str
    retry_after: int

    @property
    def headers(self) -> dict[str, str]:
        """The ``Retry-After`` header of the form's page."""
        return {"Retry-After": str(self.retry_after)}


def form_refused(
    *limits: tuple[str, str, str], reason: str = FROM_YOUR_NETWORK, consequence: str = NOTHING_SENT
) -> FormRefusal | None:
    """Count one hit of each ``(limit, scope, key)`` in turn, up to the first one exceeded (as
    :func:`enforce` does); its refusal, saying ``reason``, the ``consequence`` (what did not happen) and
    when to try again, or None when the post may go on. A JSON client gets :func:`enforce`'s 429 raised
    instead."""
    if wants_json():
        for limit, scope, key in limits:
            enforce(limit, scope, key)
        return None
    for limit, scope, key in limits:
        wait = over_limit(limit, scope, key)
        if wait:
            return FormRefusal(f"{reason} {consequence} Try again in about {waiting(wait)}.", wait)
    return None
