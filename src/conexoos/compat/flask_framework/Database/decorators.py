"""flask-framework's ``@safe``: retry a database function once after a broken transaction or connection."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError, PendingRollbackError

from conexoos.compat.missing import module_getattr
from conexoos.framework.database import db

log = logging.getLogger("conexoos.compat")
Result = TypeVar("Result")


def safe(func: Callable[..., Result]) -> Callable[..., Result]:
    """Call ``func``; after a pending rollback or a lost connection, roll back and call it once more."""

    @functools.wraps(func)
    def decorated(*args: Any, **kwargs: Any) -> Result:
        try:
            return func(*args, **kwargs)
        except (PendingRollbackError, OperationalError) as error:
            log.warning("%s: %s; rolled back, trying once more", func.__qualname__, error.__class__.__name__)
            db.session.rollback()
            if isinstance(error, OperationalError):
                for engine in db.engines.values():
                    engine.dispose()  # drop the pool's broken connections
            return func(*args, **kwargs)

    return decorated


__getattr__ = module_getattr(
    "flask_framework.Database.decorators",
    {"Database": "flask_framework.Database.decorators.safe (use_db, safe_use_db were deprecated)"},
)
