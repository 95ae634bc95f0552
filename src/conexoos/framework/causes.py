"""Why something failed, on one line: for log lines, ``conexoos tasks status``, ``config check`` and the
admin overview, where a driver's second line ("Is the server running on that host...") or SQLAlchemy's
"(Background on this error at: ...)" would split the line an operator reads."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from .database_errors import driver_reason

LONGEST = 500
"""Characters kept of a cause: a message may quote a whole statement or document."""


def one_line_cause(error: BaseException) -> str:
    """``Type: message`` on one line: a database error as its driver's first line (without psycopg's
    repetition of the address), any other message's lines joined, spaces collapsed, at most LONGEST
    characters."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        original: BaseException = error.orig
        message = driver_reason(original)
    else:
        original = error
        message = " ".join(str(error).split())
    text = f"{type(original).__name__}: {message}" if message else type(original).__name__
    return text[:LONGEST]
