"""Where a passkey ceremony waits for the browser's answer: in the session, taken out once, for 5 minutes.

Logged-in and half-logged-in sessions are server-side, so there the challenge is server-side and single
use. An anonymous visitor's session is a signed cookie (the framework stores nothing for visitors): a copy
of that cookie would hold the challenge again, so each passkey also records the issue time of the newest
challenge it answered (``Passkey.record_use``), and an answer to an older one is refused.
"""

from __future__ import annotations

import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass

from flask import session

LIFETIME = 300
"""Seconds a challenge may be answered in (the browser's own timeout is 2 minutes)."""


@dataclass(frozen=True)
class PendingCeremony:
    """A challenge given to the browser, with what the answer is checked against."""

    challenge: bytes
    issued_at: int
    """Microseconds since the epoch."""
    user_handle: bytes = b""
    name: str = ""
    """The name the person gave a passkey being added."""


def keep(purpose: str, challenge: bytes, user_handle: bytes = b"", name: str = "") -> None:
    """Remember a new challenge for ``purpose`` (one per purpose: a newer one replaces it)."""
    session[purpose] = {
        "challenge": urlsafe_b64encode(challenge).decode(),
        "handle": urlsafe_b64encode(user_handle).decode(),
        "issued_at": time.time_ns() // 1000,
        "name": name,
    }


def take(purpose: str) -> PendingCeremony | None:
    """The challenge kept for ``purpose``, removed from the session; None when none, or expired."""
    state = session.pop(purpose, None)
    if not isinstance(state, dict):
        return None
    issued_at = int(state["issued_at"])
    if issued_at + LIFETIME * 1_000_000 < time.time_ns() // 1000:
        return None
    return PendingCeremony(
        challenge=urlsafe_b64decode(state["challenge"].encode()),
        issued_at=issued_at,
        user_handle=urlsafe_b64decode(state["handle"].encode()),
        name=str(state["name"]),
    )
