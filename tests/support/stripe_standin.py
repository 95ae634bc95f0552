"""A small local stand-in for Stripe's HTTP API, for tests only.

Stripe's servers are out of reach in tests, so :class:`StripeStandIn` serves the subset of the v1 REST
API the product uses on ``127.0.0.1`` (a free port) and the **real** ``stripe`` library is pointed at it.
It reads form-encoded bodies exactly as the library sends them (``line_items[0][price]``,
``metadata[user_id]``, ``subscription_data[metadata][plan]`` become nested dicts and lists of strings),
checks ``Authorization: Bearer <secret key>``, answers with Stripe-shaped JSON objects and Stripe's error
shape, and records every request in :attr:`StripeStandIn.requests`.

Endpoints::

    POST /v1/customers                  GET /v1/customers/{id}
    POST /v1/checkout/sessions          GET /v1/checkout/sessions/{id}
    GET /v1/checkout/sessions           (customer, status, limit; an unknown customer is a 400)
    POST /v1/checkout/sessions/{id}/expire
    POST /v1/billing_portal/sessions    GET /v1/subscriptions/{id}
    DELETE /v1/subscriptions/{id}       cancels at once (404 once canceled, as Stripe answers)
    POST /v1/subscriptions/{id}         cancel_at_period_end (true: cancel_at becomes the period's end;
                                        false leaves a date set alone) and cancel_at ("" unsets it);
                                        a canceled one is a 400
    GET  /checkout/{id}        the hosted checkout page, with a "Pay" button
    POST /checkout/{id}/pay    pays: subscription created, session complete, callback, 303 to success_url
    GET  /billing_portal/{id}  the hosted portal page, with a link back to return_url

Pointing the real library (stripe 16.x) at it -- both ways work over plain ``http://``, because the
library only prefixes paths with the configured base and its default ``RequestsClient`` speaks plain HTTP::

    # 1. A client object (what the application should use; nothing global but telemetry):
    stripe.enable_telemetry = False      # global: no telemetry header, no ~/.config/stripe/telemetry_id
    client = stripe.StripeClient(
        "sk_test_standin",
        base_addresses={"api": standin.base_url},     # only "api" is used by these endpoints
        http_client=stripe.RequestsClient(timeout=10, session=<requests.Session with trust_env=False>),
        max_network_retries=0,
    )
    client.v1.customers.create(params={"email": "a@example.com"})
    # standin.client() builds exactly this client.

    # 2. The module globals (the resource classes, e.g. stripe.Customer.create):
    stripe.api_key = "sk_test_standin"
    stripe.api_base = standin.base_url
    stripe.enable_telemetry = False
    stripe.max_network_retries = 0
    stripe.default_http_client = stripe.RequestsClient(timeout=10, session=...)
    # stripe_globals(standin) sets these and restores them afterwards.

The ``requests.Session`` has ``trust_env=False`` so that HTTP(S)_PROXY variables in the environment never
route the loopback traffic through a proxy.  ``connect``/``files`` base addresses still point at Stripe,
but none of these endpoints use them.

Shapes follow the library's pinned API version (``stripe.api_version``): ``current_period_start`` and
``current_period_end`` live on each subscription *item*, not on the subscription.

Webhooks: :func:`make_event` builds an Event dict and :func:`sign_payload` computes the
``Stripe-Signature`` header with Stripe's real scheme, so ``stripe.Webhook.construct_event`` accepts it.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import stripe
from requests.structures import CaseInsensitiveDict

DEFAULT_SECRET_KEY = "sk_test_standin"
SUBSCRIPTION_STATUSES = frozenset(
    {"incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"}
)
CHECKOUT_MODES = frozenset({"payment", "subscription", "setup"})
DEFAULT_PRICE = {"unit_amount": 1000, "currency": "usd", "interval": "month"}
PERIOD_SECONDS = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}
ID_ALPHABET = string.ascii_letters + string.digits
EXPANDABLE_PREFIXES = {"cus_": "_customers", "sub_": "_subscriptions", "cs_": "_sessions"}

CheckoutCallback = Callable[[dict[str, Any], dict[str, Any] | None], None]


# --------------------------------------------------------------------------- ids, forms, webhooks


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as ``cus_Ab3...``."""
    return prefix + "_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def _split_key(key: str) -> list[str]:
    """``a[b][0][c]`` -> ``["a", "b", "0", "c"]``; ``expand[]`` -> ``["expand", ""]``."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *re.findall(r"\[([^\]]*)\]", "[" + rest)]


def _assign(root: dict[str, Any], parts: list[str], value: str) -> None:
    """Store ``value`` at the nested path ``parts``; an empty part (``[]``) appends."""
    node = root
    for index, part in enumerate(parts):
        key = str(len(node)) if part == "" else part
        if index == len(parts) - 1:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child


def _listify(node: Any) -> Any:
    """Turn dicts keyed exactly ``"0".."n-1"`` into lists, recursively."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and set(converted) == {str(i) for i in range(len(converted))}:
        return [converted[str(i)] for i in range(len(converted))]
    return converted


