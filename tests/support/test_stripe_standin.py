"""The Stripe stand-in, exercised with the real ``stripe`` library and plain ``requests``."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

import pytest
import requests
import stripe

from tests.support.stripe_standin import (
    StripeStandIn,
    make_event,
    parse_form,
    sign_payload,
    stripe_globals,
    webhook_request,
)

if TYPE_CHECKING:
    from stripe.params.checkout import SessionCreateParams

SECRET_KEY = "sk_test_standin_key"
WEBHOOK_SECRET = "whsec_test_secret"
PRICES = {
    "price_pro": {"unit_amount": 900, "currency": "eur", "interval": "month"},
    "price_once": {"unit_amount": 500, "currency": "eur", "interval": None},
}
TIMEOUT = 5


class Landing:
    """A tiny local site standing for the application that Stripe redirects back to."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        landing = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                landing.paths.append(self.path)
                body = b"welcome back"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def close(self) -> None:
        """Stop and join."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library must never send telemetry or write its telemetry id during tests."""
    monkeypatch.setattr(stripe, "enable_telemetry", False)


@pytest.fixture
def completed() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """What the checkout callback received."""
    return []


@pytest.fixture
def standin(completed: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> Iterator[StripeStandIn]:
    """A running stand-in whose callback records completed checkouts."""
    with StripeStandIn(
        SECRET_KEY, prices=PRICES, on_checkout_completed=lambda s, sub: completed.append((s, sub))
    ) as running:
        yield running


@pytest.fixture
def client(standin: StripeStandIn) -> stripe.StripeClient:
    """The real StripeClient pointed at the stand-in."""
    return standin.client()


@pytest.fixture
def landing() -> Iterator[Landing]:
    """The application's success page."""
    site = Landing()
    site.thread.start()
    yield site
    site.close()


def checkout_params(customer_id: str, success_url: str = "http://app.invalid/ok") -> dict[str, Any]:
    """Parameters like the product's paid-plan checkout sends."""
    return {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": "42",
        "line_items": [{"price": "price_pro", "quantity": 1}],
        "success_url": success_url,
        "cancel_url": "http://app.invalid/cancel",
        "metadata": {"user_id": "42", "plan_id": "pro"},
        "subscription_data": {"metadata": {"user_id": "42", "plan_id": "pro"}},
    }


def create_checkout(client: stripe.StripeClient, params: dict[str, Any]) -> stripe.checkout.Session:
    """Create a Checkout Session from a plain dict, through the real library."""
    return client.v1.checkout.sessions.create(params=cast("SessionCreateParams", params))


def pay(session_url: str | None) -> requests.Response:
    """Open the hosted checkout page, then submit its Pay form without following the redirect."""
    assert session_url is not None
    page = requests.get(session_url, timeout=TIMEOUT)
    assert page.status_code == 200
    assert re.search(r"<button[^>]*>Pay</button>", page.text)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    return requests.post(
        requests.compat.urljoin(session_url, action.group(1)), timeout=TIMEOUT, allow_redirects=False
    )


# --------------------------------------------------------------------------- customers and lifecycle


def test_customer_create_and_retrieve(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    created = client.v1.customers.create(params={"email": "ana@example.com", "metadata": {"user_id": "42"}})
    assert created.id.startswith("cus_")
    assert created.object == "customer" and created.livemode is False and created.created > 0
    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.email == "ana@example.com"
    assert fetched.metadata is not None and fetched.metadata["user_id"] == "42"
    assert standin.customer(created.id)["email"] == "ana@example.com"


def test_module_globals_work_and_are_restored(standin: StripeStandIn) -> None:
    before = (stripe.api_base, stripe.api_key, stripe.default_http_client)
    with stripe_globals(standin):
        customer = stripe.Customer.create(email="global@example.com")
        assert stripe.Customer.retrieve(customer.id).email == "global@example.com"
    assert (stripe.api_base, stripe.api_key, stripe.default_http_client) == before
    assert standin.requests_to("POST", "/v1/customers")[0].params == {"email": "global@example.com"}


def test_no_telemetry_reaches_the_server(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    client.v1.customers.create(params={"email": "a@example.com"})
    client.v1.customers.create(params={"email": "b@example.com"})
    for recorded in standin.requests:
        assert "X-Stripe-Client-Telemetry" not in recorded.headers
        assert "telemetry_id" not in json.loads(recorded.headers["X-Stripe-Client-User-Agent"])
        assert recorded.headers["Stripe-Version"] == stripe.api_version


def test_server_shuts_down_cleanly() -> None:
    with StripeStandIn(SECRET_KEY) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        assert running.running
    assert not running.running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    with pytest.raises(RuntimeError):
        _ = running.base_url


# --------------------------------------------------------------------------- checkout


def test_subscription_checkout_end_to_end(
    client: stripe.StripeClient,
    standin: StripeStandIn,
    landing: Landing,
    completed: list[tuple[dict[str, Any], dict[str, Any] | None]],
) -> None:
    customer = client.v1.customers.create(params={"email": "ana@example.com"})
    success = landing.url + "/subscriptions?success=true&session_id={CHECKOUT_SESSION_ID}"
    session = create_checkout(client, checkout_params(customer.id, success))
    assert (
        session.object == "checkout.session" and session.status == "open" and session.mode == "subscription"
    )
    assert session.url is not None and session.url.startswith(standin.base_url + "/checkout/")
    assert session.client_reference_id == "42" and session.customer == customer.id

    paid = pay(session.url)
    assert paid.status_code == 303
    assert paid.headers["Location"] == success.replace("{CHECKOUT_SESSION_ID}", session.id)
    back = requests.get(paid.headers["Location"], timeout=TIMEOUT)
    assert back.status_code == 200 and landing.paths == [
        f"/subscriptions?success=true&session_id={session.id}"
    ]

    [(called_session, called_sub)] = completed
    assert called_sub is not None and called_session["subscription"] == called_sub["id"]
    assert called_session["status"] == "complete" and called_session["metadata"]["plan_id"] == "pro"
    sub = client.v1.subscriptions.retrieve(called_sub["id"])
    assert sub.status == "active" and sub.customer == customer.id
    assert sub.metadata["plan_id"] == "pro"
    item = sub["items"]["data"][0]
    assert item["price"]["id"] == "price_pro"
    assert item["current_period_end"] > time.time()
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.status == "complete" and again.payment_status == "paid" and again.subscription == sub.id


def test_paying_twice_creates_one_subscription(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    session = create_checkout(client, checkout_params(customer.id))
    assert pay(session.url).status_code == 303
    assert requests.post(f"{session.url}/pay", timeout=TIMEOUT, allow_redirects=False).status_code == 303
    assert len(standin.subscriptions()) == 1


def test_checkout_records_nested_params(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    create_checkout(client, checkout_params(customer.id))
    [recorded] = standin.requests_to("POST", "/v1/checkout/sessions")
    assert recorded.params["line_items"][0] == {"price": "price_pro", "quantity": "1"}
    assert recorded.params["metadata"] == {"user_id": "42", "plan_id": "pro"}
    assert recorded.params["subscription_data"]["metadata"]["plan_id"] == "pro"
    assert recorded.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert recorded.headers["Idempotency-Key"]


def test_checkout_expand_subscription(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    session = create_checkout(client, checkout_params(customer.id))
    standin.complete_checkout(session.id)
    expanded = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "customer"]}
    )
    assert isinstance(expanded.subscription, stripe.Subscription)
    assert expanded.subscription.status == "active"
    assert isinstance(expanded.customer, stripe.Customer) and expanded.customer.id == customer.id


def test_trial_subscription_is_trialing(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    params = checkout_params(customer.id)
    params["subscription_data"]["trial_period_days"] = 14
    session = create_checkout(client, params)
    _, sub = standin.complete_checkout(session.id)
    assert sub is not None and sub["status"] == "trialing" and sub["trial_end"] > time.time()


def test_checkout_validation(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={})
    with pytest.raises(stripe.InvalidRequestError) as unknown_customer:
        create_checkout(client, checkout_params("cus_nope"))
    assert unknown_customer.value.http_status == 400 and unknown_customer.value.param == "customer"
    bad_price = checkout_params(customer.id)
    bad_price["line_items"] = [{"price": "price_nope", "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError) as unknown_price:
        create_checkout(client, bad_price)
    assert (
        unknown_price.value.code == "resource_missing" and unknown_price.value.param == "line_items[0][price]"
    )
    one_time = checkout_params(customer.id)
    one_time["line_items"] = [{"price": "price_once", "quantity": 1}]
    with pytest.raises(stripe.InvalidRequestError):
        create_checkout(client, one_time)
    no_mode = {key: value for key, value in checkout_params(customer.id).items() if key != "mode"}
    with pytest.raises(stripe.InvalidRequestError) as missing_mode:
        create_checkout(client, no_mode)
    assert missing_mode.value.code == "parameter_missing"


def test_callback_failure_is_reported(client: stripe.StripeClient) -> None:
    def explode(session: dict[str, Any], subscription: dict[str, Any] | None) -> None:
        raise RuntimeError("webhook delivery failed")

    with StripeStandIn(SECRET_KEY, prices=PRICES, on_checkout_completed=explode) as running:
        api = running.client()
        customer = api.v1.customers.create(params={})
        session = create_checkout(api, checkout_params(customer.id))
        assert session.url is not None
        assert pay(session.url).status_code == 500
        assert [str(error) for error in running.callback_errors] == ["webhook delivery failed"]


# --------------------------------------------------------------------------- portal and subscriptions


def test_billing_portal_session(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "http://app.invalid/subscriptions"}
    )
    assert portal.object == "billing_portal.session" and portal.customer == customer.id
    assert portal.url.startswith(standin.base_url + "/billing_portal/")
    page = requests.get(portal.url, timeout=TIMEOUT)
    assert page.status_code == 200 and 'href="http://app.invalid/subscriptions"' in page.text
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})


def test_subscription_status_helper(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    session = create_checkout(client, checkout_params(customer.id))
    _, sub = standin.complete_checkout(session.id)
    assert sub is not None
    assert standin.set_subscription_status(sub["id"], "past_due")["status"] == "past_due"
    assert client.v1.subscriptions.retrieve(sub["id"]).status == "past_due"
    canceled = standin.set_subscription_status(sub["id"], "canceled")
    assert canceled["canceled_at"] and canceled["ended_at"]
    with pytest.raises(ValueError):
        standin.set_subscription_status(sub["id"], "nonsense")


def test_cancel_a_subscription(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    session = create_checkout(client, checkout_params(customer.id))
    _, sub = standin.complete_checkout(session.id)
    assert sub is not None
    canceled = client.v1.subscriptions.cancel(sub["id"])
    assert canceled.status == "canceled" and canceled.canceled_at and canceled.ended_at
    assert standin.subscription(sub["id"])["status"] == "canceled"
    assert len(standin.requests_to("DELETE", f"/v1/subscriptions/{sub['id']}")) == 1
    # As at Stripe, a canceled subscription cannot be canceled again: it answers "No such subscription".
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.subscriptions.cancel(sub["id"])
    assert raised.value.http_status == 404 and raised.value.code == "resource_missing"


def test_cancel_at_period_end_schedules_and_resumes_like_stripe(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    customer = client.v1.customers.create(params={})
    session = create_checkout(client, checkout_params(customer.id))
    _, sub = standin.complete_checkout(session.id)
    assert sub is not None
    period_end = sub["items"]["data"][0]["current_period_end"]
    scheduled = client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": True})
    assert (scheduled.status, scheduled.cancel_at_period_end, scheduled.cancel_at) == (
        "active",
        True,
        period_end,
    )
    [request] = standin.requests_to("POST", f"/v1/subscriptions/{sub['id']}")
    assert request.params == {"cancel_at_period_end": "true"}
    resumed = client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": False})
    assert (resumed.cancel_at_period_end, resumed.cancel_at) == (False, None)
    dated = client.v1.subscriptions.update(sub["id"], params={"cancel_at": period_end - 60})
    assert (dated.cancel_at_period_end, dated.cancel_at) == (False, period_end - 60)
    still = client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": False})
    assert (still.cancel_at_period_end, still.cancel_at) == (False, period_end - 60)
    cleared = client.v1.subscriptions.update(sub["id"], params={"cancel_at": ""})
    assert (cleared.cancel_at_period_end, cleared.cancel_at) == (False, None)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.subscriptions.update(sub["id"], params={"description": "not supported"})
    assert refused.value.http_status == 400
    client.v1.subscriptions.cancel(sub["id"])
    with pytest.raises(stripe.InvalidRequestError) as ended:
        client.v1.subscriptions.update(sub["id"], params={"cancel_at_period_end": False})
    assert ended.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.subscriptions.update("sub_unknown", params={"cancel_at_period_end": True})
    assert unknown.value.http_status == 404


def test_a_deleted_customer_is_unknown_and_its_subscription_canceled(
    client: stripe.StripeClient, standin: StripeStandIn
) -> None:
    customer = client.v1.customers.create(params={})
    session = create_checkout(client, checkout_params(customer.id))
    _, sub = standin.complete_checkout(session.id)
    assert sub is not None
    standin.delete_customer(customer.id)
    assert standin.subscription(sub["id"])["status"] == "canceled"
    # The answer a real Stripe gave an outside tester for a customer deleted in its dashboard.
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.list(params={"customer": customer.id, "status": "open"})
    error = raised.value
    assert (error.http_status, error.code, error.param) == (400, "resource_missing", "customer")
    assert error.user_message == f"No such customer: '{customer.id}'"


def test_fail_next_answers_one_api_error(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    customer = client.v1.customers.create(params={})
    standin.fail_next("GET", f"/v1/customers/{customer.id}", status=503)
    with pytest.raises(stripe.APIError) as raised:
        client.v1.customers.retrieve(customer.id)
    assert raised.value.http_status == 503
    assert client.v1.customers.retrieve(customer.id).id == customer.id  # only the next one fails
    assert len(standin.requests_to("GET", f"/v1/customers/{customer.id}")) == 2


# --------------------------------------------------------------------------- errors, auth, idempotency


@pytest.mark.parametrize("kind", ["customers", "subscriptions", "checkout"])
def test_unknown_ids_are_404(client: stripe.StripeClient, kind: str) -> None:
    services: dict[str, Any] = {
        "customers": client.v1.customers,
        "subscriptions": client.v1.subscriptions,
        "checkout": client.v1.checkout.sessions,
    }
    with pytest.raises(stripe.InvalidRequestError) as raised:
        services[kind].retrieve("xx_missing")
    assert raised.value.http_status == 404 and raised.value.code == "resource_missing"
    body = raised.value.json_body
    assert isinstance(body, dict) and body["error"]["type"] == "invalid_request_error"


def test_wrong_api_key_is_rejected(standin: StripeStandIn) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        standin.client(api_key="sk_test_wrong").v1.customers.create(params={})
    assert raised.value.http_status == 401
    raw = requests.get(standin.base_url + "/v1/customers/cus_x", timeout=TIMEOUT)
    assert raw.status_code == 401
    assert raw.json()["error"]["type"] == "invalid_request_error" and raw.json()["error"]["message"]


def test_idempotency_key_replays(client: stripe.StripeClient, standin: StripeStandIn) -> None:
    first = client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k1"})
    second = client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k1"})
    assert first.id == second.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"email": "b@example.com"}, options={"idempotency_key": "k1"})


# --------------------------------------------------------------------------- form parsing


def test_parse_form_nests_like_stripe() -> None:
    encoded = (
        "line_items[0][price]=p1&line_items[0][quantity]=2&line_items[1][price]=p2"
        "&metadata[user_id]=7&metadata[empty]=&subscription_data[metadata][plan]=pro"
        "&expand[]=a&expand[]=b&mode=subscription"
    )
    assert parse_form(encoded) == {
        "line_items": [{"price": "p1", "quantity": "2"}, {"price": "p2"}],
        "metadata": {"user_id": "7", "empty": ""},
        "subscription_data": {"metadata": {"plan": "pro"}},
        "expand": ["a", "b"],
        "mode": "subscription",
    }


# --------------------------------------------------------------------------- webhook signing


def test_signature_round_trip_with_the_real_library() -> None:
    event = make_event("checkout.session.completed", {"id": "cs_test_1", "object": "checkout.session"})
    assert event["id"].startswith("evt_") and event["object"] == "event" and event["livemode"] is False
    body, headers = webhook_request(event, WEBHOOK_SECRET)
    constructed = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert constructed.type == "checkout.session.completed"
    assert constructed.data.object.id == "cs_test_1"


def test_signature_matches_the_library_scheme() -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    expected = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), WEBHOOK_SECRET, 1_700_000_000
    )
    assert sign_payload(payload, WEBHOOK_SECRET, 1_700_000_000) == expected


@pytest.mark.parametrize("tamper", ["payload", "secret", "stale"])
def test_signature_rejections(tamper: str) -> None:
    payload = json.dumps(make_event("customer.subscription.updated", {"id": "sub_1"})).encode()
    timestamp = int(time.time()) - (3600 if tamper == "stale" else 0)
    header = sign_payload(payload, WEBHOOK_SECRET, timestamp)
    body = payload.replace(b"sub_1", b"sub_2") if tamper == "payload" else payload
    secret = "whsec_other" if tamper == "secret" else WEBHOOK_SECRET
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, secret)
