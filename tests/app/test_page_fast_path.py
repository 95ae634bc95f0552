"""The cached public page before Flask (``framework/fast_path.py``, registered by ``server/middleware.py``):
for a matrix of requests and states, the answer through the whole stack (the fast path where it takes the
request) is the answer Flask's own path gives with the fast path removed: status, every header, body,
the access-log line and the view recorded. And it answers only what it should."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, request
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.test import TestResponse

from conexoos.app.controllers import event_buffer
from conexoos.framework import db
from conexoos.framework.fast_path import EXTENSION, FastPaths
from conexoos.framework.replay import MAX_VARIANTS
from conexoos.framework.write_buffer import drain
from tests.conftest import AppFactory

from .conftest import BROWSER_UA, Account, SignUp, each, product_app, sign_up
from .staff_support import make_staff
from .test_appearance import post as post_appearance
from .test_site_settings_admin import DEFAULTS

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

TRUSTED_PROXY = {"SERVER_ENV": {"TRUSTED_PROXIES": "127.0.0.1"}}
"""The test client's address is a trusted proxy: a request's X-Forwarded-For names the visitor."""


@dataclass
class Answer:
    """What one request produced: the response, whether the view answered it (``by_flask``: Flask's
    dispatch, on Flask's path or after a fast path's miss) rather than a cached answer, its access-log
    lines and the events it queued (without their random id and their time)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    by_flask: bool
    access: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)

    def same_as(self, other: Answer, exact: bool = True) -> None:
        """Equal answers; with ``exact`` False, all but the body and the cookie (a new CSRF token each)."""
        assert self.status == other.status
        assert self._headers(exact) == other._headers(exact)
        assert not exact or self.body == other.body
        assert self.access == other.access
        assert self.events == other.events

    def _headers(self, exact: bool) -> list[tuple[str, str]]:
        """The headers in order; ``Date`` by name only, a cookie without its value and expiry (signed and
        dated with the current second: the answers compared may fall in different seconds)."""
        dropped = () if exact else ("Set-Cookie", "Content-Length", "ETag")
        kept = [(name, value) for name, value in self.headers if name not in dropped]
        return [(name, _timeless(name, value)) for name, value in kept]


def _timeless(name: str, value: str) -> str:
    if name == "Date":
        return ""
    if name == "Set-Cookie":
        return re.sub(r"; Expires=[^;]*", "", re.sub(r"^([^=]*)=[^;]*", r"\1=", value))
    return value


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)


class Harness:
    """Sends a request through the whole WSGI stack, or with the fast paths removed (Flask's path)."""

    def __init__(self, app: Flask, caplog: pytest.LogCaptureFixture) -> None:
        self.app = app
        self.caplog = caplog
        self.paths: FastPaths = app.extensions[EXTENSION]
        self.dispatched = 0
        dispatch = app.dispatch_request  # the view's call, on Flask's path or after a fast path's miss

        def counted() -> Any:
            self.dispatched += 1
            return dispatch()

        app.dispatch_request = counted  # type: ignore[method-assign]

    def send(self, request: Request, fast: bool = True) -> Answer:
        self.queued()  # nothing left from the set-up
        registered = list(self.paths.paths)
        if not fast:
            self.paths.paths.clear()
        self.caplog.clear()
        before = self.dispatched
        try:
            client = self.app.test_client(use_cookies=False)
            response = client.open(
                request.path, method=request.method, headers={"User-Agent": BROWSER_UA, **request.headers}
            )
        finally:
            self.paths.paths[:] = registered
        return self._answer(response, by_flask=self.dispatched > before)

    def _answer(self, response: TestResponse, by_flask: bool) -> Answer:
        access = [
            re.sub(r" \d+\.\dms$", "", record.getMessage())
            for record in self.caplog.records
            if record.name == "conexoos.access"
        ]
        return Answer(
            response.status_code,
            list(response.headers.items()),
            response.get_data(),
            by_flask,
            access,
            self.queued(),
        )

    def queued(self) -> list[dict[str, Any]]:
        """The events queued since the last call, without ``event_id`` and ``occurred_at``."""
        payloads: list[dict[str, Any]] = []
        with self.app.app_context():
            drain(event_buffer.event_queue(), payloads.extend, limit=1000, batches=100)
        return [{k: v for k, v in p.items() if k not in ("event_id", "occurred_at")} for p in payloads]

    def compare(self, request: Request, exact: bool = True) -> tuple[Answer, Answer]:
        """The request through the whole stack twice (the second time a cached page's answer is the one
        kept from the first, see framework/replay.py), then through Flask's path; the answers, checked
        equal."""
        fast = self.send(request)
        again = self.send(request)
        flask_path = self.send(request, fast=False)
        assert flask_path.by_flask
        fast.same_as(flask_path, exact)
        again.same_as(flask_path, exact)
        assert fast.by_flask or not again.by_flask  # answered before Flask: again the same way
        return fast, flask_path


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return product_app(make_app, TRUSTED_PROXY)


