"""App-wide CSRF protection (``SERVER_ENV.CSRF.ENABLED``): Flask-WTF's ``CSRFProtect``, with Django's
``csrf_exempt`` for a view or blueprint that checks its requests itself (a signed webhook,
:mod:`.csrf_exemptions`).

Every POST, PUT, PATCH and DELETE must carry the session's token, in the form field ``csrf_token`` or the
``X-CSRFToken``/``X-CSRF-Token`` header; templates get ``csrf_token()``. A refusal is a 400 whose message
says what happened (:func:`refusal_message`, drawn by ``http_errors``), logged on one line naming the
request and the reason, never the token.

The framework installs one protection per app, after the project is loaded: a project that set up its
own ``CSRFProtect`` (the product does, for its hot path) keeps it alone, and a Flask-WTF one is made to
read the marks of ``csrf_exempt`` (:func:`honour_marks`). flask-framework projects get this same
protection through ``Process.csrf()``.

This module imports Flask-WTF (and WTForms): ``conexoos.framework`` imports it with the first app, not
with the package (a CLI command that builds no app does not pay for it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import flask_wtf.csrf
from flask import Blueprint, Flask, current_app, g, has_request_context, request

from . import compat_import
from .csrf_exemptions import csrf_exempt as csrf_exempt  # where it was first, still importable
from .csrf_exemptions import is_exempt_endpoint, is_exempt_request
from .csrf_settings import WRITE_METHODS
from .logs import escape_control, logged_path
from .signals import blueprint_installed

if TYPE_CHECKING:
    from collections.abc import Callable

    from .app import Runtime

log = logging.getLogger("conexoos.csrf")
_CHECKING = "conexoos_csrf_checking"
"""Set on ``g`` while :meth:`CSRFProtect.protect` runs: Flask-WTF's own line about a refusal is dropped
then (:class:`_DuplicateReason`), since the framework logs the same reason with the request."""
_HONOURS_MARKS = "conexoos_honours_csrf_exempt"
"""Set on the ``protect`` :func:`honour_marks` gives a project's own protection (given once)."""
MISSING_REFERRER = "The referrer header is missing."
FOREIGN_REFERRER = "The referrer does not match the host."
"""Flask-WTF's reasons for refusing an HTTPS request by its Referer (``WTF_CSRF_SSL_STRICT``); the second
is also :class:`CSRFProtect`'s for one it cannot read."""
ExemptTarget = TypeVar("ExemptTarget", bound="Callable[..., object] | Blueprint | str")


class CSRFProtect(flask_wtf.csrf.CSRFProtect):
    """Flask-WTF's protection, the framework's and the product's, which exempts by view: what
    :func:`csrf_exempt` (or its own :meth:`exempt`) marks, that view, view class or blueprint alone
    (Flask-WTF knows a view by its module and function name, which two views can share). A Referer it
    cannot read (``https://[::1``, a port out of range) is refused like a foreign one (a 400) instead of
    escaping as Python's ``ValueError`` (a 500, which any visitor could make over HTTPS), and each
    refusal, by the token or the Referer, is logged once with the request (:func:`log_refused`;
    Flask-WTF's own reason-only line is dropped: :class:`_DuplicateReason`)."""

    def exempt(self, view: ExemptTarget) -> ExemptTarget:
        """Leave ``view`` (a view function, view class or blueprint) out of the check, as :func:`csrf_exempt`
        does. A dotted name (``"module.function"``) is Flask-WTF's: every view of that module and name."""
        if isinstance(view, str):
            super().exempt(view)
            return view
        return csrf_exempt(view)

    def protect(self, apply_exemptions: bool = False) -> None:
        """Refuse the current request (:class:`flask_wtf.csrf.CSRFError`, a 400) unless its token is valid;
        with ``apply_exemptions`` (the check of every request), not a request to an exempt view."""
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        if apply_exemptions and is_exempt_request():
            return
        setattr(g, _CHECKING, True)
        try:
            self._protect_readable(apply_exemptions)
        except flask_wtf.csrf.CSRFError as error:
            log_refused(error.description)
            raise
        finally:
            setattr(g, _CHECKING, False)

    def _protect_readable(self, apply_exemptions: bool) -> None:
        try:
            super().protect(apply_exemptions)
        except ValueError:
            if _readable_url(request.referrer):
                raise  # not the Referer's: a defect, reported as one
            self._error_response(FOREIGN_REFERRER)


