"""Recording page views and link clicks: each is queued in the write buffer (controllers/event_buffer.py)
and inserted by the ``analytics-buffer-flush`` task, so a request never writes to the database for them;
bots, the owner and HEAD requests (link checkers, prefetchers: nobody saw the page) are left out.

The request queues the visitor's User-Agent, not its classification: ua-parser (a few hundred regular
expressions, compiled as strings need them: tens of milliseconds for a worker's first browser) runs in
the flush, which stores the device, system and browser and drops what it finds to be a bot. The request
leaves out only what one regular expression says is a bot (``looks_like_bot``)."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from uuid import uuid4

from flask import current_app, request
from flask_login import current_user
from werkzeug.datastructures import Headers
from werkzeug.exceptions import ServiceUnavailable

from conexoos.app.models.persistent.base import utcnow
from conexoos.app.models.persistent.event import CLICK, VIEW
from conexoos.app.settings import AnalyticsSettings
from conexoos.app.utils.text import tracking_text
from conexoos.app.utils.useragent import looks_like_bot
from conexoos.framework import db, runtime
from conexoos.framework.causes import one_line_cause
from conexoos.framework.http_errors import DATABASE_UNREACHABLE, database_failed, met_database_outage
from conexoos.framework.realtime import may_be_heard
from conexoos.framework.write_buffer import WriteBufferError

from . import event_buffer
from .anonymous import session_user_id, visitor_is_anonymous
from .visitors import deferred_key, visitor_hash

log = logging.getLogger("conexoos.analytics")
NOT_RECORDED = "This visit could not be recorded right now. Try again in a minute."

_COUNTRY = re.compile(r"^[A-Z]{2}$")
OWNER_ROOM = "owner:{}"
UTM_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign")
MAX_USER_AGENT = 2000
"""The longest User-Agent read (a longer one is cut): the flush classifies it, the visitor hash uses it."""


def record_view(owner_id: int) -> bool:
    """Record a view of ``owner_id``'s page, and tell the owner's open dashboards; False when not counted."""
    occurred_at = _record(VIEW, owner_id, None)
    if occurred_at is None:
        return False
    _announce(owner_id, {"kind": VIEW, "link_id": None, "occurred_at": occurred_at})
    return True


def record_click(owner_id: int, link_id: int, kind: str = CLICK) -> bool:
    """Record a click on a link (or, with ``kind=BUY``, a product; ``LOCK_VIEW`` and ``UNLOCK`` for a
    link's lock shown and passed), and tell the owner's open dashboards."""
    occurred_at = _record(kind, owner_id, link_id)
    if occurred_at is None:
        return False
    _announce(owner_id, {"kind": kind, "link_id": link_id, "occurred_at": occurred_at})
    return True


def _record(kind: str, owner_id: int, link_id: int | None) -> str | None:
    """Queue the event (durably: see event_buffer); its time in ISO format, or None when it is not counted.

    Raises ServiceUnavailable (503) when no queue could keep it: the visitor is not told it was counted."""
    headers = request.headers
    user_agent = tracking_text(headers.get("User-Agent", ""), MAX_USER_AGENT)
    # GET, and the POST that answers a link's lock form; HEAD (link checkers, prefetchers) never counts.
    if request.method not in ("GET", "POST") or looks_like_bot(user_agent) or _is_owner(owner_id):
        return None
    if is_speculative(headers):  # fetched in case the visitor goes there: nobody has, yet
        return None
    now = utcnow()
    occurred_at = now.isoformat()
    event = dict(
        event_id=str(uuid4()),
        owner_id=owner_id,
        link_id=link_id,
        kind=kind,
        occurred_at=occurred_at,
        referrer_host=referrer_host(headers.get("Referer", "")),
        **_campaign(),
        user_agent=user_agent,  # classified by the flush (event_buffer)
        country=request_country(),
        **_visitor(request.remote_addr or "", user_agent, now),
    )
    try:
        event_buffer.enqueue_encoded(event)
    except WriteBufferError as error:
        log.error("a %s of user %d could not be queued: %s", kind, owner_id, error)
        raise ServiceUnavailable(NOT_RECORDED) from error
    return occurred_at


def is_speculative(headers: Headers) -> bool:
    """Whether the browser fetches the page or link ahead of a visit that may never come: a prefetch or
    prerender (``Sec-Purpose: prefetch``, ``prefetch;prerender``; the older ``Purpose: prefetch``,
    ``X-Purpose: preview``, ``X-Moz: prefetch``). A prerendered page a visitor then opens is not asked
    again, so that view goes uncounted: a page that runs no script cannot tell."""
    for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"):
        value = headers.get(name)
        if value and ("prefetch" in value.lower() or "preview" in value.lower()):
            return True
    return False


def _visitor(ip: str, user_agent: str, now: datetime) -> dict[str, str]:
    """The event's ``visitor_hash``; or, when the day's salt cannot be read (the database is down), a
    ``visitor_key`` that the flush salts (see visitors.deferred_key)."""
    try:
        return {"visitor_hash": visitor_hash(ip, user_agent, now.date())}
    except DATABASE_UNREACHABLE as error:
        db.session.rollback()  # the failed read leaves the session unusable for the rest of the request
        cause = one_line_cause(error)
        log.warning("the day's visitor salt is unreadable (%s); the flush will hash this visitor", cause)
        return {"visitor_hash": "", "visitor_key": deferred_key(ip, user_agent)}


def _announce(owner_id: int, payload: dict[str, Any]) -> None:
    """Send the event to the owner's room only (through Redis when several processes serve); nothing when
    no dashboard can hear it."""
    socketio, room = runtime().socketio, OWNER_ROOM.format(owner_id)
    if may_be_heard(socketio, room):
        socketio.emit("stats:event", payload, to=room)


def referrer_host(referrer: str) -> str:
    """The host name of a Referer header, lowercased; empty when absent or unparsable."""
    if not referrer:
        return ""
    try:
        return tracking_text(urlsplit(referrer).hostname or "", 255)
    except ValueError:
        return ""


def analytics_settings() -> AnalyticsSettings:
    """``APP.ANALYTICS`` from the configuration."""
    settings: AnalyticsSettings = current_app.config["CONEXOOS_ANALYTICS"]
    return settings


def _campaign() -> dict[str, str]:
    """The UTM parameters of the query (none parsed without a query string, most views), the first of each
    name. Read from the raw query: Werkzeug's arguments keep bytes that are not UTF-8 as ``%FF``, text the
    owner's statistics would have shown; here they are lone surrogates, which :func:`tracking_text` drops."""
    if not request.query_string:
        return dict.fromkeys(UTM_PARAMETERS, "")
    query = request.query_string.decode("latin-1")
    found: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="surrogateescape"):
        if name in UTM_PARAMETERS:
            found.setdefault(name, value)
    return {name: tracking_text(found.get(name, ""), 100) for name in UTM_PARAMETERS}


def request_country() -> str:
    """The visitor's country (ISO code) from ``APP.ANALYTICS.COUNTRY_HEADER``, or "" when unknown."""
    header = analytics_settings().country_header
    value = request.headers.get(header, "").strip().upper() if header else ""
    return value if _COUNTRY.match(value) and value != "XX" else ""


def _is_owner(owner_id: int) -> bool:
    """Whether the visitor is the page's owner, signed in: their own views and clicks are not counted.
    While the database does not answer (the user cannot be loaded), the session's user id says it, so that
    a signed-in visitor's click served from the cache is still counted."""
    if visitor_is_anonymous():  # most views and clicks: no user to load
        return False
    if not database_failed():
        try:
            return bool(current_user.is_authenticated and current_user.id == owner_id)
        except DATABASE_UNREACHABLE:
            met_database_outage()
    return session_user_id() == owner_id
