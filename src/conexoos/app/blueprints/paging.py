"""The admin lists' pages: ``?page=N`` read the same way everywhere, and a 404 past the last page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from werkzeug.exceptions import BadRequest, NotFound

from conexoos.framework.wording import counted

MAX_PAGE = 100_000


@dataclass(frozen=True)
class Page:
    """Which page of a list to show: its number, how many there are, and the rows to skip."""

    number: int
    count: int
    size: int

    @property
    def offset(self) -> int:
        """How many rows come before this page."""
        return (self.number - 1) * self.size


def requested_page(total: int, size: int, noun: str = "list") -> Page:
    """The page ``?page=`` asks for (1 without it) of ``total`` rows, ``size`` a page: 400 for a value
    that is not a whole number from 1 to :data:`MAX_PAGE`, 404 past the last page (an empty list has
    one, empty, page)."""
    raw = request.args.get("page", "1")
    digits = raw.isascii() and raw.isdigit() and len(raw.lstrip("0")) <= len(str(MAX_PAGE))
    if not digits or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"page is a whole number from 1 to {MAX_PAGE}.")
    number, count = int(raw), max(1, -(-total // size))
    if number > count:
        raise NotFound(f"There is no page {number}: the {noun} has {counted(count, 'page')}.")
    return Page(number, count, size)