def log_refused(reason: str | None) -> None:
    """One line of the refused request: its method, its path (control characters escaped, one-time links'
    tokens hidden) and the reason in words; never the token."""
    path = escape_control(logged_path())  # a %0a in the path cannot forge another line
    log.warning("CSRF check refused %s %s: %s", request.method, path, log_reason(reason))


def _readable_url(url: str | None) -> bool:
    """Whether ``url`` is absent or one whose host and port Python can read (Flask-WTF compares them)."""
    try:
        parsed = urlsplit(url or "")
        parsed.hostname, parsed.port  # noqa: B018 (each may raise ValueError)
    except ValueError:
        return False
    return True


REASONS = {
    "The CSRF token is missing.": (
        "no token was sent (neither the {field} form field nor the {header} header)",
        "This request was refused because it carries no CSRF token, which protects you against forged "
        "requests from other sites: a form sends it in its {field} field, a script in the {header} "
        "header. Reload the page and try again.",
    ),
    "The CSRF session token is missing.": (
        "the session holds no CSRF secret (no session cookie was sent, or the session ended)",
        "This request was refused because your session has ended or your browser did not send its "
        "cookie, so its security token cannot be checked. Reload the page (with cookies allowed) and try "
        "again.",
    ),
    "The CSRF token has expired.": (
        "the token has expired",
        "This request was refused because its security token has expired (the page was open a long "
        "time). Reload the page and try again.",
    ),
    "The CSRF token is invalid.": (
        "the token is malformed or was not signed by this site",
        "This request was refused because its security token is not valid. Reload the page and try again.",
    ),
    "The CSRF tokens do not match.": (
        "the token belongs to another session",
        "This request was refused because its security token belongs to another session (you logged in "
        "or out in another tab). Reload the page and try again.",
    ),
    MISSING_REFERRER: (
        "an HTTPS request without a Referer header",
        "This request was refused because the browser did not say which page sent it (a Referer header), "
        "which a request over HTTPS must. Send it again from a page of this site.",
    ),
    FOREIGN_REFERRER: (
        "the Referer names another site, or cannot be read",
        "This request was refused because it did not come from a page of this site: the page that sent it "
        "(its Referer header) is of another site, or its address could not be read. Open the page on this "
        "site, reload it, and try again from there.",
    ),
}
"""Flask-WTF's reason (a CSRFError's description), as the log line and as the person's message say it;
``{field}`` and ``{header}`` are the form field and header the token is expected in (Flask-WTF's
``WTF_CSRF_FIELD_NAME`` and first ``WTF_CSRF_HEADERS``, which a project may rename)."""
UNKNOWN_REASON = (
    "This request was refused because its security token is missing or not valid. Reload the page and try "
    "again."
)


def log_reason(reason: str | None) -> str:
    """Flask-WTF's ``reason`` in the words of the log line."""
    known = REASONS.get(reason or "")
    return known[0].format(**_token_places()) if known else str(reason)


def refusal_message(reason: str | None) -> str:
    """Flask-WTF's ``reason`` as the message of the 400 a person (or a script's author) reads."""
    known = REASONS.get(reason or "")
    return known[1].format(**_token_places()) if known else UNKNOWN_REASON


def is_referrer_refusal(reason: str | None) -> bool:
    """Whether Flask-WTF's ``reason`` is about the request's Referer (missing, foreign or unreadable),
    not its token: reloading the form's page on another site, or logging in, would not help."""
    return reason in (MISSING_REFERRER, FOREIGN_REFERRER)


def _token_places() -> dict[str, str]:
    """The form field and the header the current app expects the token in, as Flask-WTF reads them."""
    config = current_app.config
    headers = config.get("WTF_CSRF_HEADERS") or ["X-CSRFToken"]
    return {"field": config.get("WTF_CSRF_FIELD_NAME") or "csrf_token", "header": headers[0]}


