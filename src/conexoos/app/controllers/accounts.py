"""Account rules: who may sign up with what name, how a password is checked, set and changed."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Collection
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import Map

from conexoos.app.models.persistent import USER, User
from conexoos.app.utils.email_address import canonical_email
from conexoos.app.utils.text import username_folded
from conexoos.framework.lazy import lazy_module

from . import pending_signups, site_settings, username_holds
from .password_policy import normalized_password, password_problem
from .user_sessions import end_sessions

if TYPE_CHECKING:
    import argon2

    from . import reentered_password
else:
    argon2 = lazy_module("argon2")  # and its cffi bindings (0.5 MiB): a public page checks no password
    reentered_password = lazy_module("conexoos.app.controllers.reentered_password")  # and mail, throttles

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
        "capture",
        "dashboard",
        "go",
        "healthz",
        "help",
        "home",
        "login",
        "logout",
        "media",
        "me",
        "p",
        "plugins",
        "password",
        "privacy",
        "pricing",
        "root",
        "settings",
        "setup",
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
        "verify",
        "webhook",
        # Who a visitor takes for the site's own staff or its mail roles (RFC 2142): a page at one of
        # these names could pass itself off as the site's.
        "abuse",
        "administrator",
        "hostmaster",
        "moderator",
        "noc",
        "official",
        "openapi",
        "postmaster",
        "security",
        "staff",
        "sysadmin",
        "system",
        "webmaster",
        # Files served at the root (also refused by their extension, kept here so that the list of
        # route prefixes stays a subset of this set).
        "robots.txt",
        "favicon.ico",
        ".well-known",
        # Socket.IO's endpoint is served by the WSGI middleware in front of the URL map.
        "socket.io",
    }
)
ROOT_FILE_NAMES = frozenset(
    {
        "robots.txt",
        "favicon.ico",
        "sitemap.xml",
        "ads.txt",
        "app-ads.txt",
        "security.txt",
        "humans.txt",
        "apple-touch-icon.png",
        "apple-touch-icon-precomposed.png",
        "browserconfig.xml",
        "crossdomain.xml",
        "manifest.json",
        "site.webmanifest",
        ".well-known",
    }
)
"""Files browsers, crawlers and scanners ask every site for at its root."""
FILE_EXTENSIONS = frozenset(
    {
        *("txt", "ico", "xml", "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp"),
        *("json", "webmanifest", "map", "js", "mjs", "css", "html", "htm", "xhtml", "rss", "atom"),
        *("php", "asp", "aspx", "jsp", "cgi", "pl", "py", "rb", "sh", "exe", "dll", "action", "do"),
        *("env", "git", "svn", "hg", "htaccess", "htpasswd", "ds_store", "ini", "conf", "cfg", "config"),
        *("yml", "yaml", "toml", "lock", "log", "bak", "old", "orig", "swp", "tmp", "sql", "db", "sqlite"),
        *("zip", "gz", "tgz", "tar", "rar", "7z", "bz2", "xz", "pdf", "doc", "docx", "xls", "xlsx", "csv"),
        *("md", "well-known", "pem", "key", "crt", "cer", "p12", "woff", "woff2", "ttf", "otf", "eot"),
    }
)
"""Endings of file names that browsers, crawlers or scanners request at a site's root: a username ending
so would read as a file (and could one day be shadowed by one)."""
RESERVED_MESSAGE = "This username is reserved. Choose another one."
UNUSABLE_PASSWORD_PREFIX = "!"
"""A stored password hash starting with this is no hash: no password matches it."""


@functools.cache
def password_hasher() -> argon2.PasswordHasher:
    """The argon2id hasher with its default parameters (made at the first password checked or set)."""
    return argon2.PasswordHasher()


_DUMMY_HASH: str | None = None
"""Verified against when the account does not exist, so that both failures take the same time."""


def _dummy_hash() -> str:
    """:data:`_DUMMY_HASH`, made at the first log-in rather than at import (one argon2 hash costs a quarter
    of a second of every worker's start)."""
    global _DUMMY_HASH  # made once per process; two threads racing make two valid hashes, both fine
    if _DUMMY_HASH is None:
        _DUMMY_HASH = password_hasher().hash("conexoos-dummy-password")
    return _DUMMY_HASH


class SignupError(ValueError):
    """A sign-up that cannot be accepted; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class PasswordRejected(ValueError):
    """A password that cannot be set; ``message`` says why, for the form's ``field``."""

    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` in its normal form (see ``password_policy.normalized_password``)."""
    return password_hasher().hash(_secret(normalized_password(password)))


def _secret(password: str) -> bytes:
    """What argon2 is given: the UTF-8 bytes (a lone surrogate, which no form accepts as a new password,
    is kept as its code point's bytes so that checking it is a wrong password, never an error)."""
    return password.encode("utf-8", "surrogatepass")


def route_prefixes(url_map: Map) -> frozenset[str]:
    """The first path segment of every route without a variable there (``/healthz``, ``/go/<id>``...)."""
    segments = {rule.rule.lstrip("/").split("/")[0] for rule in url_map.iter_rules()}
    return frozenset(segment.lower() for segment in segments if segment and "<" not in segment)


def username_problem(username: str, taken_prefixes: Collection[str] = ()) -> str | None:
    """Why ``username`` (lowercased) cannot be a new page's address, or None. Applies to new names only:
    existing accounts keep theirs."""
    if username in RESERVED_USERNAMES or username in ROOT_FILE_NAMES or username in taken_prefixes:
        return RESERVED_MESSAGE
    if username.startswith(".") or username.endswith(".") or ".." in username:
        return "A username cannot start or end with a dot, or hold two dots in a row."
    extension = username.rpartition(".")[2] if "." in username else ""
    if extension in FILE_EXTENSIONS:
        return f"Names ending in .{extension} are reserved for files the site serves. Choose another one."
    return None


def check_new_username(username: str, taken_prefixes: Collection[str] | None = None) -> str:
    """``username`` lowercased, when it may be a new page's address; else :class:`SignupError`.

    ``taken_prefixes`` are the route prefixes a username may not shadow; by default, the current app's.
    """
    username = username_folded(username.strip())
    if taken_prefixes is None:
        taken_prefixes = route_prefixes(current_app.url_map)
    problem = username_problem(username, taken_prefixes)
    if problem:
        raise SignupError("username", problem)
    if User.get_by_login(username) is not None or pending_signups.holds(username):
        raise SignupError("username", pending_signups.TAKEN)
    if (held := username_holds.held_until(username)) is not None:
        raise SignupError("username", username_holds.held_message(held))
    return username


def create_account(
    email: str,
    username: str,
    password: str,
    role: str = USER,
    taken_prefixes: Collection[str] | None = None,
) -> User:
    """Create a user with ``role``; raise :class:`SignupError` for a reserved or taken username or email.

    ``taken_prefixes`` are the route prefixes a username may not shadow; by default, the current app's.
    """
    user = build_account(email, username, password, role, taken_prefixes)
    try:
        user.save()
    except IntegrityError:
        # Another request took the name between our check and the insert.
        raise SignupError("username", "This username or email is taken.") from None
    return user


def build_account(
    email: str,
    username: str,
    password: str,
    role: str = USER,
    taken_prefixes: Collection[str] | None = None,
) -> User:
    """A new, checked but unsaved user (the caller adds it in its own transaction); :class:`SignupError`
    for a reserved or taken username or email, or a password the policy refuses."""
    username = check_new_username(username, taken_prefixes)
    email = canonical_email(email)
    if User.get_by_login(email) is not None:
        raise SignupError("email", "An account with this email already exists.")
    password_error = password_problem(password, username, email)
    if password_error:
        raise SignupError("password", password_error)
    return User(
        email=email,
        username=username,
        password_hash=hash_password(password),
        role=role,
        subscription_plan=site_settings.default_plan(),
    )


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; the same work when ``user`` is None (then False). A hash made
    with older parameters, or from the password as typed before passwords were normalised, is replaced
    on success by one of the normal form."""
    stored = user.password_hash if user else _dummy_hash()
    normal = normalized_password(password)
    if _matches(stored, normal):
        outdated = user is not None and password_hasher().check_needs_rehash(stored)
    elif normal != password and _matches(stored, password):  # the work depends on the input, not the account
        outdated = True  # a hash made from the text as typed, before passwords were normalised
    else:
        return False
    if user is None:
        return False
    if outdated:
        user.password_hash = hash_password(password)
        user.save()
    return True


def verify_password_hash(stored_hash: str, password: str) -> bool:
    """Whether ``password``, in its normal form, matches ``stored_hash`` (made by :func:`hash_password`);
    False, never an error, for a hash argon2 cannot read."""
    return _matches(stored_hash, normalized_password(password))


def _matches(stored_hash: str, password: str) -> bool:
    try:
        return bool(password_hasher().verify(stored_hash, _secret(password)))
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def set_password(user: User, new_password: str) -> None:
    """Give ``user`` the password ``new_password`` and end every other session of theirs at once (all of
    them outside a request of theirs: password reset, operator command).

    Raises :class:`PasswordRejected` with the reason when the password policy refuses it.
    """
    problem = password_problem(new_password, user.username, user.email)
    if problem:
        raise PasswordRejected(problem, "new_password")
    user.password_hash = hash_password(new_password)
    user.save()
    end_sessions(user, keep_current=True)


def disable_password(user: User) -> None:
    """Make ``user``'s password unusable (no password logs in; reset links made before stop working);
    the owner sets a new one through "forgot password". No commit."""
    user.password_hash = UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(16)  # argon2 refuses it as a hash


def has_usable_password(user: User) -> bool:
    """Whether some password logs ``user`` in (not one made at a first sign-in through an identity
    provider, nor one disabled by :func:`disable_password`)."""
    return bool(user.password_hash) and not user.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)


def new_password_problem(user: User, current_password: str, new_password: str) -> str | None:
    """Why ``new_password`` cannot replace the password typed as current (the rules refuse it, or it is
    that password), without checking that one: nothing here costs a password check."""
    if normalized_password(new_password) == normalized_password(current_password):
        return "Choose a password other than your current one."
    return password_problem(new_password, user.username, user.email)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change ``user``'s password when ``current_password`` is theirs; raises :class:`PasswordRejected`
    (field ``current_password`` or ``new_password``) otherwise. Other sessions end at once."""
    problem = new_password_problem(user, current_password, new_password)
    if problem:
        raise PasswordRejected(problem, "new_password")
    if not reentered_password.verify(user, current_password):
        raise PasswordRejected("This is not your current password.", "current_password")
    set_password(user, new_password)
