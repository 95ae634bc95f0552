"""Error responses with their real status code: JSON for APIs, HTML for pages."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    render_template,
    render_template_string,
    request,
)
from flask.globals import request_ctx
from jinja2 import Template, TemplateNotFound
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, NotFound, ServiceUnavailable
from werkzeug.http import parse_accept_header

from .causes import one_line_cause
from .database import db
from .lazy import lazy_module
from .logs import EveryFewSeconds
from .request_size import is_generic_too_large, too_large_message
from .storage.base import OUT_OF_SPACE_MESSAGE, StorageError, StorageFull
from .storage.database import is_database_full

if TYPE_CHECKING:
    import flask_wtf.csrf as flask_wtf_csrf

    from . import csrf as csrf_protection
else:  # Flask-WTF and WTForms: imported with the first app (register_error_handlers), not the package
    flask_wtf_csrf = lazy_module("flask_wtf.csrf")
    csrf_protection = lazy_module("conexoos.framework.csrf")

DEFAULT_JSON_PREFIXES = ("/api/",)
UNEXPECTED_ERROR = "The server met an unexpected error. It has been logged."
WEBSOCKET_ELSEWHERE = (
    "This address does not take WebSocket connections. Open it as a page (without Upgrade: websocket)."
)
DATABASE_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeoutError)
"""What SQLAlchemy raises when the database server is down, restarting, unreachable or out of connections
(also a deadlock or a lock timeout: all of them pass, so a 503 asking to try again is the honest answer)."""
SCHEMA_MISMATCH = re.compile(r"no such (?:table|column)|has no column named", re.IGNORECASE)
"""SQLite's OperationalError for a table or column the models have and the database lacks (PostgreSQL and
MariaDB raise ProgrammingError for it, a 500 already): a schema to migrate, not a database that is down."""
RETRY_AFTER_SECONDS = 30
_DATABASE_FAILED = "conexoos_database_failed"
log = logging.getLogger("conexoos.http_errors")
PLAIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ status }} {{ title }}</title></head>
<body><h1>{{ status }} {{ title }}</h1><p>{{ message }}</p></body></html>
"""
"""The error page when the project's own cannot be drawn without the database (autoescaped)."""
_database_warning = EveryFewSeconds(60.0)
_template_warning = EveryFewSeconds(60.0)
"""An error template that asks the database during an outage: one line a minute, not one per request."""
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    507: "insufficient_storage",
}
NOT_FOUND_MESSAGE = "There is no page at this address."
"""A 404's sentence: Werkzeug's own (no route matches) and every 404 that must not tell a URL apart from
one that does not exist (a staff page for anyone else, a draft page) say the same."""
STORAGE_UNAVAILABLE = "The file storage is unavailable, so nothing was saved. Try again in a few minutes."


class InsufficientStorage(HTTPException):
    """507: a write failed for lack of space; nothing was saved."""

    code = 507
    description = OUT_OF_SPACE_MESSAGE

    @property
    def name(self) -> str:
        return "Insufficient Storage"


def wants_json() -> bool:
    """Whether the client should get JSON, not a page: a JSON path (``JSON_PATH_PREFIXES``, default
    ``/api/``), a JSON body (``fetch`` sending one), ``X-Requested-With: XMLHttpRequest`` (jQuery), or an
    Accept header preferring JSON (:func:`_accept_prefers_json`). Every error answer follows this one rule,
    so a script can read why it was refused wherever it posts."""
    prefixes = tuple(current_app.config.get("JSON_PATH_PREFIXES") or DEFAULT_JSON_PREFIXES)
    if request.path.startswith(prefixes) or request.is_json:
        return True
    if request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return True
    return _accept_prefers_json(request.headers.get("Accept"))


def _accept_prefers_json(header: str | None) -> bool:
    """Whether an Accept ``header`` rates JSON above HTML; at the same rating, whether it names
    ``application/json`` before ``text/html``. axios's ``application/json, text/plain, */*`` rates both 1
    (HTML by ``*/*``) and names JSON; browsers name ``text/html`` at 1 and reach JSON only by ``*/*``
    below it; curl's ``*/*`` names neither (a page, as before). A type's parameters but ``q`` do not count
    (``application/json; charset=utf-8`` is JSON): Werkzeug matches them, and rated it 0."""
    accept = parse_accept_header(_without_parameters(header or ""), MIMEAccept)
    json_quality, html_quality = accept["application/json"], accept["text/html"]
    if json_quality != html_quality or not json_quality:
        return json_quality > html_quality
    return _first_named(header or "", ("application/json", "text/html")) == "application/json"


