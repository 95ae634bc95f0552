"""Which failures mean "out of space": the drivers' own errors, as SQLAlchemy wraps them."""

from __future__ import annotations

import errno
import sqlite3

import psycopg.errors
import pymysql
import pytest
from sqlalchemy.exc import OperationalError

from conexoos.framework.storage import is_database_full, is_out_of_space


@pytest.mark.parametrize(
    "driver_error",
    [
        sqlite3.OperationalError("database or disk is full"),
        psycopg.errors.DiskFull('could not extend file "base/16384/16385": No space left on device'),
        pymysql.err.OperationalError(1114, "The table 'media_file' is full"),
        pymysql.err.OperationalError(1021, "Disk full (/var/lib/mysql); waiting for someone to free space"),
    ],
    ids=["sqlite", "postgresql", "mariadb-table-full", "mariadb-disk-full"],
)
def test_a_full_database_is_recognised_on_every_driver(driver_error: Exception) -> None:
    assert is_database_full(OperationalError("INSERT ...", {}, driver_error))


@pytest.mark.parametrize(
    "driver_error",
    [
        sqlite3.OperationalError("database is locked"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        pymysql.err.OperationalError(2003, "Can't connect to MySQL server on '127.0.0.1'"),
    ],
)
def test_other_database_errors_are_not_taken_for_a_full_disk(driver_error: Exception) -> None:
    assert not is_database_full(OperationalError("INSERT ...", {}, driver_error))


def test_enospc_and_edquot_are_out_of_space_even_when_wrapped() -> None:
    for number in (errno.ENOSPC, errno.EDQUOT):
        try:
            try:
                raise OSError(number, "full")
            except OSError as cause:
                raise RuntimeError("could not save") from cause
        except RuntimeError as wrapped:
            assert is_out_of_space(wrapped)
    assert not is_out_of_space(OSError(errno.EACCES, "Permission denied"))
