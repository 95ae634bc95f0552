"""The conditional and range headers of a GET or HEAD, read as RFC 9110 reads them, around every answer
(fast paths included), where Werkzeug reads them otherwise:

- a ``Range`` in a unit other than bytes is ignored, as a server must (14.2), and one of several ranges,
  as a server may (Werkzeug serves no multipart ranges): the whole representation is sent. Werkzeug
  answered both with a 416 (Range Not Satisfiable), which told a client that sent ``Range: items=0-9`` or
  ``bytes=0-1,4-5`` that the file could not be had at all. A range under an ``If-Range`` with a weak tag
  is ignored too: that tag can never match (13.1.5);
- ``If-Match: *`` is true of anything that exists (13.1.1), so it is dropped: Werkzeug compared ``*`` as
  if it were an entity tag, found no match and answered 412 (Precondition Failed) for every page and file.
  A resource that does not exist is still a 404 (preconditions are not evaluated for it);
- ``If-Match`` with tags, and ``If-Unmodified-Since``, are evaluated on the answer (13.2.2, steps 1 and
  2): an answer whose ETag the tags do not name strongly (or that has none), or that was modified after
  the date, becomes a 412 without a body. Werkzeug skipped both when a byte range was asked for (a 206:
  a resumed download could join bytes of two versions of a file), ignored ``If-Unmodified-Since`` and an
  answer without an ETag, and sent the whole file with its 412;
- ``If-None-Match`` (or, without it, ``If-Modified-Since``) is evaluated before ``Range`` and after
  ``If-Match`` (steps 3 and 4): the client holding the version gets the 304 of a plain GET (its ``Vary``,
  its weak ETag). Werkzeug served the range (206) and, when ``If-Match`` named the version too, the whole
  file (200). For a file served in ranges whose version the client does not hold, the answer is asked for
  again with the range: the only requests answered twice inside;
- a ``Range`` that does not parse (``bytes=5-2``) is ignored (14.2), a suffix longer than the file
  (``bytes=-99999``) gets the whole file (14.1.2), and an ``If-Range`` date gets the range only when it is
  the ``Last-Modified`` itself (13.1.5). Werkzeug answered the first two 416, and served the range under
  any later date.

Only a request that carries one of these headers pays for more than a look at its ``environ``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.http import parse_date, parse_etags, parse_range_header, unquote_etag
from werkzeug.wsgi import ClosingIterator

from .logs import hold_access_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

UNDERSTOOD_UNIT = "bytes"
SAFE_METHODS = frozenset({"GET", "HEAD"})
EVALUATED_STATUSES = frozenset({200, 206, 304})
"""Answers a failed precondition turns into a 412 (a 2xx, and a 304 of If-None-Match, evaluated after)."""
PRECONDITION_FAILED = (
    "This has changed: the version your request names (If-Match, If-Unmodified-Since) is not the current "
    "one. Fetch it again without those headers."
)
KEPT_HEADERS = ("ETag", "Last-Modified", "Vary")
"""Headers of the answer a 412 keeps: they tell the client what the current version is."""
NOT_MODIFIED_HEADERS = (*KEPT_HEADERS, "Cache-Control", "Expires", "Content-Location")
"""Headers of the answer a 304 keeps (RFC 9110 15.4.5): those a 200 of the same version would carry."""


def install_conditional_requests(app: Flask) -> None:
    """Read ``Range``, ``If-Match`` and ``If-Unmodified-Since`` of GET and HEAD as the module says."""
    inner: WSGIApplication = app.wsgi_app

    def as_rfc_9110_reads(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in SAFE_METHODS:
            return inner(environ, start_response)
        asked = environ.get("HTTP_RANGE")
        if asked is not None and not (_one_byte_range(asked) and _strong_if_range(environ)):
            del environ["HTTP_RANGE"]
        if environ.get("HTTP_IF_MATCH", "").strip() == "*":
            del environ["HTTP_IF_MATCH"]
        if "HTTP_IF_MATCH" in environ or "HTTP_IF_UNMODIFIED_SINCE" in environ or _checked_range(environ):
            return _logged_as_sent(inner, environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = as_rfc_9110_reads  # type: ignore[method-assign]


class _Held:
    """An answer of the app whose start is held until it is decided what to send: it, or another."""

    def __init__(self, inner: WSGIApplication, environ: WSGIEnvironment) -> None:
        held: dict[str, Any] = {}

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            held.update(status=status, headers=headers, exc_info=exc_info)
            return _no_write

        self.answer = inner(environ, hold)
        self.started = bool(held)
        self.body = iter(self.answer)
        self.first = [] if self.started else list(_first(self.body))  # an app may start at its first piece
        self.status_line: str = held["status"]
        self.header_list: list[tuple[str, str]] = held["headers"]
        self.exc_info = held["exc_info"]
        self.status = int(self.status_line[:3])
        self.headers = Headers(self.header_list)

    def send(self, start_response: StartResponse) -> Iterable[bytes]:
        start_response(self.status_line, self.header_list, self.exc_info)
        if self.started:
            return self.answer  # as it came: the server's file wrapper (sendfile) and close() kept
        return ClosingIterator(chain(self.first, self.body), [self.close])

    def close(self) -> None:
        _close(self.answer)


def _logged_as_sent(
    inner: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """:func:`_evaluated_answer`, the app's access line written with the status sent (a 304, 412 or 206
    made of the app's 200), once (the app may be asked twice: a range, then the whole file)."""
    held = hold_access_line(environ)
    sent: list[int] = []

    def starting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        sent.append(int(status[:3]))
        return start_response(status, headers, exc_info)

    try:
        return _evaluated_answer(inner, environ, starting)
    finally:
        held.write(sent[-1] if sent else None)  # nothing sent: the app raised; its line as it wrote it