def parse_form(encoded: str) -> dict[str, Any]:
    """Parse a Stripe form body or query string into nested dicts and lists (values stay strings)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        _assign(root, _split_key(key), value)
    return {key: _listify(value) for key, value in root.items()}


def sign_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value, Stripe's scheme: ``t=<ts>,v1=<hex HMAC-SHA256>``.

    The HMAC is keyed by ``secret`` over ``b"<ts>." + payload``; ``timestamp`` defaults to now.
    """
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    ts = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def make_event(
    event_type: str,
    data_object: Mapping[str, Any],
    event_id: str | None = None,
    created: int | None = None,
    previous_attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Stripe Event (snapshot) dict wrapping ``data_object``, as Stripe posts to webhook endpoints."""
    data: dict[str, Any] = {"object": copy.deepcopy(dict(data_object))}
    if previous_attributes is not None:
        data["previous_attributes"] = copy.deepcopy(dict(previous_attributes))
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()) if created is None else int(created),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def webhook_request(
    event: Mapping[str, Any], secret: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a signed webhook delivery of ``event``."""
    body = json.dumps(event).encode("utf-8")
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, secret, timestamp)}
    return body, headers


# --------------------------------------------------------------------------- pointing the library


def loopback_http_client(timeout: float = 10.0) -> stripe.HTTPClient:
    """The library's requests-based client with a bounded timeout, ignoring proxy variables."""
    session = requests.Session()
    session.trust_env = False
    return stripe.RequestsClient(timeout=timeout, session=session)


@contextmanager
def stripe_globals(
    standin: StripeStandIn, api_key: str | None = None, timeout: float = 10.0
) -> Iterator[None]:
    """Point the ``stripe`` module globals at ``standin`` for the block, then restore them."""
    names = ("api_key", "api_base", "enable_telemetry", "max_network_retries", "default_http_client")
    saved = {name: getattr(stripe, name) for name in names}
    stripe.api_key = api_key or standin.secret_key
    stripe.api_base = standin.base_url
    stripe.enable_telemetry = False
    stripe.max_network_retries = 0
    stripe.default_http_client = loopback_http_client(timeout)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(stripe, name, value)


# --------------------------------------------------------------------------- requests and responses


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received: method, path (no query), parsed params and headers.

    ``headers`` is case-insensitive; ``params`` merges the query string and the form body.
    """

    method: str
    path: str
    params: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Response:
    """What the handler sends back."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class SessionExpired(Exception):
    """Paying a Checkout Session that was expired (``POST /v1/checkout/sessions/{id}/expire``)."""


