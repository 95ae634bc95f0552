"""Second factors taken together: whether an account has one, checking a code, turning them all off.

What other features call: :func:`has_second_factor`, :func:`verify_second_factor` (an authenticator
app's code or a recovery code) and :func:`disable_second_factors`.
"""

from __future__ import annotations

from conexoos.app.controllers import passkeys, recovery_codes, reentered_password, totp
from conexoos.app.models.persistent import User
from conexoos.app.utils.text import is_valid_unicode


def has_second_factor(user: User) -> bool:
    """Whether logging in as ``user`` needs more than the password (an authenticator app or a passkey)."""
    return totp.is_enabled(user) or passkeys.count(user) > 0


def verify_second_factor(user: User, code: str) -> bool:
    """Whether ``code`` is a current authenticator-app code or an unused recovery code of ``user``.

    A code that passes is used up: the same app code (or an earlier one) and the same recovery code are
    refused afterwards.
    """
    if recovery_codes.looks_like_code(code):
        return recovery_codes.use(user, code)
    return totp.verify(user, code)


def confirm_identity(user: User, answer: str) -> bool:
    """Whether ``answer`` is a second-factor code of ``user`` or their password (what changing the second
    factors asks for). A code that passes is used up."""
    if not answer or not is_valid_unicode(answer):  # a lone surrogate (JSON "\ud800") cannot be hashed
        return False
    if has_second_factor(user) and verify_second_factor(user, answer):
        return True
    return reentered_password.verify(user, answer)


def disable_second_factors(user: User) -> None:
    """Remove the authenticator app, every passkey and the recovery codes: the password alone logs in."""
    totp.disable(user)
    passkeys.remove_all(user)
    recovery_codes.remove(user)


def forget_unneeded_recovery_codes(user: User) -> None:
    """Delete the recovery codes once no second factor is left (they would recover nothing)."""
    if not has_second_factor(user):
        recovery_codes.remove(user)


def needs_recovery_codes(user: User) -> bool:
    """Whether the user has a second factor but no unused recovery code (new ones should be made)."""
    return has_second_factor(user) and recovery_codes.remaining(user) == 0