def _evaluated_answer(
    inner: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """The answer of ``inner`` as RFC 9110 13.2.2 orders the request's conditions: a 412 when If-Match or
    If-Unmodified-Since fails on it; a 304 when If-None-Match (or If-Modified-Since) names the version the
    client holds, before any range; the whole representation for a range that cannot be served."""
    if "HTTP_RANGE" in environ and _has_validators(environ):
        whole = _held_without_range(inner, environ)  # the answer a plain GET gets: Vary, a weak ETag...
        if whole.status != 200 or not _serves_ranges(whole):
            return _decided(whole, environ, start_response)  # a 304 (held already), a 412, a page...
        whole.close()  # another version of a file than the client's: its range is what it asked for
    held = _Held(inner, environ)
    if "HTTP_RANGE" in environ and _range_not_served(environ, held):
        held.close()
        held = _held_without_range(inner, environ)
    return _decided(held, environ, start_response)


def _decided(held: _Held, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """``held`` sent, or the 412 or 304 the request's preconditions make of it."""
    if _evaluated(held.status, held.headers) and _fails(environ, held.headers):
        held.close()
        return _precondition_failed(held.headers, start_response)
    if held.status in (200, 206) and _held_already(environ, held.headers):
        held.close()
        return _not_modified(held.headers, start_response)
    return held.send(start_response)


def _serves_ranges(held: _Held) -> bool:
    """Whether the answer is of a file served in ranges (a static file, an export): asking again for its
    range has no effect but that. A page (which records a view) is never asked twice."""
    return "bytes" in held.headers.get("Accept-Ranges", "")


def _held_without_range(inner: WSGIApplication, environ: WSGIEnvironment) -> _Held:
    whole = {name: value for name, value in environ.items() if name not in ("HTTP_RANGE", "HTTP_IF_RANGE")}
    return _Held(inner, whole)


def _range_not_served(environ: WSGIEnvironment, held: _Held) -> bool:
    """Whether a range answer must give way to the whole representation: a 416 to a suffix range
    (``bytes=-N`` longer than the file covers all of it, 14.1.2; Werkzeug refused it), or a 206 under an
    ``If-Range`` date that is not exactly the answer's ``Last-Modified`` (13.1.5; Werkzeug read it as "not
    modified since", and a resumed download could join two versions)."""
    if held.status == 416:
        return _suffix(environ["HTTP_RANGE"])
    if held.status != 206:
        return False
    condition = environ.get("HTTP_IF_RANGE", "").strip()
    date = parse_date(condition) if condition and not condition.startswith(("W/", '"')) else None
    return date is not None and parse_date(held.headers.get("Last-Modified")) != date


def _one_byte_range(asked: str) -> bool:
    """Whether ``Range`` asks for one range of bytes, the only kind served: another unit is ignored, as
    a server must, and several ranges too, as a server may (Werkzeug answered both 416)."""
    unit, _, ranges = asked.partition("=")
    if unit.strip().lower() != UNDERSTOOD_UNIT or "," in ranges:
        return False
    return parse_range_header(f"{UNDERSTOOD_UNIT}={ranges}") is not None  # "5-2", "abc", "": ignored too


def _strong_if_range(environ: WSGIEnvironment) -> bool:
    """Whether an ``If-Range`` can be true: a date or a strong tag. A weak tag never is (13.1.5; it names
    a compressed body, whose bytes are not the file's): the whole file is sent. Werkzeug compared it as
    strong, and a resumed download joined plain bytes to gzip ones."""
    return not environ.get("HTTP_IF_RANGE", "").lstrip().startswith("W/")


def _fails(environ: WSGIEnvironment, headers: Headers) -> bool:
    """Whether If-Match (first) or If-Unmodified-Since is false of the answer with these headers."""
    if environ.get("HTTP_IF_MATCH") is not None:
        # The answer's tag is weak when only its bytes differ (a compressed body): the version is the same.
        tag, _weak = unquote_etag(headers.get("ETag"))
        return if_match_fails(environ, tag)
    since = parse_date(environ.get("HTTP_IF_UNMODIFIED_SINCE"))
    modified = parse_date(headers.get("Last-Modified"))
    return since is not None and modified is not None and modified > since


def _has_validators(environ: WSGIEnvironment) -> bool:
    return "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ


def _checked_range(environ: WSGIEnvironment) -> bool:
    """Whether a range is asked for with what Werkzeug reads otherwise: If-None-Match or If-Modified-Since
    (it served the range), a suffix (it refused one longer than the file), an If-Range date."""
    asked = environ.get("HTTP_RANGE")
    if asked is None:
        return False
    return _has_validators(environ) or _suffix(asked) or "HTTP_IF_RANGE" in environ


def _suffix(asked: str) -> bool:
    """Whether ``Range`` asks for the last bytes (``bytes=-500``)."""
    return asked.partition("=")[2].strip().startswith("-")


def _held_already(environ: WSGIEnvironment, headers: Headers) -> bool:
    """Whether the client holds the version of this answer: ``If-None-Match`` names its tag (weakly: a
    compressed body is the same version) or is ``*``; without ``If-None-Match``, ``If-Modified-Since`` is
    not before its ``Last-Modified``."""
    if environ.get("HTTP_IF_NONE_MATCH") is not None:
        tags = parse_etags(environ["HTTP_IF_NONE_MATCH"])
        tag, _weak = unquote_etag(headers.get("ETag"))
        return tags.star_tag or (tag is not None and tags.contains_weak(tag))
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    modified = parse_date(headers.get("Last-Modified"))
    return since is not None and modified is not None and modified <= since


def if_match_fails(environ: WSGIEnvironment, tag: str | None) -> bool:
    """Whether the request's ``If-Match`` names tags, none of them ``tag`` (unquoted; None: the answer has
    none) compared strongly. An ``If-Match`` that names no tag (unreadable) is no condition."""
    tags = parse_etags(environ.get("HTTP_IF_MATCH"))
    return bool(tags) and (tag is None or not tags.is_strong(tag))


def _evaluated(status: int, headers: Headers) -> bool:
    """Whether the preconditions decide this answer: a 2xx or a 304, and Werkzeug's 412 for a file (the
    file's own type, the whole file with it); not a 404, nor a 412 already said in words."""
    refused_with_its_body = status == 412 and not (headers.get("Content-Type") or "").startswith("text/plain")
    return status in EVALUATED_STATUSES or refused_with_its_body


def _precondition_failed(answer: Headers, start_response: StartResponse) -> Iterable[bytes]:
    body = PRECONDITION_FAILED.encode()
    headers = [(name, answer[name]) for name in KEPT_HEADERS if name in answer]
    headers += [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    start_response("412 PRECONDITION FAILED", headers)
    return [body]


def _not_modified(answer: Headers, start_response: StartResponse) -> Iterable[bytes]:
    start_response(
        "304 NOT MODIFIED", [(name, answer[name]) for name in NOT_MODIFIED_HEADERS if name in answer]
    )
    return []


def _first(body: Iterator[bytes]) -> Iterator[bytes]:
    for piece in body:
        yield piece
        return


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


def _no_write(data: bytes) -> None:
    raise RuntimeError("the answer is held to check its preconditions: write() cannot be used")
