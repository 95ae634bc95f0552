"""Single-use recovery codes: the way in when the phone or the passkey is lost.

Each code is 16 random base32 characters (80 bits), shown once as ``abcd-efgh-ijkl-mnop``. Only its
SHA-256 is stored. A slow, salted hash (argon2) exists for what people choose, which is guessable; a
random 80-bit code is not, even with the hash in hand (2^80 tries), so one fast hash is enough, and it
lets a code be found with one indexed query instead of ten argon2 checks per attempt (which a guesser
could use to load the server).
"""

from __future__ import annotations

import hashlib
import secrets

from conexoos.app.models.persistent import RecoveryCode, User

CODE_COUNT = 10
CODE_LENGTH = 16
GROUP = 4
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
"""RFC 4648 base32 in lower case: no 0/1/8/9, so nothing reads like O, l or B."""


def generate(user: User) -> list[str]:
    """Replace the user's recovery codes with :data:`CODE_COUNT` new ones; return them (shown once)."""
    codes = [_new_code() for _ in range(CODE_COUNT)]
    RecoveryCode.replace_all(user.id, [_digest(code) for code in codes])
    return codes


def use(user: User, code: str) -> bool:
    """Whether ``code`` is one of the user's unused codes; if so it is used up."""
    return looks_like_code(code) and RecoveryCode.use(user.id, _digest(code))


def remaining(user: User) -> int:
    """How many unused codes the user has."""
    return RecoveryCode.unused_count(user.id)


def remove(user: User) -> None:
    """Delete every recovery code of the user."""
    RecoveryCode.remove_all(user.id)


def normalise(code: str) -> str:
    """The code as stored: lower case, without the dashes and spaces people type."""
    return "".join(code.split()).replace("-", "").lower()


def looks_like_code(code: str) -> bool:
    """Whether ``code`` has a recovery code's shape (so a form can tell it from a password)."""
    normalised = normalise(code)
    return len(normalised) == CODE_LENGTH and set(normalised) <= set(ALPHABET)


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[index : index + GROUP] for index in range(0, CODE_LENGTH, GROUP))


def _digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()