def _without_parameters(header: str) -> str:
    """An Accept ``header`` whose entries keep only their media type and their ``q``."""
    entries = []
    for entry in header.split(","):
        mimetype, *parameters = (part.strip() for part in entry.split(";"))
        quality = [part for part in parameters if part.replace(" ", "").lower().startswith("q=")]
        entries.append(";".join([mimetype, *quality[:1]]))
    return ", ".join(entries)


def _first_named(header: str, mimetypes: tuple[str, ...]) -> str | None:
    """The first of ``mimetypes`` an Accept ``header`` names exactly (not by a wildcard), in the header's
    own order (Werkzeug's parsed one puts an entry with parameters first)."""
    for entry in header.split(","):
        mimetype = entry.split(";", 1)[0].strip().lower()
        if mimetype in mimetypes:
            return mimetype
    return None


def error_response(status: int, message: str, code: str | None = None, field: str | None = None) -> Response:
    """The framework's JSON error shape: ``{"error": {"code", "message", "field"}}``."""
    error_code = code or ERROR_CODES.get(status, "error")
    body = {"error": {"code": error_code, "message": message, "field": field}}
    response = jsonify(body)
    response.status_code = status
    return response


def is_error_page() -> bool:
    """Whether the page being drawn is an error page: templates then mark no navigation entry as the
    current one (a staff page's 404 would otherwise mark "Admin", unlike a URL that does not exist)."""
    return bool(g.get("error_page"))


def register_error_handlers(app: Flask) -> None:
    """Handle every HTTP error; a project's ErrorHandler registered later overrides these."""
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(flask_wtf_csrf.CSRFError, _csrf_refused)
    app.register_error_handler(StorageError, _storage_failed)
    for unreachable in DATABASE_UNREACHABLE:
        app.register_error_handler(unreachable, _database_unavailable)


def refuse_unbound_requests(app: Flask) -> None:
    """Answer a request Flask refused before routing (a ``Host`` outside ``TRUSTED_HOSTS``) before any
    other ``before_request`` function runs: it has no URL adapter, so a hook that builds a URL (the
    product's setup notice) failed on it, a 500 instead of the 400. Call once every hook is registered."""
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unbound_request)


def _refuse_unbound_request() -> None:
    if not has_url_adapter() and request.routing_exception is not None:
        raise request.routing_exception


def has_url_adapter() -> bool:
    """Whether the current request can build URLs (``url_for``): not when Flask refused its host."""
    return request_ctx.url_adapter is not None


class CsrfRefused(BadRequest):
    """400: a state-changing request without a valid CSRF token, said in words a person can act on."""

    error_code = "csrf_failed"


def _csrf_refused(error: flask_wtf_csrf.CSRFError) -> Any:
    """The 400 of a CSRF refusal (logged by the check that made it), as a page or as JSON."""
    return _handle_http_exception(CsrfRefused(csrf_protection.refusal_message(error.description)))


def _storage_failed(error: StorageError) -> Any:
    """507 when the media storage is out of space, 503 when it cannot be reached; the cause is logged."""
    if isinstance(error, StorageFull):
        log.error("a write failed for lack of space: %s (cause: %r)", error, error.__cause__)
        return _handle_http_exception(InsufficientStorage())
    log.error("media storage failed: %s (cause: %r)", error, error.__cause__)
    return _handle_http_exception(ServiceUnavailable(STORAGE_UNAVAILABLE))


class DatabaseUnavailable(ServiceUnavailable):
    """503: the database does not answer (or is too busy); nothing was saved by this request."""

    description = "The database is unavailable right now, so nothing was saved. Try again in a minute."

    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_SECONDS)


def note_database_failed() -> None:
    """Remember, for the rest of the current request, that the database did not answer (see
    :func:`database_failed`)."""
    if has_request_context():
        setattr(g, _DATABASE_FAILED, True)


def met_database_outage() -> None:
    """After a database error caught in a request: roll the session back (a failed statement leaves it
    unusable) and remember the failure for the rest of the request (:func:`note_database_failed`)."""
    db.session.rollback()
    note_database_failed()


def database_failed() -> bool:
    """Whether the database already failed to answer during the current request.

    The error page of that failure, and the after-request functions that finish it, must not ask the
    database again (each attempt would fail too, and a failure while handling an error is a 500): code
    that loads something from the database for every request (the signed-in user) does without it then.
    """
    return has_request_context() and bool(g.get(_DATABASE_FAILED, False))


