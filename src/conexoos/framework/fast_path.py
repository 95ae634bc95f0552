"""Fast paths: answers a project gives to some requests for one endpoint before Flask's request handling
(its dispatch, the WSGI middleware between the trusted proxies and Flask, and the hooks the project says
the request does not need), with the same answer Flask's path would give.

A fast path is registered with :func:`add_fast_path` (from ``server/middleware.py``). For a request whose
method it takes, that asks for no protocol upgrade (WebSocket), and whose ``environ`` it
:attr:`FastPath.accepts` (a cheap look at the raw request, made
before any context exists), the framework pushes the request's context, and when the URL map sends it to
the fast path's endpoint it does what ``Flask.full_dispatch_request`` does, with the fast path's
``answer`` in place of the view:

- unless :attr:`FastPath.applies` says no (then Flask answers before anything ran), the
  ``request_started`` signal, the URL value preprocessors, then every ``before_request`` function of
  the app and of the endpoint's blueprints, in Flask's order, except those :attr:`FastPath.skipped_hooks`
  names for this request (hooks that provably do nothing for it, such as rate-limit checks on a route no
  limit applies to);
- ``answer()``: the finished response, or None when the view must answer (a cache miss): the view is then
  called in the same context, as ``Flask.dispatch_request`` calls it, with Flask's error handlers for
  what it raises, so the before-request functions run once;
- every ``after_request`` function (again except the skipped ones), the session's save, the
  ``request_finished`` signal, and the teardown functions when the context is popped.

When a ``before_request`` function returns a response or raises, or ``answer`` raises, the context is
popped and the request goes to Flask untouched (it runs those functions again and answers as it always
does: its error handlers, its 503 or 404). An ``answer`` must therefore do nothing that cannot be done
twice before it returns a response.

An ``answer`` may instead return a :class:`~conexoos.framework.replay.Replayable`: the same response for
every request agreeing on the environ values :attr:`FastPath.varies_on` names. Its finished form (after
the after-request functions and Werkzeug's WSGI headers) is then kept per variant and sent again, with a
new ``Date`` and the access line, without a ``Response`` and without the after-request functions, while
all of these hold for the request (else it is finished as above):

- every after-request function it would run is the access log's or one :attr:`FastPath.replayable_hooks`
  names (their effect depends only on the response and the variant), and none was added by
  ``after_this_request``;
- the session is empty and unmodified (the session interface writes nothing for it);
- nothing listens to the ``request_finished`` signal (it would want the response).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request, request_finished, request_started
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from .logs import EveryFewSeconds, log_access, log_access_line, write_access_line
from .replay import MAX_VARIANT_TEXT, FinishedAnswer, Replayable, finished_answer, send

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask.typing import ResponseReturnValue

EXTENSION = "conexoos.fast_paths"
Hook = Callable[..., Any]
logger = logging.getLogger(__name__)
FAILURE_LOG_SECONDS = 60.0
"""A fast path that fails (its request then goes to Flask) is logged at most once a minute per endpoint."""


class _Failures:
    """Logs a fast path's failure with its traceback, at most once per endpoint every FAILURE_LOG_SECONDS
    (:class:`EveryFewSeconds`): Flask answers the request, so only the log shows the failure, and one that
    repeats for every request must not flood it."""

    def __init__(self) -> None:
        self._due: dict[str, EveryFewSeconds] = {}

    def note(self, endpoint: str) -> None:
        due = self._due.setdefault(endpoint, EveryFewSeconds(FAILURE_LOG_SECONDS))
        if due.due():
            logger.warning("The fast path of %s failed; Flask answered the request.", endpoint, exc_info=True)


def _no_hooks_skipped() -> Collection[Hook]:
    return ()


@dataclass(frozen=True)
class FastPath:
    """One endpoint's fast path."""

    endpoint: str
    view: Callable[..., Any]
    """The view function the fast path stands in for: while the app's view for ``endpoint`` is another
    object (a project or plugin wrapped or replaced it: a ban list, a geo block), Flask answers, so that
    the wrapper runs."""
    answer: Callable[[], BaseResponse | Replayable | None]
    """Called inside the request's context once the before-request functions passed: the response (or a
    :class:`Replayable` one), or None when the view must answer (it is called in the same context)."""
    accepts: Callable[[WSGIEnvironment], bool] = lambda environ: True
    """A look at the raw environ before any context is pushed: False sends the request to Flask at once."""
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    applies: Callable[[], bool] = lambda: True
    """Called in the request's context before any before-request function: False leaves it to Flask."""
    skipped_hooks: Callable[[], Collection[Hook]] = _no_hooks_skipped
    """The before/after-request functions this request does not run (called in its context once
    ``applies`` said yes)."""
    varies_on: tuple[str, ...] = ()
    """The environ keys a :class:`Replayable` answer's finished form depends on (besides the answer)."""
    replayable_hooks: Callable[[], Collection[Hook]] = _no_hooks_skipped
    """The after-request functions whose effect on a :class:`Replayable` answer depends only on it and on
    ``varies_on``: kept with its finished form instead of running per request."""


