"""Which passwords an account may have: long enough, not one of the 10,000 most common, not built from the
username or the email address. :func:`password_problem` says why one is refused, in words for the form.

Passwords are compared in Unicode normal form NFKC (:func:`normalized_password`), as NIST SP 800-63B
(5.1.1.2) recommends: the same password typed on another keyboard, phone or input method (``ü`` as one code
point or as ``u`` + combining diaeresis, a full-width ``Ａ``, the ligature ``ﬁ``) is the same password.
NFKC rather than NFC because the compatibility forms are exactly what different devices produce for what a
person sees as one character; the few distinctions it folds (``ﬁ``/``fi``, ``²``/``2``) are not ones a
person can be expected to remember.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 10
MAX_LENGTH = 128
SHORTEST_NAME_CONTAINED = 4
"""A name this long or longer is refused anywhere in the password; a shorter one (usernames may have 3
characters) only when the rest of the password is digits and symbols."""
COMMON_PASSWORDS_FILE = "common_passwords.txt.gz"
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[^a-z]+$")
CONTROL_MESSAGE = (
    "A password cannot hold control characters (such as NUL, a tab or a line break). Use letters, digits, "
    "spaces and symbols."
)
COMMON_MESSAGE = "This is one of the 10,000 most common passwords. Choose one that is harder to guess."


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (see ``data/COMMON_PASSWORDS_SOURCE.md``), lowercase."""
    packed = resources.files("conexoos.app").joinpath("data", COMMON_PASSWORDS_FILE).read_bytes()
    return frozenset(line for line in gzip.decompress(packed).decode().splitlines() if line)


def password_problem(password: str, username: str = "", email: str = "") -> str | None:
    """Why ``password`` may not be the password of the account ``username``/``email``, or None."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password):  # also lone surrogates
        return CONTROL_MESSAGE
    password = normalized_password(password)
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (this password has {len(password)})."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if is_common(password):
        return COMMON_MESSAGE
    if username and _built_from(password, username.strip().lower()):
        return "This password is built from your username. Choose one that does not contain it."
    local_part = email.strip().lower().partition("@")[0]
    if local_part and any(_built_from(password, name) for name in _email_names(local_part)):
        return "This password is built from your email address. Choose one that does not contain it."
    return None


def normalized_password(password: str) -> str:
    """``password`` in the form it is hashed and checked in: Unicode NFKC (see the module's docstring)."""
    return unicodedata.normalize("NFKC", password)


def is_common(password: str) -> bool:
    """Whether ``password`` is a common one, in any case, in leet spelling, or with digits or symbols
    added at its end (``Password2024!``)."""
    common = common_passwords()
    for form in _forms(password):
        stem = _TRAILING_DIGITS_AND_SYMBOLS.sub("", form)
        if form in common or (len(stem) >= 4 and stem in common):
            return True
    return False


def _email_names(local_part: str) -> set[str]:
    """The email's local part, and that part before a ``+tag``."""
    return {local_part, local_part.partition("+")[0]} - {""}


def _built_from(password: str, name: str) -> bool:
    """Whether ``password`` holds ``name`` (or ``name`` reversed), in any case, leet or separator spelling."""
    names = {form for spelling in (name, name[::-1]) for form in _forms(spelling)} - {""}
    for form in _forms(password):
        for candidate in names:
            if len(candidate) >= SHORTEST_NAME_CONTAINED and candidate in form:
                return True
            if candidate in form and not re.sub(r"[^a-z]", "", form.replace(candidate, "")):
                return True
    return False


def _forms(text: str) -> set[str]:
    """``text`` lowercased, without separators, and with leet digits read as letters."""
    lower = text.lower()
    compact = _NOT_ALPHANUMERIC.sub("", lower)
    return {lower, compact, lower.translate(_LEET), compact.translate(_LEET)}