def _database_unavailable(error: Exception) -> Any:
    """507 for a database out of space ("database or disk is full"); 503 for one that does not answer."""
    note_database_failed()
    if isinstance(error, OperationalError) and is_database_full(error):
        log.error("a database write failed for lack of space: %s", error.orig)
        return _handle_http_exception(InsufficientStorage())
    if isinstance(error, OperationalError) and SCHEMA_MISMATCH.search(str(error.orig)):
        log.error(
            "the database's tables differ from the models (%s): after changing a model, run `conexoos db "
            "migrate`, then `conexoos db upgrade`; after installing a release, `conexoos db upgrade`",
            one_line_cause(error),
        )
        return _handle_http_exception(InternalServerError())  # no outage: waiting will not mend it
    if _database_warning.due():  # one line a minute, with the cause: not one traceback per request
        log.warning("database unreachable, answering 503: %s", one_line_cause(error))
    return _handle_http_exception(DatabaseUnavailable())


COPIED_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Content-Range")
"""Headers of an HTTP error kept on its page: what to do next (a 416's ``bytes */length``: what exists)."""


def http_error_answer(error: HTTPException) -> Any:
    """The framework's answer to ``error`` (its page, or JSON for a client that wants it): for a project's
    own handler of one status, on one blueprint, to fall back on where it has nothing better to say."""
    return _handle_http_exception(error)


def _handle_http_exception(error: HTTPException) -> Any:
    error = _websocket_refused(error)
    status = error.code or 500
    if isinstance(error, InternalServerError) or status == 500:
        message = UNEXPECTED_ERROR  # a 500's description may hold internals; 502/503 are said on purpose
    elif is_generic_too_large(error):
        message = too_large_message()
    elif isinstance(error, NotFound) and error.description == NotFound.description:
        message = NOT_FOUND_MESSAGE  # the same words as every deliberate 404 (no URL tells itself apart)
    else:
        message = error.description or error.name
    if wants_json():
        response = error_response(
            status, message, getattr(error, "error_code", None), getattr(error, "field", None)
        )
    else:
        response = Response(_render_page(status, error.name, message), status=status, mimetype="text/html")
    for header in COPIED_HEADERS:
        original = error.get_response().headers.get(header)
        if original:
            response.headers[header] = original
    return response


def _websocket_refused(error: HTTPException) -> HTTPException:
    """A WebSocket upgrade that reached the URL map (Socket.IO's endpoint answers its own before it) is
    a 400 that says the address takes none: Werkzeug answered 400 with a generic message, or 405 ("the
    method is not allowed", for a GET) where a URL takes more than one method."""
    if request.routing_exception is not error or error.code not in (400, 405):
        return error
    if request.environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        return error
    return BadRequest(WEBSOCKET_ELSEWHERE)


def _render_page(status: int, title: str, message: str) -> str:
    """The error page from the project's templates. A template that asks the database while it is down
    (for the site's name, a menu) must not turn the error into a 500: the request is marked as having met
    the outage, the page drawn again (code that checks :func:`database_failed` does without the database),
    and failing that, the plain page. A request that cannot build URLs (an untrusted host) gets the plain
    page, drawn without the templates' context (their links, ``url_for``, would fail)."""
    if not has_url_adapter():
        return _plain_page(status, title, message)
    try:
        return _render_template_page(status, title, message)
    except DATABASE_UNREACHABLE as error:
        met_database_outage()
        if _template_warning.due():
            cause = one_line_cause(error)
            log.warning("the %d page asked the database, which did not answer: %s", status, cause)
    try:
        return _render_template_page(status, title, message)
    except DATABASE_UNREACHABLE:
        met_database_outage()
        return render_template_string(PLAIN_PAGE, status=status, title=title, message=message)


def _plain_page(status: int, title: str, message: str) -> str:
    """:data:`PLAIN_PAGE` drawn outside the app's Jinja environment: without its context processors."""
    return Template(PLAIN_PAGE, autoescape=True).render(status=status, title=title, message=message)


def _render_template_page(status: int, title: str, message: str) -> str:
    g.error_page = True  # see is_error_page
    try:
        return render_template(f"errors/{status}.html", status=status, title=title, message=message)
    except TemplateNotFound:
        return render_template("errors/error.html", status=status, title=title, message=message)
