"""A correctly signed webhook of any shape is answered 400 or 2xx, never 5xx; signatures more than five
minutes from now, in either direction, are refused.

The property test signs arbitrary JSON with the endpoint's secret, so every body gets past the signature
and reaches the event parser and the billing rules. Values are drawn both at random and close to a real
event (the right keys with values of any type, Alice's real customer id among the ids) to reach the
deeper code. CI runs it on PostgreSQL and MariaDB too, where NUL, lone surrogates and out-of-range
integers are refused by the database itself.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conexoos.app.controllers.billing import HANDLED_EVENTS
from tests.support.stripe_standin import sign_payload

from ..billing_support import WEBHOOK_SECRET, billing_state, stored_event_ids, subscription_event
from ..conftest import Account

pytestmark = pytest.mark.database_matrix

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)
STATUSES = [
    "active",
    "trialing",
    "past_due",
    "canceled",
    "unpaid",
    "incomplete",
    "paused",
    "incomplete_expired",
]
TIMES = st.integers(min_value=-(2**40), max_value=2**40) | JSON


FIELDS = [
    ("id",),
    ("type",),
    ("created",),
    ("livemode",),
    ("data",),
    ("data", "object"),
    ("data", "object", "id"),
    ("data", "object", "customer"),
    ("data", "object", "subscription"),
    ("data", "object", "status"),
    ("data", "object", "items"),
    ("data", "object", "items", "data"),
    ("data", "object", "current_period_start"),
]
"""Where a near-valid event gets a value of any type."""
NASTY = st.sampled_from(
    [
        "",
        "\x00",
        "evt_\x00",
        "cus_\ud800",
        "\ud800",
        "x" * 300,
        "a\r\nb",
        2**31,
        2**63,
        -1,
        1e308,
        0.5,
        [],
        {},
    ]
)
"""Values that databases, Stripe's URLs or datetime refuse: NUL, lone surrogates, overlong, out of range."""
VALUES = NASTY | JSON | st.text(max_size=300) | st.integers(min_value=-(2**80), max_value=2**80)


def valid_event(customer: str, event_type: str, status: str, created_offset: int) -> dict[str, Any]:
    """A real-looking event about ``customer``'s subscription (created close to now)."""
    event = subscription_event(customer, status, int(time.time()) + created_offset, event_type=event_type)
    event["data"]["object"]["subscription"] = event["data"]["object"]["id"]
    return event


def mutated(event: dict[str, Any], mutations: list[tuple[tuple[str, ...], Any]]) -> Any:
    """``event`` with each path set to its value (a path through a non-object is left alone)."""
    for path, value in mutations:
        target = event
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[path[-1]] = value
    return event


def events(customer: str) -> st.SearchStrategy[Any]:
    """Near-valid events about Alice's real customer with a few fields of any type, or any JSON at all."""
    near_valid = st.builds(
        mutated,
        st.builds(
            valid_event,
            st.just(customer) | st.from_regex(r"cus_[A-Za-z0-9]{1,20}", fullmatch=True),
            st.sampled_from(sorted(HANDLED_EVENTS)) | st.text(max_size=20),
            st.sampled_from(STATUSES),
            st.integers(min_value=-100_000, max_value=100),
        ),
        st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), min_size=1, max_size=3),
    )
    return near_valid | JSON


def post_signed(client: FlaskClient, body: bytes, timestamp: int | None = None) -> Any:
    """POST ``body`` signed with the endpoint's secret (now, unless ``timestamp`` says otherwise)."""
    signature = sign_payload(body, WEBHOOK_SECRET, timestamp)
    headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
    return client.post("/stripe/webhook", data=body, headers=headers)


def test_a_signed_body_of_any_shape_is_400_or_2xx_never_5xx(
    app: Flask, client: FlaskClient, customer: str
) -> None:
    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(events(customer))
    def check(body: Any) -> None:
        response = post_signed(client, json.dumps(body).encode())
        assert response.status_code == 400 or 200 <= response.status_code < 300, (
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        if response.status_code == 400:
            assert response.get_json()["error"]["message"]  # says what is wrong

    check()


def shaped(**fields: Any) -> bytes:
    """A subscription event's JSON with ``fields`` replaced (non-ASCII written as escapes, as Stripe does)."""
    event = {"id": "evt_1", "type": "customer.subscription.updated", "created": 1, "data": {"object": {}}}
    return json.dumps({**event, **fields}).encode()


WRONG_SHAPES = {
    "list": b"[]",
    "string": b'"evt"',
    "number": b"17",
    "null": b"null",
    "data-a-list": shaped(data=[]),
    "object-a-number": shaped(data={"object": 5}),
    "object-missing": shaped(data={"previous_attributes": {}}),
    "id-a-list": shaped(id=["evt_1"]),
    "id-a-number": shaped(id=12),
    "id-with-nul": shaped(id="evt_\u0000"),
    "id-with-lone-surrogate": shaped(id="evt_\ud800"),
    "type-with-nul": shaped(type="x\u0000"),
    "created-after-9999": shaped(created=253_402_300_800),
    "created-before-1970": shaped(created=-1),
    "created-a-float": shaped(created=1.5),
    "nested-100000-deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("body", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_signed_body_of_the_wrong_shape_is_400(client: FlaskClient, body: bytes) -> None:
    response = post_signed(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "not a Stripe event" in response.get_json()["error"]["message"]


def test_ids_of_the_wrong_shape_inside_the_object_are_ignored_not_applied(
    app: Flask, client: FlaskClient, alice: Account, customer: str
) -> None:
    before = billing_state(app, alice.id)
    for customer_value in (f"{customer}\u0000", [customer], {"id": 5}, "cus_\ud800", "x" * 300):
        event = subscription_event("cus_placeholder", "active", int(time.time()))
        event["data"]["object"]["customer"] = customer_value
        event["data"]["object"]["id"] = f"sub_{customer_value!s:.5}\u0000"
        response = post_signed(client, json.dumps(event).encode())
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["status"] == "ignored"
    assert billing_state(app, alice.id) == before


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-240, True), (240, True), (-301 - 5, False), (301 + 5, False), (24 * 3600, False), (-24 * 3600, False)],
    ids=["4-min-ago", "4-min-ahead", "over-5-min-ago", "over-5-min-ahead", "a-day-ahead", "a-day-ago"],
)
def test_a_signature_more_than_five_minutes_from_now_is_refused(
    app: Flask, client: FlaskClient, offset: int, accepted: bool
) -> None:
    event = subscription_event("cus_unknown", "active", int(time.time()))
    response = post_signed(client, json.dumps(event).encode(), timestamp=int(time.time()) + offset)
    if accepted:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert event["id"] in stored_event_ids(app)
    else:
        assert response.status_code == 400
        assert "signature" in response.get_json()["error"]["message"].lower()
        assert event["id"] not in stored_event_ids(app)
