"""The page cache: public pages rendered once for every anonymous visitor, and click targets kept for an
outage (``APP.PAGE_CACHE``).

- A page ``/<username>`` is kept with its ETag and owner id under its lowercased name, in the store of
  ``framework/cache.py`` (Redis, memcached or the worker's memory). It is served without rendering while
  it is fresh: for at most ``TTL`` seconds, never past the page's next *edge* (a link's schedule window
  opening or closing, the end of a past-due grace period), and only while neither its owner's mark nor
  the site's mark (``controllers/page_changes.py`` sets them after every commit that alters a page) is
  newer than the moment its rendering read the database.
- Only visitors that are anonymous are served from it: without a login cookie, or with a session that
  holds no user (the page differs for a signed-in visitor only by their CSRF token). Every view served
  from it is recorded like a rendered one (``analytics.record_view``, which leaves the owner out).
- ``/go/<id>`` redirects a link the cache has seen (on a page or a click) without a query while that is
  fresh as a page is (``TTL``, the marks, the link's own window), so a click on a cached page costs no
  database read either.
- While the database does not answer, a page that nothing has changed since and whose edge has not come
  is served however old (up to ``STALE_TTL``), and ``/go/<id>`` redirects a link the cache has seen,
  until that link's own window closes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from conexoos.app.controllers import analytics, plans
from conexoos.app.controllers.anonymous import visitor_is_anonymous
from conexoos.app.controllers.profiles import PublicPage
from conexoos.app.models.persistent import User
from conexoos.app.models.public_page import PageOwner, ShownLink
from conexoos.app.utils.csp import allow_style_hashes, allowed_style_hashes
from conexoos.app.utils.text import username_folded
from conexoos.framework import db
from conexoos.framework.cache import CacheStore, CacheUnavailable, cache_store
from conexoos.framework.causes import one_line_cause
from conexoos.framework.conditional_requests import if_match_fails
from conexoos.framework.http_errors import DATABASE_UNREACHABLE, met_database_outage
from conexoos.framework.logs import EveryFewSeconds
from conexoos.framework.replay import KeptAnswers, Replayable
from conexoos.framework.signals import database_restored

from .page_changes import OWNER_MARK, SITE_MARK, watch_changes

EXTENSION = "conexoos.page_cache"
KEY_PREFIX = "conexoos:page_cache:"
SHARED_CLOCK_MARGIN = 1.0
"""Seconds by which a page read from the database must follow the last change, in Redis or memcached:
the hosts writing marks and pages may have clocks that far apart (keep them in sync with NTP)."""
DECODED_PAGES_BYTES = 20 * 1024 * 1024
"""What the decoded entries a process keeps may hold (see DecodedPages): each counts as its stored bytes
plus the whole bound of its kept answers, whether they are made yet or not."""
KEPT_ANSWERS_FACTOR = 4
"""The finished answers kept with a decoded entry hold at most this many times its stored bytes in bodies
(the plain, gzip and Brotli pages take about 1.5 times), plus KEPT_HEADERS_BYTES."""
KEPT_HEADERS_BYTES = 12 * 1024
"""What the kept answers' headers and variant texts may add (about 1.3 KiB an answer: the bodies of a
HEAD and a 304 are empty, their headers are what they hold)."""
log = logging.getLogger("conexoos.page_cache")
_store_warning = EveryFewSeconds(60.0)
_entry_warning = EveryFewSeconds(60.0)
_outage_notices = {"page": EveryFewSeconds(60.0), "link": EveryFewSeconds(60.0)}


@dataclass(frozen=True)
class PageCacheSettings:
    """``APP.PAGE_CACHE``."""

    enabled: bool
    ttl: int
    stale_ttl: int
    max_entries: int


@dataclass(frozen=True)
class CachedPage:
    """A rendered page as kept: ``read_at`` is when its rendering started reading the database (epoch
    seconds), ``fresh_until`` when it must be rendered again, ``edge`` when it stops being right at all."""

    owner_id: int
    html: str
    etag: str
    read_at: float
    fresh_until: float
    edge: float
    styles: list[str] = field(default_factory=list)
    """The CSP sources of the page's own ``<style>`` (its appearance): a hit allows them as the render did."""


@dataclass(frozen=True)
class RememberedLink:
    """A link's target as last seen live, for ``/go`` while the database is down (until ``until``)."""

    url: str
    owner_id: int
    read_at: float
    until: float


