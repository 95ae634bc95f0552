"""Finished answers kept and sent again: a fast path's answer that is the same, bytes and all, for every
request agreeing on a few environ values (its *variant*: the method, ``Accept-Encoding``, the conditional
headers) is finished once per variant by the app's own functions (the response, its after-request
functions, Werkzeug's WSGI headers and body) and then sent as kept, with only the ``Date`` header made
again (``make_conditional`` adds it per request).

See :class:`conexoos.framework.fast_path.FastPath` (``varies_on``, ``replayable_hooks``) for when a kept
answer may be sent, and ``page_cache.py`` in the product for the entries that keep them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.http import http_date
from werkzeug.wrappers import Response as BaseResponse

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

MAX_VARIANTS = 16
"""Variants kept per answer (a browser sends one ``Accept-Encoding``, and ``If-None-Match`` names the
answer's ETag or nothing): made-up conditional headers evict the oldest."""
MAX_VARIANT_TEXT = 512
"""The most characters a variant's values may add up to for its answer to be kept: a browser's are well
under 200 (an encoding list and an ETag); longer, made-up headers get their answer finished each time
instead of filling the kept answers with keys (see :meth:`KeptAnswers.keep`)."""


@dataclass(frozen=True)
class FinishedAnswer:
    """An answer as sent: status line, WSGI headers in order, body (empty for HEAD and 304)."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    date_at: int
    """The index of the ``Date`` header in ``headers``, -1 when there is none."""

    @property
    def weight(self) -> int:
        """The bytes it holds: body and headers (a HEAD's or a 304's are all headers)."""
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)

    @property
    def status_code(self) -> int:
        """The status as a number (for the access line)."""
        return int(self.status[:3])

    def headers_now(self) -> list[tuple[str, str]]:
        """The headers to send now: the kept ones with a ``Date`` of this second."""
        if self.date_at < 0:
            return list(self.headers)
        headers = list(self.headers)
        headers[self.date_at] = (headers[self.date_at][0], _date_now())
        return headers


def finished_answer(response: BaseResponse, environ: WSGIEnvironment) -> FinishedAnswer:
    """What ``response`` sends to the request ``environ`` (Werkzeug's ``get_wsgi_response``), read whole."""
    app_iter, status, headers = response.get_wsgi_response(environ)
    try:
        body = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    date_at = next((index for index, (name, _) in enumerate(headers) if name.lower() == "date"), -1)
    return FinishedAnswer(status, list(headers), body, date_at)


class KeptAnswers:
    """The finished answers of one answer's variants: at most ``limit`` of them and ``max_bytes`` in all,
    counting each answer's body, headers and variant text (the oldest kept dropped first; an answer above
    ``max_bytes`` alone is not kept). Counting the headers bounds the bodiless answers too: HEAD and 304
    answers to made-up conditional headers would otherwise cost nothing against the bound."""

    def __init__(self, max_bytes: int, limit: int = MAX_VARIANTS) -> None:
        self.max_bytes = max_bytes
        self.limit = limit
        self._answers: dict[Hashable, tuple[FinishedAnswer, int]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def get(self, variant: Hashable) -> FinishedAnswer | None:
        """The answer kept for ``variant``, or None."""
        kept = self._answers.get(variant)
        return kept[0] if kept is not None else None

    def keep(self, variant: tuple[object, ...], answer: FinishedAnswer) -> None:
        """Keep ``answer`` for ``variant`` (unless it alone is above ``max_bytes``)."""
        weight = answer.weight + sum(len(value) for value in variant if isinstance(value, str))
        if weight > self.max_bytes:
            return
        with self._lock:
            self._drop(variant)
            while self._answers and (
                len(self._answers) >= self.limit or self._size + weight > self.max_bytes
            ):
                self._drop(next(iter(self._answers)))
            self._answers[variant] = (answer, weight)
            self._size += weight

    def _drop(self, variant: Hashable) -> None:
        dropped = self._answers.pop(variant, None)
        if dropped is not None:
            self._size -= dropped[1]

    def __len__(self) -> int:
        return len(self._answers)

    @property
    def size(self) -> int:
        """The bytes the kept answers hold (bodies, headers, variant texts)."""
        return self._size


@dataclass(frozen=True)
class Replayable:
    """A fast path's answer whose finished form may be kept in ``kept`` and sent again (see the module)."""

    build: Callable[[], BaseResponse]
    """Makes the response (before the after-request functions) when no finished form is kept."""
    kept: KeptAnswers


def send(answer: FinishedAnswer, start_response: Callable[..., object]) -> Iterable[bytes]:
    """Start ``answer`` with a ``Date`` of now; its body as the WSGI iterable."""
    start_response(answer.status, answer.headers_now())
    return [answer.body]


_date = (0, "")


def _date_now() -> str:
    """``http_date()`` of the current second, made once a second."""
    global _date
    second = int(time.time())
    kept_second, text = _date
    if kept_second != second:
        text = http_date(second)
        _date = (second, text)
    return text
