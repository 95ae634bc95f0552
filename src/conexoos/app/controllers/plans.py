"""Plan limits (the subscription issue fills in the paid plans; ``gratis`` has no limit yet)."""

from __future__ import annotations

from conexoos.app.models.persistent import User


def check_can_add(user: User, kind: str) -> None:
    """Raise a 403 when adding one more ``kind`` (links or products) would exceed the user's plan."""
    return None