@dataclass(frozen=True)
class RenderedPage:
    """What the public view renders on a miss: the page and its HTML."""

    page: PublicPage
    html: str


class PageCache:
    """The configured store, created at the first request of each worker (its clients are per process)."""

    def __init__(self, app: Flask, settings: PageCacheSettings) -> None:
        self.settings = settings
        self._app = app
        self._store: CacheStore | None = None
        self.decoded = DecodedPages(DECODED_PAGES_BYTES)
        """This app's decoded entries (per app: the answers finished from them carry its headers)."""

    @property
    def store(self) -> CacheStore:
        """The store of ``framework/cache.py`` chosen by ``SERVICES``."""
        if self._store is None:
            conexoos = self._app.extensions["conexoos"]
            self._store = cache_store(
                conexoos.services, conexoos.settings.instance_path, _key_prefix(), self.settings.max_entries
            )
        return self._store

    @property
    def clock_margin(self) -> float:
        """How much later than a change a page must be read to count as after it (see SHARED_CLOCK_MARGIN)."""
        return SHARED_CLOCK_MARGIN if self._shared() else 0.0

    def _shared(self) -> bool:
        services = self._app.extensions["conexoos"].services
        return bool(services.has("redis") or services.has("memcached"))


_ENTRY_FORMAT = ",".join(
    [*(item.name for item in fields(CachedPage)), "|", *(item.name for item in fields(RememberedLink))]
)
_FORMAT_TAG = hashlib.blake2b(_ENTRY_FORMAT.encode(), digest_size=4).hexdigest()
"""A digest of the entries' fields, in every entry's key: two releases whose entries differ (a rolling
upgrade, hosts of two releases sharing a Redis) never read each other's entries."""


def _key_prefix() -> str:
    """``conexoos:page_cache:`` and a digest of the site's public URL and database: two sites sharing a
    Redis or memcached never read each other's pages (a username is only unique within one site). Not of
    the entries' format: the change marks are under this prefix, and every release sharing the store must
    see the marks any of them sets (entries carry the format in their own keys, :func:`_page_key`)."""
    database = db.engine.url.render_as_string(hide_password=True)
    site = f"{current_app.config.get('CONEXOOS_PUBLIC_URL', '')}|{database}"
    return f"{KEY_PREFIX}{hashlib.blake2b(site.encode(), digest_size=6).hexdigest()}:"


def init_app(server: Flask) -> None:
    """Read ``APP.PAGE_CACHE`` and start watching commits for changes to pages."""
    section: dict[str, Any] = server.extensions["conexoos"].settings.tree["APP"]["PAGE_CACHE"]
    settings = PageCacheSettings(
        enabled=section["ENABLED"],
        ttl=section["TTL"],
        stale_ttl=section["STALE_TTL"],
        max_entries=section["MAX_ENTRIES"],
    )
    server.extensions[EXTENSION] = PageCache(server, settings)
    watch_changes()
    database_restored.connect(_forget_every_page, server)


def _forget_every_page(server: Flask) -> None:
    """After ``conexoos db restore``: no page or click target kept before it is served again. Pages kept
    in Redis or memcached outlived the site's stop, and held rows the restored database may not have."""
    cache: PageCache = server.extensions[EXTENSION]
    if cache.settings.enabled:
        with server.app_context():
            cache.store.mark([SITE_MARK])


def active_cache() -> PageCache | None:
    """The current app's page cache, or None when ``APP.PAGE_CACHE.ENABLED`` is off."""
    cache: PageCache | None = current_app.extensions.get(EXTENSION)
    return cache if cache is not None and cache.settings.enabled else None


# ---------------------------------------------------------------- the public page


def serve_page(username: str, render: Callable[[], RenderedPage]) -> Response:
    """The answer to ``GET /<username>``: from the cache for an anonymous visitor when fresh, else
    ``render()`` (kept for the next visitors); the view recorded either way; 304 when ``If-None-Match``
    names the page's ETag. With the database down, a cached page nothing has changed since."""
    cache = active_cache()
    if cache is None or not visitor_is_anonymous():
        rendered = render()
        etag = page_etag(rendered.html)
        if not precondition_fails(etag):
            analytics.record_view(rendered.page.user.id)
        return _page_response(rendered.html, etag)
    key = _page_key(username)
    entry = _cached_page(cache, key)
    now = time.time()
    if entry is not None and now < entry.fresh_until:
        return _serve_cached(entry)
    try:
        rendered = render()
    except DATABASE_UNREACHABLE:
        if entry is None or now >= entry.edge:
            raise
        _note_outage("page", request.path)
        return _serve_cached(entry)
    stored = _keep_page(cache, key, rendered, read_at=now)
    if not precondition_fails(stored.etag):
        analytics.record_view(rendered.page.user.id)
    return _page_response(rendered.html, stored.etag)


