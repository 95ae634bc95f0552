"""The half-logged-in state: the password was right, the second factor is still to come.

It lives in the session, which moves to the server store under a new id when the password passes (and
gets another id when both factors pass, in the accounts blueprint's ``_log_in``). It names the user, the
page to go to after, when it expires, and how many wrong second factors were tried: after
:data:`MAX_ATTEMPTS`, or :data:`LIFETIME` seconds, the password must be given again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import session

from conexoos.app.models.persistent import User
from conexoos.framework import regenerate_session

KEY = "pending_login"
LIFETIME = 300
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class PendingLogin:
    """A user who gave the right password and has ``attempts_left`` tries at the second factor."""

    user: User
    next_url: str
    attempts_left: int


def begin(user: User, next_url: str) -> None:
    """Remember that ``user`` passed the password step (on a server-side session with a new id)."""
    regenerate_session()
    session[KEY] = {"user_id": user.id, "next": next_url, "expires": time.time() + LIFETIME, "failures": 0}


def current() -> PendingLogin | None:
    """The pending login of this session, or None when there is none, it expired or its user is gone."""
    state = session.get(KEY)
    if state is None:
        return None
    if not isinstance(state, dict) or float(state.get("expires", 0)) < time.time():
        clear()
        return None
    user = User.get_by_id(int(state["user_id"]))
    if user is None:
        clear()
        return None
    return PendingLogin(user, str(state["next"]), MAX_ATTEMPTS - int(state["failures"]))


def record_failure() -> int:
    """Count a wrong second factor; return the attempts left (at 0 the pending login is dropped)."""
    state = session.get(KEY)
    if not isinstance(state, dict):
        return 0
    failures = int(state["failures"]) + 1
    if failures >= MAX_ATTEMPTS:
        clear()
        return 0
    session[KEY] = {**state, "failures": failures}
    return MAX_ATTEMPTS - failures


def clear() -> None:
    """Forget the pending login."""
    session.pop(KEY, None)