@pytest.fixture
def harness(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[Harness]:
    caplog.set_level(logging.INFO, logger="conexoos.access")
    yield Harness(app, caplog)


@pytest.fixture
def cached_alice(app: Flask, alice: Account, harness: Harness) -> Account:
    """alice with a link and an appearance of her own (a style hash in the CSP), her page in the cache."""
    alice.add_link("Blog", "https://blog.example/")
    assert post_appearance(alice).status_code == 302
    assert harness.send(Request("/alice")).status == 200  # rendered and kept
    return alice


def test_anonymous_requests_for_a_cached_page_are_answered_before_flask_as_flask_answers_them(
    harness: Harness, cached_alice: Account
) -> None:
    etag = harness.send(Request("/alice")).headers
    tag = dict(etag)["ETag"]
    cases = {
        "GET": Request("/alice"),
        "HEAD": Request("/alice", "HEAD"),
        "If-None-Match matching": Request("/alice", headers={"If-None-Match": tag}),
        "If-None-Match matching, weak (after gzip)": Request("/alice", headers={"If-None-Match": "W/" + tag}),
        "HEAD, If-None-Match matching": Request("/alice", "HEAD", {"If-None-Match": tag}),
        "If-None-Match not matching": Request("/alice", headers={"If-None-Match": '"other"'}),
        "gzip": Request("/alice", headers={"Accept-Encoding": "gzip"}),
        "br": Request("/alice", headers={"Accept-Encoding": "gzip, br"}),
        "br refused": Request("/alice", headers={"Accept-Encoding": "br;q=0, gzip"}),
        "identity": Request("/alice", headers={"Accept-Encoding": "identity"}),
        "gzip and If-None-Match": Request(
            "/alice", headers={"Accept-Encoding": "gzip", "If-None-Match": tag}
        ),
        "If-Match matching": Request("/alice", headers={"If-None-Match": tag, "If-Match": tag}),
        "If-Match not matching": Request("/alice", headers={"If-Match": '"other"'}),
        "dates and ranges (no Last-Modified, no ranges: ignored)": Request(
            "/alice",
            headers={
                "If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT",
                "If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT",
                "If-Range": tag,
                "Range": "bytes=0-10",
            },
        ),
        "query string": Request("/alice?utm_source=news&utm_medium=mail&utm_campaign=dec"),
        "uppercase username": Request("/ALICE"),
        "a referrer and a forwarded visitor": Request(
            "/alice", headers={"Referer": "https://t.co/x", "X-Forwarded-For": "203.0.113.9"}
        ),
        "a bot (not counted)": Request("/alice", headers={"User-Agent": "Googlebot/2.1"}),
        "another cookie": Request("/alice", headers={"Cookie": "theme=dark"}),
        "a cookie that is not UTF-8": Request("/alice", headers={"Cookie": "theme=caf\xe9; x=\xff"}),
    }

    def check(request: Request) -> None:
        fast, _ = harness.compare(request)
        assert not fast.by_flask, "answered by Flask, not by the fast path"

    each(cases, check)
    counted = harness.send(Request("/alice?utm_source=news"))
    assert [event["utm_source"] for event in counted.events] == ["news"]
    assert counted.events[0]["kind"] == "view" and counted.events[0]["owner_id"] == cached_alice.id
    assert "style-src 'self' 'sha256-" in dict(counted.headers)["Content-Security-Policy"]


def test_a_304_carries_the_etag_and_vary_of_the_200_it_stands_for(
    harness: Harness, cached_alice: Account
) -> None:
    """Plain and gzip: the 304 names the ETag the 200 would carry (weak once compressed) and varies on
    Accept-Encoding as the 200 does, through the fast path (kept or not) and through Flask's path."""
    for encoding in ("identity", "gzip"):
        full = harness.send(Request("/alice", headers={"Accept-Encoding": encoding}))
        full_headers = dict(full.headers)
        conditional = Request(
            "/alice", headers={"Accept-Encoding": encoding, "If-None-Match": full_headers["ETag"]}
        )
        for answer in harness.compare(conditional):
            headers = dict(answer.headers)
            assert answer.status == 304 and answer.body == b""
            assert headers["ETag"] == full_headers["ETag"] and headers["Vary"] == "Cookie, Accept-Encoding"
    assert dict(full.headers)["ETag"].startswith('W/"')


def test_made_up_conditional_headers_cannot_fill_a_workers_memory_with_kept_answers(
    app: Flask, harness: Harness, cached_alice: Account
) -> None:
    """HEAD answers have no body: with long made-up header values, each a variant of its own, they would
    cost only their keys and headers. Long values are answered (as Flask would) but not kept, short ones
    are bounded with the headers counted, and the browsers' usual answer is kept all along."""
    page = Request("/alice", headers={"Accept-Encoding": "gzip, br"})
    harness.compare(page)
    decoded = app.extensions["conexoos.page_cache"].decoded
    held = decoded.answers_held
    for number in range(40):
        value = f'"{number:06d}' + "x" * 8000 + '"'
        flooded = Request("/alice", "HEAD", {"If-None-Match": value, "Accept-Encoding": value})
        answer = harness.send(flooded)
        assert answer.status == 200 and not answer.by_flask
    assert decoded.answers_held == held  # answered, not kept
    for number in range(40):
        harness.send(Request("/alice", "HEAD", {"If-None-Match": f'"{number:06d}"'}))
    count, size = decoded.answers_held
    assert count <= MAX_VARIANTS and size >= count * 400  # each HEAD counted for its headers
    fast, _ = harness.compare(page)  # still answered before Flask (kept again if it was dropped)
    assert not fast.by_flask


def test_a_kept_answer_is_sent_again_only_while_every_after_request_function_is_known(
    app: Flask, harness: Harness, cached_alice: Account
) -> None:
    """A project's own after-request function (one the page's fast path does not name as replayable)
    runs on every cached view, so its per-request header is never a kept one; the kept answer's Date is
    the current one."""
    harness.compare(Request("/alice"))  # the answer kept
    served: list[int] = []

    def count(response: Any) -> Any:
        served.append(1)
        response.headers["X-Served"] = str(len(served))
        return response

    app.after_request_funcs.setdefault(None, []).append(count)  # as a plugin's, registered at start
    first, second = harness.send(Request("/alice")), harness.send(Request("/alice"))
    assert not first.by_flask and not second.by_flask
    assert (dict(first.headers)["X-Served"], dict(second.headers)["X-Served"]) == ("1", "2")
    assert len(first.events) == len(second.events) == 1


def test_requests_it_must_leave_to_flask_get_flasks_answer(
    app: Flask, harness: Harness, cached_alice: Account, bob: Account
) -> None:
    session_name = app.config["SESSION_COOKIE_NAME"]
    empty_session = app.test_client()
    empty_session.get("/login")  # a session cookie (the login form's CSRF token), nobody in it
    empty = empty_session.get_cookie(session_name)
    signed_in = bob.client.get_cookie(session_name)
    assert empty is not None and signed_in is not None
    signed_in_request = Request("/alice", headers={"Cookie": f"{session_name}={signed_in.value}"})
    cases = {
        "a session cookie without a user": Request(
            "/alice", headers={"Cookie": f"{session_name}={empty.value}"}
        ),
        "a signed-in visitor": signed_in_request,
        "a remember-me cookie": Request("/alice", headers={"Cookie": "remember_token=1|forged"}),
        "trailing slash": Request("/alice/"),
        "unknown user": Request("/nobody"),
        "another route": Request("/login"),
        "a file route": Request("/robots.txt"),
        "POST": Request("/alice", "POST"),
        "a WebSocket upgrade": Request("/alice", headers={"Upgrade": "websocket", "Connection": "Upgrade"}),
    }

    def check(request: Request) -> None:
        # A new CSRF token on each login form; a signed-in visitor's page shows theirs, signed with the
        # current second (its body, length and ETag differ when the requests straddle a second).
        exact = request.path != "/login" and request != signed_in_request
        fast, _ = harness.compare(request, exact=exact)
        assert fast.by_flask, "answered by the fast path"

    each(cases, check)


def test_after_a_change_suspension_or_maintenance_the_answer_is_still_flasks(
    app: Flask, harness: Harness, cached_alice: Account, signed_up: SignUp
) -> None:
    boss = make_staff(app, signed_up("boss"), "admin")
    cached_alice.add_link("New")
    changed, _ = harness.compare(Request("/alice"))  # the entry is older than the change: rendered
    assert changed.by_flask and b"New" in changed.body
    assert not harness.send(Request("/alice")).by_flask  # kept again

    form = {"csrf_token": boss.csrf, **DEFAULTS, "maintenance_mode": "on"}
    assert boss.client.post("/admin/settings", data=form).status_code == 302
    assert harness.send(Request("/alice")).by_flask  # the site's mark: rendered once
    during, _ = harness.compare(Request("/alice"))  # public pages stay up in maintenance
    assert not during.by_flask and during.status == 200

    suspended = boss.client.post(
        f"/admin/users/{cached_alice.id}/suspend", data={"csrf_token": boss.csrf, "reason": "x"}
    )
    assert suspended.status_code == 302
    gone, _ = harness.compare(Request("/alice"))
    assert gone.by_flask and gone.status == 404 and not gone.events


def test_with_the_cache_off_flask_answers(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Without the cache Flask answers, and the request's before-request functions run once (the fast
    paths, which could never answer, are not tried first)."""
    app = product_app(make_app, {"APP": {"PAGE_CACHE": {"ENABLED": False}}})
    hooks_run: list[str] = []
    app.before_request(lambda: hooks_run.append(request.path))
    caplog.set_level(logging.INFO, logger="conexoos.access")
    sign_up(app, "alice")
    harness = Harness(app, caplog)
    harness.send(Request("/alice"))
    off, _ = harness.compare(Request("/alice"))
    assert off.by_flask and off.status == 200 and len(off.events) == 1
    hooks_run.clear()
    for path in ("/alice", "/go/1", "/nobody"):
        harness.send(Request(path))
    assert hooks_run == ["/alice", "/go/1", "/nobody"]


def test_outside_development_hsts_and_every_header_match(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = product_app(make_app, {"SERVER_ENV": {"ENV": "UAT"}})
    caplog.set_level(logging.INFO, logger="conexoos.access")
    with app.app_context():
        from conexoos.app.models.persistent import User

        db.session.add(User(username="carol", email="carol@example.com", password_hash="x"))
        db.session.commit()
    harness = Harness(app, caplog)
    assert harness.send(Request("/carol")).by_flask
    fast, _ = harness.compare(Request("/carol", headers={"Accept-Encoding": "br"}))
    assert not fast.by_flask and "Strict-Transport-Security" in dict(fast.headers)


def test_a_miss_renders_the_page_after_one_run_of_the_before_request_functions(
    app: Flask, harness: Harness, alice: Account
) -> None:
    """A page not in the cache yet, and a link it has not remembered: the view answers in the fast path's
    context, and every before-request function has run once, not once more for Flask."""
    link = alice.add_link("Blog", "https://blog.example/")["id"]
    calls: list[str] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: calls.append(request.path))

    page = harness.send(Request("/alice"))
    assert (page.by_flask, page.status, calls) == (True, 200, ["/alice"])
    assert len(page.events) == 1 and page.access == ["GET /alice 200"]
    calls.clear()
    unknown = harness.send(Request(f"/go/{link + 1000}"))
    assert (unknown.by_flask, unknown.status, calls) == (True, 404, [f"/go/{link + 1000}"])


def test_a_failure_before_the_answer_is_left_to_flask(
    app: Flask, harness: Harness, cached_alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A before-request function that raises (the session store's 503, say): Flask answers, once."""
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise ServiceUnavailable("the session store does not answer")

    app.before_request_funcs.setdefault(None, []).append(refuse)
    answer = harness.send(Request("/alice"))
    # Flask's path ran the before-request functions again (the second call); no view answered
    assert not answer.by_flask and answer.status == 503 and calls == [1, 1] and not answer.events
    assert answer.access == ["GET /alice 503"]


def test_a_failure_while_the_context_is_pushed_is_left_to_flask(
    app: Flask, harness: Harness, cached_alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's opening (inside the context's push) raising once: Flask answers, as it answers a
    failure of its own push; the context is popped, nothing is recorded twice."""
    interface = type(app.session_interface)
    opened = interface.open_session
    calls: list[int] = []

    def failing_once(self: Any, app: Flask, request: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ServiceUnavailable("the session store does not answer")
        return opened(self, app, request)

    monkeypatch.setattr(interface, "open_session", failing_once)
    answer = harness.send(Request("/alice"))
    assert answer.by_flask and answer.status == 200 and len(calls) == 2
    assert answer.access == ["GET /alice 200"] and len(answer.events) == 1


def test_with_rate_limits_on_the_fast_path_skips_the_limiter_only_where_no_limit_applies(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """No limit on the page: the limiter's hooks (which would count nothing) are skipped, the answer is
    Flask's. A limit on the view (checked inside the view, which the fast path never calls): Flask
    answers every request, so the limit holds."""
    app = product_app(make_app, {"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}})
    caplog.set_level(logging.INFO, logger="conexoos.access")
    sign_up(app, "alice")
    harness = Harness(app, caplog)
    harness.send(Request("/alice"))
    free, _ = harness.compare(Request("/alice"))
    assert not free.by_flask

    limiter = app.extensions["conexoos_limiter"]
    limited: Callable[[Any], Any] = limiter.limit("2 per minute")
    app.view_functions["public.profile"] = limited(app.view_functions["public.profile"])
    answers = [harness.send(Request("/alice")) for _ in range(3)]
    assert [answer.status for answer in answers] == [200, 200, 429]
    assert all(answer.by_flask for answer in answers)


def test_go_for_a_link_the_cache_holds_is_answered_before_flask_as_flask_answers_it(
    app: Flask, harness: Harness, alice: Account
) -> None:
    link = alice.add_link("Blog", "https://blog.example/")["id"]
    assert harness.send(Request("/alice")).status == 200  # the page remembers its links' targets
    session_name = app.config["SESSION_COOKIE_NAME"]
    signed_in = alice.client.get_cookie(session_name)
    assert signed_in is not None
    fast_cases = {
        "GET": Request(f"/go/{link}"),
        "HEAD (not counted)": Request(f"/go/{link}", "HEAD"),
        "query string and referrer": Request(
            f"/go/{link}?utm_source=bio", headers={"Referer": "https://alice.example/"}
        ),
        "a forwarded visitor": Request(f"/go/{link}", headers={"X-Forwarded-For": "198.51.100.7"}),
        "a cookie that is not UTF-8": Request(f"/go/{link}", headers={"Cookie": "x=\xff"}),
    }
    flask_cases = {
        "the owner's session": Request(
            f"/go/{link}", headers={"Cookie": f"{session_name}={signed_in.value}"}
        ),
        "an unknown link": Request(f"/go/{link + 1000}"),
        "a product's redirect": Request("/go/product/1"),
    }

    def served_fast(request: Request) -> None:
        fast, _ = harness.compare(request)
        assert not fast.by_flask and fast.status == 302

    def served_by_flask(request: Request) -> None:
        fast, _ = harness.compare(request)
        assert fast.by_flask

    each(fast_cases, served_fast)
    each(flask_cases, served_by_flask)
    clicked = harness.send(Request(f"/go/{link}"))
    assert [(event["kind"], event["link_id"]) for event in clicked.events] == [("click", link)]
    assert dict(clicked.headers)["Location"] == "https://blog.example/"
    alice.add_link("Other")  # her page changed: the link is read from the database again
    changed, _ = harness.compare(Request(f"/go/{link}"))
    assert changed.by_flask and changed.status == 302