def cached_page_answer() -> Replayable | None:
    """The fast path's answer to ``GET /<username>`` (``server/middleware.py``): the page from the cache,
    as :func:`serve_page` serves a fresh entry (the view recorded), when the cache is on, the visitor is
    anonymous and the entry is fresh; None otherwise (Flask's path then answers). Its finished forms
    (per encoding, method and conditional headers) are kept with the decoded entry."""
    cache = active_cache()
    if cache is None or not visitor_is_anonymous():
        return None
    decoded = _decoded_page(cache, _page_key(str((request.view_args or {})["username"])))
    if decoded is None or time.time() >= decoded.entry.fresh_until:
        return None
    entry = decoded.entry
    if not precondition_fails(entry.etag):
        record_visit(lambda: analytics.record_view(entry.owner_id))
    return Replayable(build=lambda: _cached_response(entry), kept=decoded.answers)


def _page_key(username: str) -> str:
    return f"page:{_FORMAT_TAG}:{username_folded(username)}"


PRECONDITION_FAILED = (
    "This page has changed: the version your request names in If-Match is not the current one. "
    "Fetch the page again without If-Match."
)


def page_etag(html: str) -> str:
    """The ETag of a rendered page: a digest of its bytes."""
    return hashlib.blake2b(html.encode(), digest_size=12).hexdigest()


def _serve_cached(entry: CachedPage) -> Response:
    if not precondition_fails(entry.etag):
        record_visit(lambda: analytics.record_view(entry.owner_id))
    return _cached_response(entry)


def _cached_response(entry: CachedPage) -> Response:
    allow_style_hashes(entry.styles)
    return _page_response(entry.html, entry.etag)


