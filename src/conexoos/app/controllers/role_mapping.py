"""What an identity provider's group, claim or attribute mapping grants here, applied at each sign-in."""

from __future__ import annotations

from conexoos.app.models.persistent import User
from conexoos.framework.logins import ExternalIdentity


def apply_role_mapping(user: User, identity: ExternalIdentity) -> None:
    """Give or take ``user``'s admin role as ``identity``'s mapping says; without a mapping
    (``identity.admin`` None) the role stays as it is. No commit: the login commits."""
    if identity.admin is not None:
        user.is_admin = identity.admin
