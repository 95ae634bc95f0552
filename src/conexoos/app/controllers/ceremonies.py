"""Where a passkey ceremony waits for the browser's answer: for 5 minutes, in the session (taken out once)
or in the challenge itself.

Logged-in and half-logged-in sessions are server-side, so there the challenge is kept server-side
(:func:`keep`, :func:`take`) and is single use. A visitor who is not logged in has no server session (the
framework stores nothing for visitors), and writing the challenge into their signed cookie would race:
the login page asks for a challenge as it loads (passkey autofill), and that answer, arriving after a
click on a sign-in button, would put back a cookie without the sign-in's state. So a login by passkey
alone gets a *signed* challenge (:func:`signed_challenge`): random bytes, the issue time and an HMAC of
both under the site's secret key; the browser's answer carries it back (:func:`signed_answer`), and
nothing is written. Either way each passkey records the issue time of the newest challenge it answered
(``Passkey.record_use``) and refuses an answer to an older one or the same one again: a replay.
"""

from __future__ import annotations

import hmac
import secrets
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass

from flask import session

from conexoos.app.controllers.tokens import keyed_digest

LIFETIME = 300
"""Seconds a challenge may be answered in (the browser's own timeout is 2 minutes)."""
NONCE_BYTES = 16
TIME_BYTES = 8
MAC_BYTES = 16
SIGNED_BYTES = NONCE_BYTES + TIME_BYTES + MAC_BYTES


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
        "issued_at": _now_us(),
        "name": name,
    }


def take(purpose: str) -> PendingCeremony | None:
    """The challenge kept for ``purpose``, removed from the session; None when none, or expired."""
    state = session.pop(purpose, None)
    if not isinstance(state, dict):
        return None
    issued_at = int(state["issued_at"])
    if not _fresh(issued_at):
        return None
    return PendingCeremony(
        challenge=urlsafe_b64decode(state["challenge"].encode()),
        issued_at=issued_at,
        user_handle=urlsafe_b64decode(state["handle"].encode()),
        name=str(state["name"]),
    )


def signed_challenge(purpose: str) -> bytes:
    """A new challenge for ``purpose`` that needs no storage: random bytes, the issue time (microseconds)
    and their HMAC under the site's secret key."""
    body = secrets.token_bytes(NONCE_BYTES) + _now_us().to_bytes(TIME_BYTES, "big")
    return body + _mac(purpose, body)


def signed_answer(purpose: str, challenge: bytes) -> PendingCeremony | None:
    """The ceremony of ``challenge`` (as the browser's answer carries it back) when this site made it for
    ``purpose`` less than :data:`LIFETIME` ago; None otherwise (forged, another purpose, expired)."""
    if len(challenge) != SIGNED_BYTES:
        return None
    body, mac = challenge[:-MAC_BYTES], challenge[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(purpose, body)):
        return None
    issued_at = int.from_bytes(body[NONCE_BYTES:], "big")
    if not _fresh(issued_at):
        return None
    return PendingCeremony(challenge=challenge, issued_at=issued_at)


def _mac(purpose: str, body: bytes) -> bytes:
    return keyed_digest(b"conexoos passkey challenge\0" + purpose.encode() + b"\0" + body)[:MAC_BYTES]


def _fresh(issued_at: int) -> bool:
    return issued_at + LIFETIME * 1_000_000 >= _now_us()


def _now_us() -> int:
    return time.time_ns() // 1000
