"""The login form's check: the product's own password (``local``) and each directory (LDAP) of ``LOGINS``,
tried in that section's order until one accepts.

Wrong passwords are counted by :mod:`.login_throttle` whichever backend was asked, so a directory account
is guessed no faster than a local one. A directory that cannot be asked (:class:`LoginUnavailable`) is
passed over; when no other backend accepted, the login is answered with it (503), not with "wrong
password", and nothing is counted (the password may have been right).
"""

from __future__ import annotations

from conexoos.app.controllers import login_throttle
from conexoos.app.controllers.accounts import verify_password
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.logins import ExternalIdentity, LoginUnavailable, logins

LOCAL = "local"


def backend_order() -> list[str]:
    """The names the form tries, in ``LOGINS`` order: ``local`` (first unless listed elsewhere) and each
    password backend."""
    registry = logins()
    names = [backend.name for backend in registry.password_backends()]
    order = [name for name in registry.order if name == LOCAL or name in names]
    if LOCAL not in order:
        order.insert(0, LOCAL)
    return order + [name for name in names if name not in order]


def check(login_text: str, password: str, network: str) -> User | ExternalIdentity | None:
    """The local account or the directory identity ``password`` is right for, else None (counted as a
    failure). Raises :class:`~.login_throttle.LoginThrottled` before trying when this network guessed too
    often, :class:`LoginUnavailable` when none accepted and a directory could not be asked."""
    user = User.get_by_login(login_text)
    login_throttle.refuse_if_throttled(login_text, network)
    unavailable: LoginUnavailable | None = None
    for name in backend_order():
        try:
            found = _try(name, user, login_text, password)
        except LoginUnavailable as error:
            unavailable = unavailable or error
            continue
        if found is not None:
            return found
    if unavailable is not None:
        raise unavailable
    _record_failure(login_text, user, network)
    return None


def _try(name: str, user: User | None, login_text: str, password: str) -> User | ExternalIdentity | None:
    registry = logins()
    if name == LOCAL:
        return user if registry.local_enabled and verify_password(user, password) else None
    for backend in registry.password_backends():
        if backend.name == name:
            return backend.authenticate(login_text, password)
    return None


def _record_failure(login_text: str, user: User | None, network: str) -> None:
    login_throttle.record_failure(login_text, user, network)
    if user is not None and login_throttle.failed_login_alert_due(user):
        queue_mail_to_account(user.email, "failed_logins", user=user, network=network)
        db.session.commit()