class FastPaths:
    """WSGI middleware: answers the requests a registered fast path takes, passes the rest to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.flask = app
        self.wsgi_app = wsgi_app
        self.paths: list[FastPath] = []
        self._failures = _Failures()
        self._static: dict[str, frozenset[str]] | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._static_route(environ):
            return self.wsgi_app(environ, start_response)
        candidates = [path for path in self.paths if self._takes(path, environ)]
        if candidates:
            answered = self._answer(candidates, environ, start_response)
            if answered is not None:
                return answered
        return self.wsgi_app(environ, start_response)

    def _static_route(self, environ: WSGIEnvironment) -> bool:
        """Whether a rule without variables takes the request's path and method (``/login``,
        ``/robots.txt``): the URL map prefers it to any rule with variables, so no fast path's endpoint
        can be the request's, and no context is pushed to find that out."""
        if self._static is None:  # the URL map is complete once requests come (Flask forbids changes)
            self._static = _static_routes(self.flask)
        methods = self._static.get(environ.get("PATH_INFO", ""))
        return methods is not None and environ.get("REQUEST_METHOD", "") in methods

    def _takes(self, path: FastPath, environ: WSGIEnvironment) -> bool:
        # A WebSocket upgrade is for Socket.IO's middleware (it notes the TCP connection), never a fast path.
        if "HTTP_UPGRADE" in environ or environ.get("REQUEST_METHOD", "") not in path.methods:
            return False
        try:
            return path.accepts(environ)
        except Exception:  # noqa: BLE001 - logged; Flask answers the request its own way
            self._failures.note(path.endpoint)
            return False

    def _answer(
        self, candidates: list[FastPath], environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        app = self.flask
        context = app.request_context(environ)
        error: BaseException | None = None
        try:
            try:
                context.push()  # opens the session: a failure there is Flask's to answer, as in its wsgi_app
            except Exception as raised:  # noqa: BLE001 - Flask pushes again and answers its own way
                error = raised
                return None
            path = next((path for path in candidates if path.endpoint == request.endpoint), None)
            if path is None or request.routing_exception is not None:
                return None
            if app.view_functions.get(path.endpoint) is not path.view:
                return None  # wrapped or replaced since: only Flask's dispatch runs the wrapper
            try:
                if not path.applies():
                    return None
                skipped = path.skipped_hooks()
                if not _prepared(app, skipped):
                    return None
                answer = path.answer()
            except HTTPException as raised:  # a hook's answer (a 404 for a NUL in the path): Flask's to give
                error = raised
                return None
            except Exception as raised:  # noqa: BLE001 - Flask answers the request again, its own way
                error = raised
                self._failures.note(path.endpoint)
                return None
            try:
                if isinstance(answer, Replayable):
                    return _replayed(app, path, answer, skipped, environ, start_response)
                # None: a cache miss; the view answers, its before-request functions having run once
                response = _finish(app, _view_answer(app) if answer is None else answer, skipped)
            except Exception as raised:  # noqa: BLE001 - answered (a view recorded): not twice; as Flask
                error = raised
                response = app.handle_exception(raised)
            return response(environ, start_response)
        finally:
            context.pop(error)


def _static_routes(app: Flask) -> dict[str, frozenset[str]]:
    """The paths of the URL map's rules without variables, host or subdomain, with the methods they take."""
    routes: dict[str, frozenset[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.arguments and not rule.host and not rule.subdomain and rule.methods:
            routes[rule.rule] = routes.get(rule.rule, frozenset()) | rule.methods
    return routes


def _replayed(
    app: Flask,
    path: FastPath,
    answer: Replayable,
    skipped: Collection[Hook],
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    """``answer`` sent as kept for the request's variant, or finished (and kept when it may be)."""
    variant = _variant(app, path, skipped, environ)
    kept = answer.kept.get(variant) if variant is not None else None
    if kept is not None and variant is not None:
        if variant[0]:  # the access log's after-request function is among the request's
            log_access_line(kept.status_code)
        return send(kept, start_response)
    response = _finish(app, answer.build(), skipped)
    if variant is None or request_ctx._after_request_functions:
        return response(environ, start_response)
    finished: FinishedAnswer = finished_answer(response, environ)
    answer.kept.keep(variant, finished)
    return send(finished, start_response)


def _variant(
    app: Flask, path: FastPath, skipped: Collection[Hook], environ: WSGIEnvironment
) -> tuple[object, ...] | None:
    """The request's variant of a replayable answer (first whether the access line is logged), or None
    when its finished form may not be sent again (see the module's description)."""
    session = request_ctx.session
    if session or session.modified or request_ctx._after_request_functions or request_finished.receivers:
        return None
    replayable = path.replayable_hooks()
    logged = False
    for name in chain(request.blueprints, (None,)):
        for hook in app.after_request_funcs.get(name, ()):
            if hook is log_access:
                logged = hook not in skipped
            elif hook not in skipped and hook not in replayable:
                return None
    values = [environ.get(key) for key in path.varies_on]
    if sum(len(value) for value in values if isinstance(value, str)) > MAX_VARIANT_TEXT:
        return None  # made-up headers: finished for this request, not kept
    accessed = getattr(session, "accessed", None)  # Flask's session interfaces add Vary: Cookie then
    return (logged, accessed, *values)


def _prepared(app: Flask, skipped: Collection[Hook]) -> bool:
    """The first half of ``Flask.full_dispatch_request``, before the view: False when a before-request
    function answered (Flask must give that answer)."""
    app._got_first_request = True
    request_started.send(app, _async_wrapper=app.ensure_sync)
    return _before_request(app, skipped)


def _view_answer(app: Flask) -> ResponseReturnValue:
    """The second half of ``Flask.full_dispatch_request`` before its finalising: the view's answer, or
    its error handlers' for what it raised (an error no handler takes is raised, for ``handle_exception``)."""
    try:
        return app.dispatch_request()
    except Exception as raised:  # noqa: BLE001 - Flask's own handling of a view's error
        return app.handle_user_exception(raised)


def _finish(app: Flask, answer: ResponseReturnValue, skipped: Collection[Hook]) -> Response:
    """``Flask.finalize_request`` for ``answer``: the after-request functions, the session's save, the
    access line, the ``request_finished`` signal."""
    response: Response = app.make_response(answer)
    for function in request_ctx._after_request_functions:  # after_this_request
        response = app.ensure_sync(function)(response)
    for name in chain(request.blueprints, (None,)):
        for hook in reversed(app.after_request_funcs.get(name, ())):
            if hook not in skipped:
                response = app.ensure_sync(hook)(response)
    interface, session = app.session_interface, request_ctx.session
    if not interface.is_null_session(session):
        interface.save_session(app, session, response)
    write_access_line()  # after the save, as Flask writes it (the save may make the answer a 503)
    request_finished.send(app, _async_wrapper=app.ensure_sync, response=response)
    return response


def _before_request(app: Flask, skipped: Collection[Hook]) -> bool:
    """Run ``Flask.preprocess_request``'s functions except ``skipped``; False when one answered itself."""
    names = (None, *reversed(request.blueprints))
    for name in names:
        for preprocessor in app.url_value_preprocessors.get(name, ()):
            preprocessor(request.endpoint, request.view_args)
    for name in names:
        for hook in app.before_request_funcs.get(name, ()):
            if hook not in skipped and hook() is not None:
                return False
    return True


def install_fast_paths(app: Flask) -> None:
    """Put the fast paths' middleware around ``app.wsgi_app`` (inside the trusted proxies, so that a fast
    path sees the client's real address): :func:`add_fast_path` registers them."""
    paths = FastPaths(app, app.wsgi_app)
    app.wsgi_app = paths  # type: ignore[method-assign]
    app.extensions[EXTENSION] = paths


def add_fast_path(app: Flask, path: FastPath) -> None:
    """Answer requests for ``path.endpoint`` through ``path`` (see the module's description)."""
    app.extensions[EXTENSION].paths.append(path)