class ApiError(Exception):
    """An error the stand-in answers with Stripe's ``{"error": {...}}`` shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.payload: dict[str, Any] = {"type": error_type, "message": message}
        if code:
            self.payload["code"] = code
        if param:
            self.payload["param"] = param


def _form_bool(value: Any) -> bool:
    """A boolean as the library sends it in a form (``true``/``false``); anything else is a 400."""
    if value not in ("true", "false"):
        raise ApiError(400, f"Invalid boolean: {value}")
    return bool(value == "true")


def missing(kind: str, object_id: str, param: str = "id", status: int = 404) -> ApiError:
    """Stripe's ``resource_missing`` error for an unknown id."""
    return ApiError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def required(param: str) -> ApiError:
    """Stripe's ``parameter_missing`` error."""
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with a Stripe-like ``Request-Id`` header."""
    extra = {"Request-Id": new_id("req", 14), **(headers or {})}
    return Response(status, json.dumps(payload).encode("utf-8"), "application/json", extra)


def html_response(status: int, body: str) -> Response:
    """An HTML page."""
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8")


def page(title: str, body: str) -> str:
    """A tiny HTML document."""
    return f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>{body}</body></html>"


# --------------------------------------------------------------------------- the stand-in


class StripeStandIn:
    """A threaded local HTTP server that imitates the parts of Stripe the product uses.

    Use it as a context manager; :attr:`base_url` is valid inside the block.  ``prices`` optionally maps
    price ids to ``{"unit_amount", "currency", "interval"}``: when given, unknown prices are rejected like
    Stripe does; when ``None``, any price id is accepted with :data:`DEFAULT_PRICE`.
    ``on_checkout_completed(session, subscription)`` is called (outside the lock, on the server thread)
    when a checkout is paid, e.g. to send a signed webhook; an exception there makes the pay request
    answer 500 and is kept in :attr:`callback_errors`.  ``clock`` returns the current Unix time.
    """

    def __init__(
        self,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        prices: Mapping[str, Mapping[str, Any]] | None = None,
        on_checkout_completed: CheckoutCallback | None = None,
        clock: Callable[[], float] = time.time,
        request_timeout: float = 10.0,
    ) -> None:
        self.secret_key = secret_key
        self.prices = {key: {**DEFAULT_PRICE, **dict(value)} for key, value in (prices or {}).items()}
        self.strict_prices = prices is not None
        self.on_checkout_completed = on_checkout_completed
        self.clock = clock
        self.request_timeout = request_timeout
        self.callback_errors: list[BaseException] = []
        self.server_errors: list[BaseException] = []
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._customers: dict[str, dict[str, Any]] = {}
        self._deleted_customers: set[str] = set()
        self._sessions: dict[str, dict[str, Any]] = {}
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._portal_sessions: dict[str, dict[str, Any]] = {}
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[str, tuple[dict[str, Any], Response]] = {}
        self._failures: list[tuple[str, str, int]] = []
        self._odd_answers: list[tuple[str, str, Any]] = []
        self._delays: dict[tuple[str, str], float] = {}
        self._late: list[tuple[str, str, float]] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> StripeStandIn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve on a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the Stripe stand-in is already running")
        self._stopping.clear()
        handler = type("BoundHandler", (_Handler,), {"timeout": self.request_timeout})
        self._server = _Server(("127.0.0.1", 0), handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-standin",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the socket and join the thread (bounded by ``timeout``)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        self._stopping.set()  # a slowed-down answer stops waiting
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("the Stripe stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def client(self, api_key: str | None = None, timeout: float = 10.0) -> stripe.StripeClient:
        """A real ``stripe.StripeClient`` pointed at this stand-in (no retries, bounded timeout)."""
        return stripe.StripeClient(
            api_key or self.secret_key,
            base_addresses={"api": self.base_url},
            http_client=loopback_http_client(timeout),
            max_network_retries=0,
        )

    # ----------------------------------------------------------------- inspection and test helpers

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """The recorded requests with this method and exact path."""
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def customer(self, customer_id: str) -> dict[str, Any]:
        """A copy of a stored customer (``KeyError`` if unknown)."""
        return self._copy_of(self._customers, customer_id)

    def checkout_session(self, session_id: str) -> dict[str, Any]:
        """A copy of a stored checkout session (``KeyError`` if unknown)."""
        return self._copy_of(self._sessions, session_id)

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        """A copy of a stored subscription (``KeyError`` if unknown)."""
        return self._copy_of(self._subscriptions, subscription_id)

    def subscriptions(self) -> list[dict[str, Any]]:
        """Copies of every subscription, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._subscriptions.values()))

    def set_subscription_status(self, subscription_id: str, status: str) -> dict[str, Any]:
        """Change a subscription's status as Stripe would on a renewal, failure or cancellation."""
        if status not in SUBSCRIPTION_STATUSES:
            raise ValueError(f"not a Stripe subscription status: {status!r}")
        with self._lock:
            sub = self._subscriptions[subscription_id]
            sub["status"] = status
            if status in {"canceled", "incomplete_expired"}:
                now = self.now()
                sub["canceled_at"] = sub["canceled_at"] or now
                sub["ended_at"] = sub["ended_at"] or now
            return copy.deepcopy(sub)

    def set_cancel_at_period_end(self, subscription_id: str, at_period_end: bool) -> dict[str, Any]:
        """Schedule (or resume) a subscription's cancellation at its period's end as Stripe's billing portal
        does; returns the subscription for its ``customer.subscription.updated`` event."""
        with self._lock:
            sub = self._subscriptions[subscription_id]
            self._set_cancel_at_period_end(sub, at_period_end)
            return copy.deepcopy(sub)

    def delete_customer(self, customer_id: str) -> None:
        """Delete a customer as Stripe's dashboard does: its subscriptions are cancelled at once, and its id
        is unknown from then on (``resource_missing`` wherever it is named; it cannot be used again), except
        that retrieving it answers its id with ``deleted: true``, as Stripe does."""
        with self._lock:
            del self._customers[customer_id]
            self._deleted_customers.add(customer_id)
            now = self.now()
            for sub in self._subscriptions.values():
                if sub["customer"] == customer_id and sub["status"] not in {"canceled", "incomplete_expired"}:
                    sub.update(status="canceled", canceled_at=now, ended_at=now)

    def fail_next(self, method: str, path: str, status: int = 500) -> None:
        """Answer the next API request with ``method`` and exact ``path`` with Stripe's ``api_error``.

        The answer carries ``Stripe-Should-Retry: false`` so the library reports it at once.
        """
        with self._lock:
            self._failures.append((method.upper(), path, status))

    def slow_down(self, method: str, path: str, seconds: float) -> None:
        """Answer every API request with ``method`` and exact ``path`` only after ``seconds`` (a Stripe that
        hangs); the wait ends early when the stand-in stops."""
        with self._lock:
            self._delays[(method.upper(), path)] = seconds

    def answer_late(self, method: str, path: str, seconds: float) -> None:
        """Carry out the next API request with ``method`` and exact ``path``, then answer it only after
        ``seconds`` (a Stripe that applied a change but whose answer never came in time)."""
        with self._lock:
            self._late.append((method.upper(), path, seconds))

    def answer_next(self, method: str, path: str, payload: Any) -> None:
        """Answer the next API request with ``method`` and exact ``path`` with 200 and ``payload`` as it
        is (a Stripe, or a proxy in front of it, answering something that is no Stripe object)."""
        with self._lock:
            self._odd_answers.append((method.upper(), path, payload))

    def complete_checkout(self, session_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Pay an open session (what the Pay button does) and run the callback; idempotent once complete."""
        with self._lock:
            session = self._sessions[session_id]
            if session["status"] == "complete":
                return copy.deepcopy(session), self._subscription_copy(session["subscription"])
            if session["status"] == "expired":
                raise SessionExpired(f"checkout session {session_id} has expired: it cannot be paid")
            subscription = self._fulfil(session)
            result = copy.deepcopy(session), copy.deepcopy(subscription)
        if self.on_checkout_completed is not None:
            self.on_checkout_completed(*copy.deepcopy(result))
        return result

    def now(self) -> int:
        """The stand-in's current Unix time."""
        return int(self.clock())

    def _copy_of(self, store: dict[str, dict[str, Any]], object_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(store[object_id])

    def _subscription_copy(self, subscription_id: str | None) -> dict[str, Any] | None:
        return copy.deepcopy(self._subscriptions[subscription_id]) if subscription_id else None

    # ----------------------------------------------------------------- dispatch

    def handle(self, method: str, path: str, params: dict[str, Any], headers: Mapping[str, str]) -> Response:
        """Record the request and answer it (called by the HTTP handler)."""
        with self._lock:
            self._requests.append(
                RecordedRequest(method, path, copy.deepcopy(params), CaseInsensitiveDict(headers))
            )
        try:
            if path.startswith("/v1/"):
                return self._handle_api(method, path, params, headers)
            return self._handle_page(method, path)
        except Exception as exc:  # noqa: BLE001 - answer 500 and keep it for the test; never kill the thread
            self.server_errors.append(exc)
            error = {"error": {"type": "api_error", "message": f"stand-in failure: {exc!r}"}}
            return json_response(500, error, {"Stripe-Should-Retry": "false"})

    def _handle_api(
        self, method: str, path: str, params: dict[str, Any], headers: Mapping[str, str]
    ) -> Response:
        with self._lock:
            odd = next((answer for answer in self._odd_answers if answer[:2] == (method, path)), None)
            if odd is not None:
                self._odd_answers.remove(odd)
        if odd is not None:
            return json_response(200, odd[2])
        with self._lock:
            delay = self._delays.get((method, path), 0.0)
        if delay and self._stopping.wait(delay):
            stopped = {"error": {"type": "api_error", "message": "stand-in stopped while slowed down"}}
            return json_response(503, stopped, {"Stripe-Should-Retry": "false"})
        failure = self._take_failure(method, path)
        if failure is not None:
            error = {"error": {"type": "api_error", "message": f"stand-in outage ({failure})"}}
            return json_response(failure, error, {"Stripe-Should-Retry": "false"})
        try:
            self._check_auth(headers.get("Authorization", ""))
            key = headers.get("Idempotency-Key") if method == "POST" else None
            replay = self._replay(key, params)
            if replay is not None:
                return replay
            response = json_response(200, self._route_api(method, path, params))
            self._remember(key, params, response)
            self._answer_late(method, path)
            return response
        except ApiError as exc:
            return json_response(exc.status, {"error": exc.payload})

    def _answer_late(self, method: str, path: str) -> None:
        """Wait before answering a request :meth:`answer_late` named (until the stand-in stops)."""
        with self._lock:
            late = next((entry for entry in self._late if entry[:2] == (method, path)), None)
            if late is not None:
                self._late.remove(late)
        if late is not None:
            self._stopping.wait(late[2])

    def _take_failure(self, method: str, path: str) -> int | None:
        with self._lock:
            for index, (fail_method, fail_path, status) in enumerate(self._failures):
                if (fail_method, fail_path) == (method, path):
                    del self._failures[index]
                    return status
        return None

    def _route_api(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for route_method, pattern, handler in self._api_routes():
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return handler(params, *match.groups())
        raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")

    def _api_routes(self) -> list[tuple[str, str, Callable[..., dict[str, Any]]]]:
        return [
            ("POST", r"/v1/customers", self._create_customer),
            ("GET", r"/v1/customers/([^/]+)", self._get_customer),
            ("POST", r"/v1/checkout/sessions", self._create_checkout_session),
            ("GET", r"/v1/checkout/sessions", self._list_checkout_sessions),
            ("GET", r"/v1/checkout/sessions/([^/]+)", self._get_checkout_session),
            ("POST", r"/v1/checkout/sessions/([^/]+)/expire", self._expire_checkout_session),
            ("POST", r"/v1/billing_portal/sessions", self._create_portal_session),
            ("GET", r"/v1/subscriptions/([^/]+)", self._get_subscription),
            ("DELETE", r"/v1/subscriptions/([^/]+)", self._cancel_subscription),
            ("POST", r"/v1/subscriptions/([^/]+)", self._update_subscription),
        ]

    def _check_auth(self, authorization: str) -> None:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise ApiError(
                401, "You did not provide an API key. Provide it as 'Authorization: Bearer <key>'."
            )
        if not hmac.compare_digest(key.encode(), self.secret_key.encode()):
            raise ApiError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")

    def _replay(self, key: str | None, params: dict[str, Any]) -> Response | None:
        with self._lock:
            stored = self._idempotent.get(key) if key else None
        if stored is None:
            return None
        if stored[0] != params:
            raise ApiError(
                400,
                f"Keys for idempotent requests can only be used with the same parameters ({key}).",
                error_type="idempotency_error",
            )
        old = stored[1]
        return Response(
            old.status, old.body, old.content_type, {**old.headers, "Idempotent-Replayed": "true"}
        )

    def _remember(self, key: str | None, params: dict[str, Any], response: Response) -> None:
        if key:
            with self._lock:
                self._idempotent[key] = (copy.deepcopy(params), response)

    # ----------------------------------------------------------------- customers

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer: dict[str, Any] = {
            "id": new_id("cus", 14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "name": params.get("name"),
            "phone": params.get("phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        with self._lock:
            self._customers[customer["id"]] = customer
        return self._expanded(customer, params)

    def _get_customer(self, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
        with self._lock:
            if customer_id in self._deleted_customers:
                return {"id": customer_id, "object": "customer", "deleted": True}
        return self._expanded(self._lookup(self._customers, "customer", customer_id), params)

    # ----------------------------------------------------------------- checkout sessions

    def _create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = self._checkout_mode(params)
        line_items = self._checkout_line_items(params, mode)
        self._require_customer(params.get("customer"), "customer", 400)
        if not params.get("success_url"):
            raise required("success_url")
        session = self._new_session(params, mode, line_items)
        with self._lock:
            self._sessions[session["id"]] = session
            self._line_items[session["id"]] = line_items
        return self._expanded(session, params)

    def _checkout_mode(self, params: dict[str, Any]) -> str:
        mode = params.get("mode")
        if not mode:
            raise required("mode")
        if mode not in CHECKOUT_MODES:
            raise ApiError(400, f"Invalid mode: {mode!r}.", code="parameter_invalid_string", param="mode")
        return str(mode)

    def _checkout_line_items(self, params: dict[str, Any], mode: str) -> list[dict[str, Any]]:
        raw = params.get("line_items") or []
        if mode != "setup" and not raw:
            raise required("line_items")
        if not isinstance(raw, list):
            raise ApiError(400, "Invalid array", code="parameter_invalid_array", param="line_items")
        return [self._line_item(item, index, mode) for index, item in enumerate(raw)]

    def _line_item(self, item: Any, index: int, mode: str) -> dict[str, Any]:
        param = f"line_items[{index}][price]"
        price_id = item.get("price") if isinstance(item, dict) else None
        if not price_id:
            raise ApiError(400, "The stand-in needs a price id for each line item.", param=param)
        price = self._price(price_id, param)
        if mode == "subscription" and not price["recurring"]:
            raise ApiError(400, "Subscription mode needs recurring prices.", param=param)
        return {"price": price, "quantity": int(item.get("quantity") or 1)}

    def _price(self, price_id: str, param: str) -> dict[str, Any]:
        spec = self.prices.get(price_id)
        if spec is None and self.strict_prices:
            raise missing("price", price_id, param, 400)
        spec = spec or DEFAULT_PRICE
        interval = spec.get("interval")
        return {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": spec["currency"],
            "livemode": False,
            "product": spec.get("product", "prod_" + price_id.removeprefix("price_")),
            "recurring": {"interval": interval, "interval_count": 1} if interval else None,
            "type": "recurring" if interval else "one_time",
            "unit_amount": spec["unit_amount"],
        }

    def _new_session(self, params: dict[str, Any], mode: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        session_id = new_id("cs_test", 58)
        now = self.now()
        total = sum(item["price"]["unit_amount"] * item["quantity"] for item in items) if items else None
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": items[0]["price"]["currency"] if items else None,
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "expires_at": now + 86_400,
            "invoice": None,
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "mode": mode,
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": params.get("success_url"),
            "ui_mode": "hosted",
            "url": f"{self.base_url}/checkout/{session_id}",
            "_subscription_data": copy.deepcopy(params.get("subscription_data") or {}),
        }

    def _get_checkout_session(self, params: dict[str, Any], session_id: str) -> dict[str, Any]:
        return self._expanded(self._lookup(self._sessions, "checkout.session", session_id), params)

    def _list_checkout_sessions(self, params: dict[str, Any]) -> dict[str, Any]:
        """Sessions newest first, filtered by ``customer`` and ``status`` as Stripe's list filters them; a
        customer it does not know is a 400 ``resource_missing`` naming the param, as Stripe answers."""
        self._require_customer(params.get("customer"), "customer", 400)
        with self._lock:
            found = [
                self._expanded(session, {})
                for session in reversed(self._sessions.values())
                if params.get("customer") in (None, session["customer"])
                and params.get("status") in (None, session["status"])
            ]
        limit = int(params.get("limit") or 10)
        return {
            "object": "list",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "url": "/v1/checkout/sessions",
        }

    def _expire_checkout_session(self, params: dict[str, Any], session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise missing("checkout.session", session_id)
            if session["status"] != "open":
                raise ApiError(
                    400,
                    'Only Checkout Sessions with a status in ["open"] can be expired.',
                    param="session",
                )
            session.update(status="expired", url=None)
            return self._expanded(session, params)

    def _fulfil(self, session: dict[str, Any]) -> dict[str, Any] | None:
        """Mark ``session`` paid; in subscription mode create its subscription (lock held)."""
        if not session["customer"]:
            created = self._create_customer({"email": session["customer_email"]})
            session["customer"] = created["id"]
        subscription = None
        if session["mode"] == "subscription":
            subscription = self._new_subscription(session)
            self._subscriptions[subscription["id"]] = subscription
            session["subscription"] = subscription["id"]
        elif session["mode"] == "payment":
            session["payment_intent"] = new_id("pi")
        session.update(status="complete", payment_status="paid", url=None)
        return subscription

    # ----------------------------------------------------------------- subscriptions

    def _new_subscription(self, session: dict[str, Any]) -> dict[str, Any]:
        sub_id, now = new_id("sub"), self.now()
        data = session["_subscription_data"]
        trial_days = int(data.get("trial_period_days") or 0)
        trial_end = now + trial_days * 86_400 if trial_days else None
        lines = self._line_items[session["id"]]
        items = [self._subscription_item(sub_id, line, trial_end or now) for line in lines]
        return {
            "id": sub_id,
            "object": "subscription",
            "billing_cycle_anchor": trial_end or now,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": session["currency"],
            "customer": session["customer"],
            "ended_at": None,
            "items": {
                "object": "list",
                "data": items,
                "has_more": False,
                "total_count": len(items),
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(data.get("metadata") or {}),
            "start_date": now,
            "status": "trialing" if trial_days else "active",
            "trial_end": trial_end,
            "trial_start": now if trial_days else None,
        }

    def _subscription_item(self, sub_id: str, line: dict[str, Any], period_start: int) -> dict[str, Any]:
        interval = (line["price"]["recurring"] or {}).get("interval") or "month"
        return {
            "id": new_id("si", 14),
            "object": "subscription_item",
            "created": self.now(),
            "current_period_start": period_start,
            "current_period_end": period_start + PERIOD_SECONDS[interval],
            "metadata": {},
            "price": copy.deepcopy(line["price"]),
            "quantity": line["quantity"],
            "subscription": sub_id,
        }

    def _get_subscription(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        return self._expanded(self._lookup(self._subscriptions, "subscription", subscription_id), params)

    def _cancel_subscription(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        with self._lock:
            sub = self._subscriptions.get(subscription_id)
            # Stripe treats a canceled subscription as deleted: cancelling it again is "No such subscription".
            if sub is None or sub["status"] in {"canceled", "incomplete_expired"}:
                raise missing("subscription", subscription_id)
            now = self.now()
            sub.update(status="canceled", canceled_at=now, ended_at=now)
            return self._expanded(sub, params)

    def _update_subscription(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        """Stripe's ``Subscription.modify`` for the cancellation fields (others are refused, so a test
        never passes on a parameter the stand-in ignored)."""
        unknown = set(params) - {"cancel_at_period_end", "cancel_at", "expand"}
        if unknown:
            raise ApiError(400, f"The stand-in does not update {', '.join(sorted(unknown))}.")
        with self._lock:
            sub = self._subscriptions.get(subscription_id)
            if sub is None:
                raise missing("subscription", subscription_id)
            if sub["status"] in {"canceled", "incomplete_expired"}:
                raise ApiError(
                    400, "A canceled subscription can only update its cancellation_details and metadata."
                )
            if "cancel_at_period_end" in params:
                self._set_cancel_at_period_end(sub, _form_bool(params["cancel_at_period_end"]))
            if "cancel_at" in params:
                self._set_cancel_at(sub, params["cancel_at"])
            return self._expanded(sub, params)

    def _set_cancel_at_period_end(self, sub: dict[str, Any], at_period_end: bool) -> None:
        # Scheduling sets cancel_at to the period's end, and resuming clears it; a date set on its own
        # (cancel_at) is left as it is by cancel_at_period_end=false, which was false already.
        if not at_period_end and not sub["cancel_at_period_end"]:
            return
        period_end = max(item["current_period_end"] for item in sub["items"]["data"])
        sub.update(cancel_at_period_end=at_period_end, cancel_at=period_end if at_period_end else None)
        sub["canceled_at"] = self.now() if at_period_end else None

    def _set_cancel_at(self, sub: dict[str, Any], value: Any) -> None:
        if value == "":
            sub.update(cancel_at=None, cancel_at_period_end=False, canceled_at=None)
            return
        if not isinstance(value, str) or not value.isdigit():
            raise ApiError(400, f"Invalid integer: {value}", param="cancel_at")
        sub.update(cancel_at=int(value), cancel_at_period_end=False, canceled_at=self.now())

    # ----------------------------------------------------------------- billing portal

    def _create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        customer_id = params.get("customer")
        if not customer_id:
            raise required("customer")
        self._require_customer(customer_id, "customer", 400)
        portal_id = new_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "configuration": "bpc_standin",
            "created": self.now(),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": params.get("return_url"),
            "url": f"{self.base_url}/billing_portal/{portal_id}",
        }
        with self._lock:
            self._portal_sessions[portal_id] = portal
        return copy.deepcopy(portal)

    # ----------------------------------------------------------------- lookups and expansion

    def _lookup(self, store: dict[str, dict[str, Any]], kind: str, object_id: str) -> dict[str, Any]:
        with self._lock:
            found = store.get(object_id)
            if found is None:
                raise missing(kind, object_id)
            return copy.deepcopy(found)

    def _require_customer(self, customer_id: Any, param: str, status: int) -> None:
        if customer_id is None:
            return
        with self._lock:
            if customer_id not in self._customers:
                raise missing("customer", str(customer_id), param, status)

    def _expanded(self, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """A public copy of ``obj`` with the ids named in ``expand`` replaced by their objects."""
        result = {key: value for key, value in copy.deepcopy(obj).items() if not key.startswith("_")}
        expand = params.get("expand") or []
        for name in expand if isinstance(expand, list) else [expand]:
            result[name] = self._expand_value(result, name)
        return result

    def _expand_value(self, obj: dict[str, Any], name: str) -> Any:
        value = obj.get(name, ...)
        if value is ... or (value is not None and not isinstance(value, str)):
            raise ApiError(400, f"This property cannot be expanded ({name}).", param="expand")
        for prefix, store_name in EXPANDABLE_PREFIXES.items():
            if isinstance(value, str) and value.startswith(prefix):
                return self._expanded(self._lookup(getattr(self, store_name), name, value), {})
        return value

    # ----------------------------------------------------------------- hosted pages

    def _handle_page(self, method: str, path: str) -> Response:
        checkout = re.fullmatch(r"/checkout/([^/]+)", path)
        pay = re.fullmatch(r"/checkout/([^/]+)/pay", path)
        portal = re.fullmatch(r"/billing_portal/([^/]+)", path)
        if method == "GET" and checkout:
            return self._checkout_page(checkout.group(1))
        if method == "POST" and pay:
            return self._pay(pay.group(1))
        if method == "GET" and portal:
            return self._portal_page(portal.group(1))
        return html_response(404, page("Not found", "<h1>Not found</h1>"))

    def _checkout_page(self, session_id: str) -> Response:
        with self._lock:
            session = copy.deepcopy(self._sessions.get(session_id))
            items = copy.deepcopy(self._line_items.get(session_id, []))
        if session is None:
            return html_response(404, page("Not found", "<h1>This checkout session does not exist</h1>"))
        if session["status"] == "complete":
            return html_response(200, page("Paid", "<h1>Payment complete</h1>"))
        if session["status"] == "expired":
            return html_response(200, page("Expired", "<h1>This checkout session has expired</h1>"))
        rows = "".join(
            f"<li>{html.escape(item['price']['id'])} &times; {item['quantity']}</li>" for item in items
        )
        cancel = session.get("cancel_url")
        back = f'<p><a id="cancel" href="{html.escape(cancel)}">Back</a></p>' if cancel else ""
        body = (
            f"<h1>Stripe stand-in checkout</h1><ul>{rows}</ul>"
            f'<form method="post" action="/checkout/{html.escape(session_id)}/pay">'
            f'<button type="submit" id="pay">Pay</button></form>{back}'
        )
        return html_response(200, page("Checkout", body))

    def _pay(self, session_id: str) -> Response:
        try:
            session, _ = self.complete_checkout(session_id)
        except KeyError:
            return html_response(404, page("Not found", "<h1>This checkout session does not exist</h1>"))
        except SessionExpired as exc:
            return html_response(409, page("Expired", f"<h1>{html.escape(str(exc))}</h1>"))
        except Exception as exc:  # noqa: BLE001 - the test's callback failed: keep it, answer 500
            self.callback_errors.append(exc)
            detail = f"<h1>Callback failed</h1><pre>{html.escape(repr(exc))}</pre>"
            return html_response(500, page("Error", detail))
        location = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])
        return Response(303, b"", "text/plain", {"Location": location})

    def _portal_page(self, portal_id: str) -> Response:
        with self._lock:
            portal = copy.deepcopy(self._portal_sessions.get(portal_id))
        if portal is None:
            return html_response(404, page("Not found", "<h1>This portal session does not exist</h1>"))
        link = portal.get("return_url")
        back = f'<a id="return" href="{html.escape(link)}">Return</a>' if link else ""
        body = f"<h1>Stripe stand-in billing portal</h1><p>{html.escape(portal['customer'])}</p>{back}"
        return html_response(200, page("Billing portal", body))


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its stand-in."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], standin: StripeStandIn) -> None:
        super().__init__(address, handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, hands it to the stand-in, writes the response (one request per connection)."""

    server: _Server
    server_version = "StripeStandIn/1.0"

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve("POST")

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        params = {**parse_form(url.query), **parse_form(body)}
        headers = CaseInsensitiveDict(dict(self.headers.items()))
        self._send(self.server.standin.handle(method, url.path, params, headers))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; requests are recorded on the stand-in instead."""
