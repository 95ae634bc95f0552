"""Authenticator apps (TOTP, RFC 6238): enrolment by QR code, codes accepted once, secrets encrypted.

The secret is stored encrypted (Fernet) under a key derived with HKDF from the app's secret key
(``SERVER_ENV.APP_KEY``): a copy of the database alone (a leaked backup, an SQL injection that reads)
does not give away anyone's second factor. The price: changing ``APP_KEY`` makes the stored secrets
unreadable; those users then log in with a recovery code or a passkey and enrol again, or an operator runs
``conexoos user disable-2fa``. Recovery codes and passkeys do not depend on the key.
"""

from __future__ import annotations

import base64
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyotp
from flask import current_app

from conexoos.app.models.persistent import TotpSecret, User
from conexoos.app.models.persistent.base import utcnow

if TYPE_CHECKING:
    from cryptography.fernet import Fernet
# segno and cryptography's Fernet are imported where a QR code is drawn or a secret read: not with the app.

DIGITS = 6
INTERVAL = 30
DRIFT_STEPS = 1
"""Codes of the previous and next 30-second step are accepted too (clocks drift, people type slowly)."""
_KEY_INFO = b"conexoos/totp-secret/v1"
log = logging.getLogger("conexoos.totp")


class TotpError(ValueError):
    """An enrolment step that cannot be done, with a message for the person."""


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as text and the QR code of its ``otpauth://`` URI."""

    secret: str
    uri: str
    qr_data_uri: str


def is_enabled(user: User) -> bool:
    """Whether the user has a confirmed authenticator app."""
    row = TotpSecret.of(user.id)
    return row is not None and row.confirmed_at is not None


def start_enrolment(user: User) -> Enrolment:
    """A new secret for ``user``, not in force until :func:`confirm_enrolment`; replaces an unconfirmed one.

    Raises :class:`TotpError` when an authenticator app is already on (turn it off first).
    """
    row = TotpSecret.of(user.id)
    if row is not None and row.confirmed_at is not None:
        raise TotpError("An authenticator app is already set up. Turn it off first to set up another.")
    secret = pyotp.random_base32()
    if row is None:
        row = TotpSecret(user_id=user.id)
    row.secret = _encrypt(secret)
    row.last_used_step = None
    row.save()
    return enrolment_for(user, secret)


def pending_enrolment(user: User) -> Enrolment | None:
    """The enrolment in progress (a secret not confirmed yet), or None."""
    row = TotpSecret.of(user.id)
    if row is None or row.confirmed_at is not None:
        return None
    secret = _decrypt(row.secret)
    return enrolment_for(user, secret) if secret else None


def enrolment_for(user: User, secret: str) -> Enrolment:
    """The secret, its ``otpauth://`` URI and that URI's QR code as an SVG ``data:`` URI."""
    import segno

    issuer = str(current_app.config.get("APP_NAME") or "Conexoos")
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.username, issuer_name=issuer
    )
    qr_data_uri = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr_data_uri)


def confirm_enrolment(user: User, code: str) -> None:
    """Turn the pending secret on when ``code`` is one of its current codes (that code is then used up).

    Raises :class:`TotpError` when there is no pending secret or the code does not match.
    """
    row = TotpSecret.of(user.id)
    if row is None or row.confirmed_at is not None:
        raise TotpError("Start the set-up again: no authenticator app is waiting to be confirmed.")
    secret = _decrypt(row.secret)
    step = _matching_step(secret, code) if secret else None
    if step is None:
        raise TotpError("That code does not match. Check the time on your phone and try the newest code.")
    row.confirmed_at = utcnow()
    row.last_used_step = step
    row.save()


def verify(user: User, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is a current code of the user's authenticator app that was never accepted before;
    an accepted code (and every earlier one) is used up."""
    row = TotpSecret.of(user.id)
    if row is None or row.confirmed_at is None:
        return False
    secret = _decrypt(row.secret)
    step = _matching_step(secret, code, now) if secret else None
    return step is not None and TotpSecret.use_step(user.id, step)


def disable(user: User) -> None:
    """Remove the user's authenticator app (confirmed or pending)."""
    TotpSecret.remove(user.id)


def normalise_code(code: str) -> str:
    """The code without the spaces people type or paste in the middle (``123 456``)."""
    return "".join(code.split())


def _matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = totp.timecode(now or datetime.now(UTC))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _fernet() -> Fernet:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        str(current_app.config["SECRET_KEY"]).encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(token: str) -> str | None:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Encrypted under another APP_KEY: the app cannot check these codes; say so to the operator.
        log.error(
            "a TOTP secret cannot be decrypted (was SERVER_ENV.APP_KEY changed?): that user must log in "
            "with a recovery code or a passkey, or an operator runs `conexoos user disable-2fa`"
        )
        return None
