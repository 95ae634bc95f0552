"""One change at a time to a user's items: a lock on the owner's row, held until the change commits.

Counting a user's links and then adding one is only safe if no other request adds one in between; the
same holds for reordering a list another request is deleting from. Every change to a user's items (add,
edit, delete, reorder) therefore runs inside :func:`locked_owner`, which serialises them per user:

- PostgreSQL and MariaDB: ``SELECT ... FROM user WHERE id = ? FOR UPDATE``; other users are not blocked.
- SQLite has no row locks: a no-op ``UPDATE`` of the row takes the database's write lock at once (what
  ``BEGIN IMMEDIATE`` does), so the count and the insert happen inside one write transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import transaction
from conexoos.framework import db

from .page_changes import LOCK_ONLY


@contextmanager
def locked_owner(user: User) -> Iterator[User]:
    """Run the block in one transaction that holds ``user``'s row lock; yield the user as stored now.

    The block's writes commit when it ends; an exception rolls everything back and releases the lock.
    """
    session, user_id = db.session(), user.id
    # Start from a fresh transaction whose first read is the lock: under MariaDB's REPEATABLE READ a
    # snapshot taken by an earlier read (loading the logged-in user, or reloading it after this commit
    # expired it) would hide rows committed while this request waited for the lock.
    session.commit()
    # What the block wrote keeps the values it committed: reloading it after the lock is released could
    # find it already deleted by the request that was waiting for the lock.
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        with transaction():
            yield _lock_row(user_id)
    finally:
        session.expire_on_commit = expire_on_commit


def _lock_row(user_id: int) -> User:
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User).where(User.id == user_id).values(id=User.id),
            execution_options={"synchronize_session": False, LOCK_ONLY: True},  # changes nothing
        )
    query = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    owner = db.session.scalar(query)
    if owner is None:
        raise NotFound("No such user.")
    return owner
