"""Signed, expiring tokens for links sent by mail (itsdangerous), one salt per purpose.

A token holds a small JSON payload signed with the app's key and the time it was made; it is not
encrypted, so it carries ids and fingerprints, never secrets. What makes a token single-use is in its
payload: a password reset token holds a fingerprint of the current password hash, an email change token
the address it replaces, so once either changes the token no longer matches.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

clock: Callable[[], float] = time.time
"""The time tokens are stamped and checked with; tests replace it to move time without waiting."""


class TokenError(ValueError):
    """A token that cannot be used; ``expired`` tells an old one from a garbled or forged one."""

    def __init__(self, message: str, expired: bool = False, account_gone: bool = False) -> None:
        super().__init__(message)
        self.expired = expired or account_gone
        self.account_gone = account_gone
        """The link's account was deleted: nothing can be asked for again; signing up is the way on."""


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    """A URL-safe token for ``purpose`` (``password-reset``, ``verify-email``...) holding ``payload``."""
    return str(_serializer(purpose).dumps(payload))


def read_token(purpose: str, token: str, max_age: int) -> dict[str, Any]:
    """The payload of a token made for ``purpose`` at most ``max_age`` seconds ago.

    Raises :class:`TokenError` when it is expired, garbled, forged or made for another purpose.
    """
    if not token.isascii():  # itsdangerous would fail to encode a lone surrogate, not refuse it
        raise TokenError("This link is not valid.")
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenError("This link has expired.", expired=True) from error
    except BadSignature as error:  # also a payload that is not JSON, or not base64
        raise TokenError("This link is not valid.") from error
    if not isinstance(payload, dict):
        raise TokenError("This link is not valid.")
    return payload


def fingerprint(value: str) -> str:
    """A keyed digest of ``value`` (a password hash, an address): a token may show it, not ``value``."""
    return keyed_digest(value.encode()).hex()[:24]


def keyed_digest(message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` under the site's secret key (32 bytes; callers may keep a prefix)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"conexoos-{purpose}", signer=_ClockSigner
    )


def secret_digest(secret: str) -> str:
    """The SHA-256 (hex) a random secret of a mailed link is stored as: the database never holds the link."""
    return hashlib.sha256(secret.encode()).hexdigest()