def _page_response(html: str, etag: str) -> Response:
    """The page with its ETag, revalidated on every view (it may change at any moment); 304 on a match;
    412, with a sentence instead of the page, when ``If-Match`` names only other versions."""
    response = Response(html, mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")
    response.make_conditional(request)
    if response.status_code == 412:
        response.mimetype = "text/plain"
        response.set_data(PRECONDITION_FAILED)
    return response


def precondition_fails(etag: str) -> bool:
    """Whether the request's ``If-Match`` names only other versions of a page whose ETag is ``etag``: it
    then gets a 412 (as ``make_conditional`` decides it), which is not a view."""
    return "HTTP_IF_MATCH" in request.environ and if_match_fails(request.environ, etag)  # rare on a GET


@dataclass(frozen=True)
class DecodedPage:
    """A decoded entry and the finished answers made from it (``framework/replay.py``)."""

    raw: bytes
    entry: CachedPage
    answers: KeptAnswers


class DecodedPages:
    """The entries this process decoded last, each beside the stored bytes it came from: a hit whose
    stored bytes are those bytes again reuses the entry (and the answers finished from it) instead of
    decoding the JSON again. Bounded by what they may hold, kept answers included (the earliest decoded go
    first), so no sequence of requests grows a process past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, DecodedPage] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def entry(self, key: str, raw: bytes) -> CachedPage:
        """The entry ``raw`` (the bytes stored under ``key``) holds."""
        return self.decoded(key, raw).entry

    def decoded(self, key: str, raw: bytes) -> DecodedPage:
        """The entry ``raw`` (the bytes stored under ``key``) holds, with its kept answers."""
        kept = self._entries.get(key)
        if kept is not None and kept.raw == raw:
            return kept
        answers = KeptAnswers(max_bytes=KEPT_ANSWERS_FACTOR * len(raw) + KEPT_HEADERS_BYTES)
        decoded = DecodedPage(raw, CachedPage(**json.loads(raw)), answers)
        with self._lock:
            self._forget(key)
            if _bound(decoded) <= self.max_bytes:
                self._entries[key] = decoded
                self._size += _bound(decoded)
            while self._size > self.max_bytes:
                self._forget(next(iter(self._entries)))
        return decoded

    def _forget(self, key: str) -> None:
        kept = self._entries.pop(key, None)
        if kept is not None:
            self._size -= _bound(kept)

    @property
    def size(self) -> int:
        """The bytes the entries held may take: stored bytes and their answers' bounds."""
        return self._size

    @property
    def answers_held(self) -> tuple[int, int]:
        """How many answers are kept with the entries now, and the bytes they hold (for tests)."""
        kept = [decoded.answers for decoded in list(self._entries.values())]
        return sum(len(answers) for answers in kept), sum(answers.size for answers in kept)


def _bound(decoded: DecodedPage) -> int:
    """What ``decoded`` may hold at most: its stored bytes and its kept answers' bound."""
    return len(decoded.raw) + decoded.answers.max_bytes


def _cached_page(cache: PageCache, key: str) -> CachedPage | None:
    """The page kept under ``key`` unless a change came after it was read; None when the store fails."""
    decoded = _decoded_page(cache, key)
    return decoded.entry if decoded is not None else None


def _decoded_page(cache: PageCache, key: str) -> DecodedPage | None:
    """:func:`_cached_page` with the answers kept for it."""
    try:
        raw = cache.store.get(key)
        if raw is None:
            return None
        decoded = cache.decoded.decoded(key, raw)
        if not _unchanged_since(cache, decoded.entry.owner_id, decoded.entry.read_at):
            return None
    except CacheUnavailable as error:
        _warn_store(error)
        return None
    except (ValueError, TypeError) as error:
        _warn_entry(key, error)
        return None
    return decoded


def _unchanged_since(cache: PageCache, owner_id: int, read_at: float) -> bool:
    """Whether neither the site nor the owner's page has changed since ``read_at``."""
    latest = max(cache.store.marks([SITE_MARK, OWNER_MARK.format(owner_id)]))
    return read_at > latest + cache.clock_margin


def _keep_page(cache: PageCache, key: str, rendered: RenderedPage, read_at: float) -> CachedPage:
    """Store the rendered page and the targets of its links; what was stored (even when the store failed)."""
    html, page = rendered.html, rendered.page
    edge = min(page_edge(page), read_at + cache.settings.stale_ttl)
    entry = CachedPage(
        owner_id=page.user.id,
        html=html,
        etag=page_etag(html),
        read_at=read_at,
        fresh_until=min(read_at + cache.settings.ttl, edge),
        edge=edge,
        styles=allowed_style_hashes(),
    )
    values = {  # locked links are left out: with the database down their lock could not be checked
        _link_key(link.id): _encode(_remembered(link, page.user, read_at))
        for link in page.links
        if not link.is_locked
    }
    values[key] = _encode(entry)
    try:
        cache.store.set_many(values, cache.settings.stale_ttl)
    except CacheUnavailable as error:
        _warn_store(error)
    return entry


def page_edge(page: PublicPage) -> float:
    """When the page changes by itself (epoch seconds; infinity when never): the next start or end of a
    link's window, or the end of the owner's past-due grace period."""
    moments = [page.next_start, *(link.ends_at for link in page.links), grace_end(page.user)]
    return min((moment.timestamp() for moment in moments if moment is not None), default=math.inf)


def grace_end(user: User | PageOwner) -> datetime | None:
    """When a past-due owner's paid plan (and so the page's limits) ends, if it is still in its grace."""
    if user.subscription_status != "past_due" or user.past_due_since is None or plans.grace_expired(user):
        return None
    grace = timedelta(days=current_app.config["CONEXOOS_BILLING"].past_due_grace_days)
    return user.past_due_since + grace


def _encode(value: Any) -> bytes:
    return json.dumps(asdict(value), allow_nan=True).encode()


def _warn_entry(key: str, error: ValueError | TypeError) -> None:
    """Say (once a minute) that a stored entry could not be read (not JSON, or not this release's fields:
    written by hand or damaged); it is a miss, rendered and stored again."""
    if _entry_warning.due():
        log.warning("page cache entry %s unreadable, rendering it again: %s", key, error)


def _warn_store(error: CacheUnavailable) -> None:
    """Say (once a minute) that the cache store failed; the request goes on without it."""
    if _store_warning.due():
        log.warning("page cache unavailable, rendering pages without it: %s", error)


def _note_outage(kind: str, path: str) -> None:
    """Remember that the database failed in this request, and say so once a minute for pages and for
    links."""
    met_database_outage()
    if _outage_notices[kind].due():
        log.warning("database unreachable, answering %s from the page cache", path)


# ---------------------------------------------------------------- click redirects


def follow_link(link_id: int, find: Callable[[], ShownLink]) -> str | ShownLink:
    """The target of ``/go/<link_id>``: while the cache holds it fresh (read from the database less than
    ``TTL`` ago, nothing changed on its owner's page or the site since, its window still open), from the
    cache without a query; else ``find()`` (the live link from the database; its errors pass). The click
    recorded either way; the link itself, unrecorded, when it is locked (its lock page comes first). With
    the database down, the target last seen for a live unlocked link, the click recorded; the database's
    error when the link was never seen, is locked, or its window closed."""
    cached = cached_link_target(link_id)
    if cached is not None:
        return cached
    cache = active_cache()
    try:
        link = find()
        if link.is_locked:  # never remembered: with the database down, its lock could not be checked
            return link
        target, owner_id, ends_at = link.url, link.owner_id, link.ends_at  # read before the click's commit
    except DATABASE_UNREACHABLE:
        remembered = _remembered_link(cache, link_id) if cache is not None else None
        if remembered is None or time.time() >= remembered.until:
            raise
        _note_outage("link", request.path)
        record_visit(lambda: analytics.record_click(remembered.owner_id, link_id))
        return remembered.url
    if cache is not None:
        _remember_link(cache, link_id, RememberedLink(target, owner_id, time.time(), _timestamp(ends_at)))
    analytics.record_click(owner_id, link_id)
    return target


def cached_link_target(link_id: int) -> str | None:
    """The target of ``/go/<link_id>`` while the cache holds the link fresh (see :func:`follow_link`), the
    click recorded; None otherwise. Also the fast path's answer (``server/middleware.py``)."""
    cache = active_cache()
    fresh = _fresh_link(cache, link_id) if cache is not None else None
    if fresh is None:
        return None
    record_visit(lambda: analytics.record_click(fresh.owner_id, link_id))
    return fresh.url


def _fresh_link(cache: PageCache, link_id: int) -> RememberedLink | None:
    """The link's remembered target while it may be followed without asking the database (as a fresh
    page is served without it): read less than ``TTL`` ago and its window still open."""
    remembered = _remembered_link(cache, link_id)
    now = time.time()
    if remembered is None or now >= min(remembered.read_at + cache.settings.ttl, remembered.until):
        return None
    return remembered


def record_visit(record: Callable[[], object]) -> None:
    """Record a view or click served without the database's help (from the cache); if the database does not
    answer, the visitor still gets the page or the redirect, and the event is lost (logged)."""
    # The write buffer (controllers/analytics.py) keeps the event without the database; what is left to
    # fail here is a database read some recording still makes.
    try:
        record()
    except DATABASE_UNREACHABLE as error:
        met_database_outage()
        cause = one_line_cause(error)
        log.warning("database unreachable, a view or click served from the cache not recorded: %s", cause)


def _remembered(link: ShownLink, owner: PageOwner, read_at: float) -> RememberedLink:
    """What ``/go`` needs of a link shown on a page rendered at ``read_at``."""
    ends = [moment for moment in (link.ends_at, grace_end(owner)) if moment is not None]
    return RememberedLink(link.url, owner.id, read_at, min((m.timestamp() for m in ends), default=math.inf))


def _timestamp(moment: datetime | None) -> float:
    return math.inf if moment is None else moment.timestamp()


def _link_key(link_id: int) -> str:
    return f"go:{_FORMAT_TAG}:{link_id}"


def _remember_link(cache: PageCache, link_id: int, remembered: RememberedLink) -> None:
    try:
        cache.store.set(_link_key(link_id), _encode(remembered), cache.settings.stale_ttl)
    except CacheUnavailable as error:
        _warn_store(error)


def _remembered_link(cache: PageCache, link_id: int) -> RememberedLink | None:
    """The target last seen for the link, unless its owner's page or the site changed since."""
    try:
        raw = cache.store.get(_link_key(link_id))
        if raw is None:
            return None
        remembered = RememberedLink(**json.loads(raw))
        if not _unchanged_since(cache, remembered.owner_id, remembered.read_at):
            return None
    except CacheUnavailable as error:
        _warn_store(error)
        return None
    except (ValueError, TypeError) as error:
        _warn_entry(_link_key(link_id), error)
        return None
    return remembered
