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
  ``If-Match`` (steps 3 and 4): a 200 or 206 of a version the client holds becomes a 304. Werkzeug served
  the range (206) and, when ``If-Match`` named the version too, the whole file (200).

Only a request that carries one of these headers pays for more than a look at its ``environ``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.http import parse_date, parse_etags, unquote_etag
from werkzeug.wsgi import ClosingIterator

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
        if "HTTP_IF_MATCH" in environ or "HTTP_IF_UNMODIFIED_SINCE" in environ or _validated_range(environ):
            return _with_preconditions(inner, environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = as_rfc_9110_reads  # type: ignore[method-assign]


def _with_preconditions(
    inner: WSGIApplication, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """The answer of ``inner``, or a 412 when a precondition of the request fails on it."""
    held: dict[str, Any] = {}

    def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        held.update(status=status, headers=headers, exc_info=exc_info)
        return _no_write

    answer = inner(environ, hold)
    started = bool(held)
    body = iter(answer)
    first = [] if started else list(_first(body))  # an app may start its answer at its first piece
    status = int(held["status"][:3])
    headers = Headers(held["headers"])
    if _evaluated(status, headers) and _fails(environ, headers):
        _close(answer)
        return _precondition_failed(headers, start_response)
    if status in (200, 206) and _held_already(environ, headers):
        _close(answer)
        return _not_modified(headers, start_response)
    start_response(held["status"], held["headers"], held["exc_info"])
    if started:
        return answer  # as it came: the server's file wrapper (sendfile) and close() kept
    return ClosingIterator(chain(first, body), [lambda: _close(answer)])


def _one_byte_range(asked: str) -> bool:
    """Whether ``Range`` asks for one range of bytes, the only kind served: another unit is ignored, as
    a server must, and several ranges too, as a server may (Werkzeug answered both 416)."""
    unit, _, ranges = asked.partition("=")
    return unit.strip().lower() == UNDERSTOOD_UNIT and "," not in ranges


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


def _validated_range(environ: WSGIEnvironment) -> bool:
    """Whether a range is asked for with ``If-None-Match`` or ``If-Modified-Since``, which Werkzeug left
    unread (it served the range)."""
    return "HTTP_RANGE" in environ and (
        "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
    )


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
