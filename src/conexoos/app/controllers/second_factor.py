"""Second factors taken together: whether an account has one, checking a code, turning them all off.

What other features call: :func:`has_second_factor`, :func:`verify_second_factor` (an authenticator
app's code or a recovery code), :func:`disable_second_factors`, and :func:`second_factors_of` (which
ones an account has, for the admin account page and ``conexoos user show``).
"""

from __future__ import annotations

from dataclasses import dataclass

from conexoos.app.controllers import passkeys, recovery_codes, reentered_password, totp
from conexoos.app.models.persistent import User
from conexoos.app.utils.text import is_valid_unicode
from conexoos.framework.wording import counted


def has_second_factor(user: User) -> bool:
    """Whether logging in as ``user`` needs more than the password (an authenticator app or a passkey)."""
    return totp.is_enabled(user) or passkeys.count(user) > 0


@dataclass(frozen=True)
class SecondFactors:
    """Which second factors an account has, as staff read them."""

    authenticator_app: bool
    passkeys: int
    recovery_codes_left: int

    @property
    def on(self) -> bool:
        """Whether logging in needs more than the password (as :func:`has_second_factor`)."""
        return self.authenticator_app or self.passkeys > 0

    def described(self) -> str:
        """``off``, or ``on: authenticator app, 2 passkeys; 8 recovery codes left``."""
        if not self.on:
            return "off"
        methods = (["authenticator app"] if self.authenticator_app else []) + (
            [counted(self.passkeys, "passkey")] if self.passkeys else []
        )
        left = counted(self.recovery_codes_left, "recovery code")
        return f"on: {', '.join(methods)}; {left} left"


def second_factors_of(user: User) -> SecondFactors:
    """``user``'s authenticator app, passkey count and unused recovery codes (three queries)."""
    return SecondFactors(totp.is_enabled(user), passkeys.count(user), recovery_codes.remaining(user))


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
