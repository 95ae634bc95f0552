"""Let the test MariaDB server acknowledge a commit before its redo log reaches the disk, for one run.

``scripts/test`` calls ``python -m tests.support.mariadb_commits 2`` before the tests and restores the
value it printed afterwards. With ``innodb_flush_log_at_trx_commit = 2`` a commit is written to the
operating system at once and flushed to the disk about once a second: a crash of the machine (not of
the server) may lose the last second of commits. The test server holds nothing but throw-away test
databases, so this loses nothing, and each of the product tests' many small commits stops waiting for
an fsync (PostgreSQL's test databases get ``synchronous_commit = off`` for the same reason, see
``services.fresh_database``). Settable only by an account with the SUPER privilege (root on the test
server): anywhere else it is left as it is, with a line saying so.
"""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from .services import MARIADB_URL

VARIABLE = "innodb_flush_log_at_trx_commit"


def set_flush_log(value: int) -> int:
    """Set the server's ``innodb_flush_log_at_trx_commit`` to ``value``; return the value it had."""
    engine = create_engine(MARIADB_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            before = int(connection.execute(text(f"SELECT @@GLOBAL.{VARIABLE}")).scalar_one())
            connection.execute(text(f"SET GLOBAL {VARIABLE} = :value"), {"value": value})
    finally:
        engine.dispose()
    return before


def main(argv: list[str]) -> int:
    """``python -m tests.support.mariadb_commits VALUE``: set it, print the former value on stdout."""
    if len(argv) != 1 or argv[0] not in {"0", "1", "2"}:
        print(f"usage: python -m tests.support.mariadb_commits 0|1|2 (the new {VARIABLE})", file=sys.stderr)
        return 2
    try:
        before = set_flush_log(int(argv[0]))
    except SQLAlchemyError as error:
        print(f"MariaDB: {VARIABLE} left as it is ({str(error).splitlines()[0]})", file=sys.stderr)
        return 1
    print(before)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
