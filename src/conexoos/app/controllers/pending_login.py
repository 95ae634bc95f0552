"""The half-logged-in state: the password was right, the second factor is still to come.

It lives in the session, which moves to the server store under a new id when the password passes (and
gets another id when both factors pass, in ``controllers/login_session.log_in``). It names the user, the
page to go to after, when it expires, and how many wrong second factors were tried: after
:data:`MAX_ATTEMPTS`, or :data:`LIFETIME` seconds, the password must be given again.

A pending login must not outlive the password it was begun with, nor the owner's "log out everywhere
else", so it is bound twice, with no column of its own:

- to a keyed fingerprint of the user's password hash (as password reset tokens are): once the password
  changes (Settings, a reset, an operator), the fingerprint no longer matches;
- to a row of the session registry (``user_session``), entered when the password passes and marked by its
  device label (:data:`DEVICE_MARK`). Every way of ending sessions deletes the user's rows (ending others,
  ending that one session in Settings → Security, a password change or reset, deleting the account), so
  the pending login ends with them; the owner also sees it in the list of sessions and can end it alone.
  (A column on ``user`` such as "sessions ended at" would have needed a model change; the registry already
  is what every ending of sessions acts on.) The row is deleted when
  the pending login ends, and stale ones (left by a browser that never came back) when the user next
  begins one.

:func:`current` checks both at every step, so the TOTP/recovery-code step and the passkey step alike
refuse a pending login that was ended.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from flask import session
from sqlalchemy import delete

from conexoos.app.controllers import maintenance
from conexoos.app.controllers.tokens import fingerprint
from conexoos.app.controllers.user_sessions import (
    approximate_place,
    describe_device,
    forget_current_session,
    sid_hash,
)
from conexoos.app.models.persistent import User, UserSession
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.framework import current_session_id, db, regenerate_session

KEY = "pending_login"
LIFETIME = 300
MAX_ATTEMPTS = 5
DEVICE_MARK = "Second step pending: "
"""How the registry row of a pending login is told from a logged-in session's (and shown in Settings)."""


@dataclass(frozen=True)
class PendingLogin:
    """A user who gave the right password and has ``attempts_left`` tries at the second factor."""

    user: User
    next_url: str
    attempts_left: int


def begin(user: User, next_url: str) -> None:
    """Remember that ``user`` passed the password step (on a server-side session with a new id), bound to
    their current password and entered in their session registry. In maintenance mode the second step is
    not offered to anyone but administrators (see :mod:`.maintenance`)."""
    maintenance.refuse_login(user)
    clear()
    regenerate_session()
    session[KEY] = {
        "user_id": user.id,
        "next": next_url,
        "expires": time.time() + LIFETIME,
        "failures": 0,
        "password": fingerprint(user.password_hash),
    }
    _register(user)


def current() -> PendingLogin | None:
    """The pending login of this session, or None when there is none, it expired, its user is gone, their
    password changed or their sessions were ended since it began."""
    state = session.get(KEY)
    if state is None:
        return None
    if not isinstance(state, dict) or float(state.get("expires", 0)) < time.time():
        clear()
        return None
    user = User.get_by_id(int(state["user_id"]))
    if user is None or not _still_valid(user, state):
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
    """Forget the pending login (and its registry row)."""
    if session.pop(KEY, None) is not None:
        forget_current_session()


def _still_valid(user: User, state: dict[str, object]) -> bool:
    if state.get("password") != fingerprint(user.password_hash):
        return False
    sid = current_session_id()
    return sid is not None and UserSession.with_user(sid_hash(sid), user.id) is not None


def _register(user: User) -> None:
    sid = current_session_id()
    if sid is None:
        raise RuntimeError("pending_login.begin needs a server-side session")
    stale = utcnow() - timedelta(seconds=LIFETIME)
    with transaction():
        db.session.execute(
            delete(UserSession).where(
                UserSession.user_id == user.id,
                UserSession.device.startswith(DEVICE_MARK, autoescape=True),
                UserSession.created_at < stale,
            )
        )
    UserSession(
        user_id=user.id,
        sid_hash=sid_hash(sid),
        device=(DEVICE_MARK + describe_device())[:100],
        place=approximate_place(),
    ).save()
