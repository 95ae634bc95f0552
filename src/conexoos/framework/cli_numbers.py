"""The ranges of the numbers the command line takes, for the framework's commands and a project's.

Every number has an upper bound as well as a lower one, so that a value out of range is click's usage
error (exit status 2, one ``Error:`` line) rather than a number a database cannot hold: SQLite raises
OverflowError past 64 bits, and MariaDB reads a LIMIT past them as a syntax error.
"""

from __future__ import annotations

import click

from .schema import MAX_PORT

MAX_ROWS = 10_000
"""Rows one listing prints at most."""
MAX_PAGE = 1_000_000
"""With :data:`MAX_ROWS` a page, an offset that every database holds."""
MAX_ROW_ID = 2**31 - 1
"""The largest id an ``Integer`` primary key holds on PostgreSQL and MariaDB."""
MAX_WORKERS = 1024

ROWS = click.IntRange(0, MAX_ROWS)
"""How many rows to list; 0 lists none (only the counts)."""
PAGE_ROWS = click.IntRange(1, MAX_ROWS)
"""How many rows a page holds."""
PAGE = click.IntRange(1, MAX_PAGE)
"""Which page to show, from 1."""
ROW_ID = click.IntRange(1, MAX_ROW_ID)
"""The id of a row."""
PORT = click.IntRange(1, MAX_PORT)
WORKERS = click.IntRange(1, MAX_WORKERS)
