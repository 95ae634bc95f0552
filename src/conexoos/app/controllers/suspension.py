"""What a suspended account may not do: change what its page shows (links, blocks, icons, products, its
name, bio, picture and appearance). It may still delete content, export or delete the account, and sign
in to read the dashboard, which says why the page is suspended."""

from __future__ import annotations

from werkzeug.exceptions import Forbidden

from conexoos.app.models.persistent import User

SUSPENDED = (
    "Your account is suspended, so you cannot add or change what your page shows. You can still delete "
    "things, and export or delete your account from Settings."
)


def refuse_if_suspended(user: User) -> None:
    """403 with :data:`SUSPENDED` when staff suspended ``user`` (no new content from them)."""
    if user.is_suspended:
        raise Forbidden(SUSPENDED)
