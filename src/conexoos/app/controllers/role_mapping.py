"""What an identity provider's group, claim or attribute mapping grants here, applied at each sign-in."""

from __future__ import annotations

from conexoos.app.controllers import audit
from conexoos.app.controllers.roles import role_for_admin_flag
from conexoos.app.models.persistent import User
from conexoos.framework.logins import ExternalIdentity


def apply_role_mapping(user: User, identity: ExternalIdentity) -> None:
    """Give or take ``user``'s admin role as ``identity``'s mapping says (a moderator who is not an admin
    there stays a moderator); without a mapping (``identity.admin`` None) the role stays as it is. A change
    goes into the audit log. No commit: the login commits."""
    role = role_for_admin_flag(user.role, identity.admin)
    if role == user.role:
        return
    audit.record(
        "user.role",
        user,
        {"role": user.role},
        {"role": role},
        summary=f"set at sign-in by the {identity.backend} provider {identity.provider!r}'s admin mapping",
        actor=user,
    )
    user.role = role