class _DuplicateReason(logging.Filter):
    """Drops Flask-WTF's reason-only line about a refusal made by :class:`CSRFProtect`
    (the framework's or the product's), which logs it again with the request (one line per refusal,
    not two)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (has_request_context() and g.get(_CHECKING, False))


_DUPLICATE_REASON = _DuplicateReason()


NOT_SET = (
    "SERVER_ENV.CSRF.ENABLED is not set, so %s's POST, PUT, PATCH and DELETE requests are not checked for a "
    "CSRF token (as before the key existed): set it to true to refuse forged ones (forms then send "
    "csrf_token(), scripts the X-CSRFToken header, and conexoos.framework.csrf_exempt marks a view that "
    "checks its requests itself), or to false to keep them unchecked without this warning"
)


def install_csrf(app: Flask, runtime: Runtime) -> None:
    """Check every state-changing request of ``app`` with ``runtime.csrf`` as ``SERVER_ENV.CSRF.ENABLED``
    says (:func:`_protection_wanted`), unless the project set up a ``CSRFProtect`` of its own (a Flask-WTF
    one then reads the marks of ``csrf_exempt``: :func:`honour_marks`); ``csrf_token()`` works in
    templates either way. Call it once the project and its plugins are loaded."""
    app.jinja_env.globals.setdefault("csrf_token", flask_wtf.csrf.generate_csrf)
    wtf_log = logging.getLogger(flask_wtf.csrf.__name__)
    if _DUPLICATE_REASON not in wtf_log.filters:  # it drops only lines of our protections' checks
        wtf_log.addFilter(_DUPLICATE_REASON)
    own = app.extensions.get("csrf")  # Flask-WTF's key: the project protects itself (one check, not two)
    if own is not None:
        log.debug("%s keeps its own CSRF protection", app.name)
        if isinstance(own, CSRFProtect):  # ours reads the marks itself
            return
        if isinstance(own, flask_wtf.csrf.CSRFProtect):
            honour_marks(own)
        else:
            _warn_of_unread_marks(app)
            blueprint_installed.connect(_warn_of_unread_marks, app)
        return
    if not _protection_wanted(app, runtime):
        return
    runtime.csrf.init_app(app)
    for blueprint in runtime.logins.cross_site_posts:  # an identity provider's POSTs, checked by the login
        runtime.csrf.exempt(blueprint)


def honour_marks(own: flask_wtf.csrf.CSRFProtect) -> None:
    """Have a project's own Flask-WTF ``CSRFProtect`` pass over what :func:`csrf_exempt` marks, view by
    view, as the framework's does: its ``protect``, which its check of every request calls with
    ``apply_exemptions=True``, first reads the request's view and blueprints (a lazily registered one's
    are installed by then). Once for a protection that several apps share."""
    checked = own.protect
    if getattr(checked, _HONOURS_MARKS, False):
        return

    def protect(apply_exemptions: bool = False) -> None:
        if apply_exemptions and is_exempt_request():
            return
        checked(apply_exemptions)

    setattr(protect, _HONOURS_MARKS, True)
    own.protect = protect


UNREAD_MARKS = (
    "%s sets up its own CSRF protection (%s), which is no Flask-WTF CSRFProtect and does not read "
    "csrf_exempt's marks, so these views marked by it are checked as that protection decides: %s. Exempt "
    "them with that protection's own means"
)
_WARNED = "conexoos_csrf_unread_marks"
"""``app.extensions`` key: the marked endpoints already named in an :data:`UNREAD_MARKS` warning."""


def _warn_of_unread_marks(app: Flask, **_details: Any) -> None:
    """Name once each marked endpoint of ``app`` that its own protection (not Flask-WTF's) cannot read:
    now, and when a lazily registered blueprint is installed."""
    warned: set[str] = app.extensions.setdefault(_WARNED, set())
    new = [
        endpoint
        for endpoint in app.view_functions
        if endpoint not in warned and is_exempt_endpoint(app, endpoint)
    ]
    if new:
        warned.update(new)
        log.warning(UNREAD_MARKS, app.name, type(app.extensions["csrf"]).__name__, ", ".join(sorted(new)))


def _protection_wanted(app: Flask, runtime: Runtime) -> bool:
    """``SERVER_ENV.CSRF.ENABLED``; when null (not set), true for a flask-framework project (its
    ``Process.init`` always protected it), else false, after arranging for the project's first write to
    be logged with a warning naming the key (:func:`_warn_at_first_write`)."""
    enabled: bool | None = runtime.settings.server["CSRF"]["ENABLED"]
    if enabled is not None:
        return enabled
    if compat_import.in_use(runtime.project):
        return True
    _warn_at_first_write(app, runtime.project.name)
    return False


def _warn_at_first_write(app: Flask, project_name: str) -> None:
    """Log :data:`NOT_SET` once a process, at the first write request: where it matters, and not at each
    command that builds the app (``conexoos routes``, ``db upgrade``, a project's own)."""
    warned = False

    def warn_of_an_unchecked_write() -> None:
        nonlocal warned
        if not warned and request.method in WRITE_METHODS:
            warned = True
            log.warning(NOT_SET, project_name)

    app.before_request(warn_of_an_unchecked_write)
