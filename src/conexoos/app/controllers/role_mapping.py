"""What an identity provider's group, claim or attribute mapping grants here, applied at each sign-in."""

from __future__ import annotations

import logging

from conexoos.app.controllers import audit
from conexoos.app.controllers.roles import role_for_admin_flag
from conexoos.app.controllers.user_management import active_admins
from conexoos.app.models.persistent import ADMIN, User
from conexoos.framework.logins import ExternalIdentity

log = logging.getLogger(__name__)


def apply_role_mapping(user: User, identity: ExternalIdentity) -> None:
    """Give or take ``user``'s admin role as ``identity``'s mapping says (a moderator who is not an admin
    there stays a moderator); without a mapping (``identity.admin`` None) the role stays as it is. A change
    goes into the audit log. The last active administrator keeps the role (the site would have none):
    the audit log and the server's log say so. No commit: the login commits."""
    role = role_for_admin_flag(user.role, identity.admin)
    if role == user.role:
        return
    source = f"the {identity.backend} provider {identity.provider!r}'s admin mapping"
    if _is_last_admin(user):
        audit.record(
            "user.role.kept",
            user,
            {"role": user.role},
            {"role": user.role},
            summary=f"{user.username} kept the admin role {source} took: the only active administrator",
            actor=user,
        )
        log.warning(
            "%s is the only active administrator: kept the admin role %s took away; make another account "
            "an administrator, then sign in again",
            user.username,
            source,
        )
        return
    audit.record(
        "user.role",
        user,
        {"role": user.role},
        {"role": role},
        summary=f"set at sign-in by {source}",
        actor=user,
    )
    user.role = role


def _is_last_admin(user: User) -> bool:
    return user.role == ADMIN and user.suspended_at is None and active_admins(excluding=user.id) == 0
