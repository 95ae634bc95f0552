"""Account rules: who may sign up with what name, and how a password is checked."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from conexoos.app.models.persistent import User

RESERVED_USERNAMES = frozenset(
    {
        "about",
        "account",
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "billing",
        "dashboard",
        "go",
        "healthz",
        "help",
        "home",
        "login",
        "logout",
        "media",
        "me",
        "privacy",
        "pricing",
        "root",
        "settings",
        "signup",
        "static",
        "stats",
        "stripe",
        "subscriptions",
        "support",
        "terms",
        "www",
        "qr",
        "readyz",
        "user",
        "users",
        "webhook",
    }
)
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that both failures take the same time.
_DUMMY_HASH = _hasher.hash("conexoos-dummy-password")


class SignupError(ValueError):
    """A sign-up that cannot be accepted; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def create_account(email: str, username: str, password: str, is_admin: bool = False) -> User:
    """Create a user; raise :class:`SignupError` for a reserved or taken username or email."""
    username = username.strip().lower()
    email = email.strip().lower()
    if username in RESERVED_USERNAMES:
        raise SignupError("username", "This username is reserved. Choose another one.")
    if User.get_by_login(username) is not None:
        raise SignupError("username", "This username is taken.")
    if User.get_by_login(email) is not None:
        raise SignupError("email", "An account with this email already exists.")
    user = User(email=email, username=username, password_hash=hash_password(password), is_admin=is_admin)
    try:
        user.save()
    except IntegrityError:
        # Another request took the name between our check and the insert.
        raise SignupError("username", "This username or email is taken.") from None
    return user


def authenticate(login: str, password: str) -> User | None:
    """The user if ``login`` and ``password`` match, else None (same work either way)."""
    user = User.get_by_login(login)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        user.save()
    return user
