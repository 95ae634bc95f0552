"""Buying a paid plan in Chromium: plans page → Stripe Checkout → a signed webhook → raised limits.

Stripe is the local :class:`StripeStandIn` (the real ``stripe`` library in the app talks HTTP to it). When the
browser presses Pay on the stand-in's hosted checkout page, the stand-in calls back into the test, which
delivers ``checkout.session.completed`` to the live app's ``/stripe/webhook`` signed with Stripe's real
scheme, exactly as Stripe would, before the browser is sent back to the success URL.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer, run_live_server
from tests.support.stripe_standin import StripeStandIn, make_event, webhook_request

from .conftest import PageFactory
from .test_core_flow import add_link, sign_up

SECRET_KEY = "sk_test_e2e"
WEBHOOK_SECRET = "whsec_e2e"
PRO_PRICE = "price_pro_e2e"
FREE_LINKS, PRO_LINKS = 3, 50
FREE_PRODUCTS, PRO_PRODUCTS = 2, 20
PLANS = {
    "gratis": {"NAME": "Gratis", "MAX_LINKS": FREE_LINKS, "MAX_PRODUCTS": FREE_PRODUCTS, "HISTORY_DAYS": 30},
    "pro": {
        "NAME": "Pro",
        "PRICE_ID": PRO_PRICE,
        "PRICE": 500,
        "CURRENCY": "EUR",
        "INTERVAL": "month",
        "MAX_LINKS": PRO_LINKS,
        "MAX_PRODUCTS": PRO_PRODUCTS,
        "HISTORY_DAYS": 365,
    },
}
USERNAME = "mae.pro"
RELEASE_TIMEOUT = 30.0
PLAN_CHANGE_WAIT_MS = 15_000
"""The subscriptions page checks for the new plan every 2 s after a checkout."""


class Billing:
    """The stand-in, the app it serves, and the webhook deliveries.

    Stripe sends webhooks on its own schedule, usually after the browser is back on the success URL, so
    the delivery waits on :attr:`release` (set by the test) in a thread of its own.
    """

    def __init__(self, standin: StripeStandIn) -> None:
        self.standin = standin
        self.live: LiveServer | None = None
        self.release = threading.Event()
        self.deliveries: list[tuple[int, dict[str, Any]]] = []
        self.errors: list[BaseException | str] = []
        self.threads: list[threading.Thread] = []

    def checkout_completed(self, session: dict[str, Any], subscription: dict[str, Any] | None) -> None:
        """The stand-in's ``on_checkout_completed``: queue the signed ``checkout.session.completed``."""
        assert subscription is not None and session["subscription"] == subscription["id"], session
        assert session["client_reference_id"], session
        event = make_event("checkout.session.completed", session)
        thread = threading.Thread(target=self._deliver, args=(event,), name="stripe-webhook", daemon=True)
        self.threads.append(thread)
        thread.start()

    def _deliver(self, event: dict[str, Any]) -> None:
        if not self.release.wait(RELEASE_TIMEOUT):
            self.errors.append(f"the test never released the webhook within {RELEASE_TIMEOUT:.0f} s")
            return
        assert self.live is not None
        body, headers = webhook_request(event, WEBHOOK_SECRET)
        try:
            with requests.Session() as http:
                http.trust_env = False  # loopback: never through a proxy from the environment
                answer = http.post(f"{self.live.url}/stripe/webhook", data=body, headers=headers, timeout=10)
            self.deliveries.append((answer.status_code, answer.json()))
        except Exception as error:  # noqa: BLE001 - kept for the test's teardown to report
            self.errors.append(error)

    def finish(self) -> None:
        """Let any held delivery go and wait for it (bounded)."""
        self.release.set()
        for thread in self.threads:
            thread.join(15)
            if thread.is_alive():
                self.errors.append("a webhook delivery did not finish within 15 s")


@pytest.fixture
def billing(tmp_path: Path) -> Iterator[Billing]:
    """The stand-in (it knows only the Pro price) and the live app pointed at it with the test plans."""
    prices = {PRO_PRICE: {"unit_amount": 500, "currency": "eur", "interval": "month"}}
    with StripeStandIn(SECRET_KEY, prices=prices) as standin:
        state = Billing(standin)
        standin.on_checkout_completed = state.checkout_completed
        overrides = {
            "APP": {"PLANS": PLANS},
            "SERVICES": {
                "stripe": {
                    "SECRET_KEY": SECRET_KEY,
                    "WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "API_BASE": standin.base_url,
                }
            },
        }
        with run_live_server(tmp_path, overrides) as live:
            state.live = live
            try:
                yield state
            finally:
                state.finish()
    assert not state.errors, state.errors
    assert not standin.server_errors, standin.server_errors
    assert not standin.callback_errors, standin.callback_errors


def add_link_refused(page: Page, title: str, url: str) -> str:
    """Try to add a link through the dashboard's form; it must be refused with a 403. Returns the message."""
    count = page.locator("#links .link-item").count()
    page.get_by_label("Title", exact=True).first.fill(title)
    page.get_by_label("URL", exact=True).first.fill(url)
    with page.expect_response(lambda response: response.url.endswith("/api/add/link")) as answer:
        page.get_by_role("button", name="Add", exact=True).click()
    assert answer.value.status == 403, answer.value.text()
    expect(page.locator("#form-error")).not_to_have_text("")
    expect(page.locator("#links .link-item")).to_have_count(count)
    return page.locator("#form-error").inner_text()


def test_upgrade_to_pro_through_checkout_raises_the_limits(
    billing: Billing,
    new_page: PageFactory,
    snapshot: Callable[[Page, str], Path | None],
) -> None:
    live = billing.live
    assert live is not None
    page = new_page()
    sign_up(page, live, USERNAME)

    # On the free plan: the links up to its limit, and one more is refused, naming the plan that lifts it.
    for number in range(1, FREE_LINKS + 1):
        add_link(page, f"Link {number}", f"{live.url}/?n={number}")
    message = add_link_refused(page, "One too many", f"{live.url}/?n=extra")
    assert "Gratis" in message and "Pro" in message, message
    page.goto(f"{live.url}/dashboard/products")
    expect(page.get_by_text(f"Your plan Gratis shows {FREE_PRODUCTS} products")).to_be_visible()

    # The subscriptions page: the plans, their limits and price, and the current plan.
    page.get_by_role("link", name="Plan", exact=True).click()
    expect(page).to_have_url(f"{live.url}/subscriptions")
    expect(page.locator("#current-plan")).to_have_text("Gratis")
    pro_card = page.locator('article.plan[data-plan="pro"]')
    expect(pro_card).to_contain_text(f"{PRO_LINKS} links")
    expect(pro_card).to_contain_text(f"{PRO_PRODUCTS} products")
    expect(pro_card).to_contain_text("5")  # the price, formatted for EUR in some locale
    snapshot(page, "subscriptions-free")

    # Upgrade → the stand-in's hosted checkout for the Pro price → Pay.
    page.get_by_role("button", name="Upgrade to Pro").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(billing.standin.base_url)}/checkout/cs_\w+$"))
    expect(page.get_by_role("heading", name="Stripe stand-in checkout")).to_be_visible()
    expect(page.get_by_text(f"{PRO_PRICE} × 1")).to_be_visible()
    snapshot(page, "checkout")
    page.get_by_role("button", name="Pay").click()

    # Back on the app before the webhook: the page says the payment is being confirmed.
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(live.url)}/subscriptions\?success=true&session_id=cs_\w+$")
    )
    expect(page.locator("#payment-pending")).to_contain_text("as soon as the payment provider confirms it")
    expect(page.locator("#current-plan")).to_have_text("Gratis")
    assert billing.deliveries == []
    page.evaluate("window.e2eBeforeWebhook = true")

    # Stripe's signed webhook arrives; the open page notices the new plan by itself.
    billing.release.set()
    expect(page.locator("#current-plan")).to_have_text("Pro", timeout=PLAN_CHANGE_WAIT_MS)
    assert billing.deliveries == [(200, {"status": "applied", "detail": "active → pro"})], billing.deliveries
    expect(page.get_by_role("status")).to_have_text("Your Pro plan is active.")
    expect(page.locator('article.plan[data-plan="pro"]')).to_contain_text("Current plan")
    gratis_card = page.locator('article.plan[data-plan="gratis"]')
    # Choosing Gratis ends the subscription with the period paid for: the link to its confirmation says so.
    expect(gratis_card.get_by_role("link")).to_have_text("Cancel subscription and switch to Gratis")
    expect(gratis_card).to_contain_text("you keep Pro until then")
    expect(page.get_by_role("button", name="Manage billing")).to_be_visible()
    snapshot(page, "subscriptions-pro")

    # Cancel, then change one's mind: plain forms, the plan kept throughout.
    gratis_card.get_by_role("link").click()
    expect(page.locator("#cancel-terms")).to_contain_text("You keep Pro until")
    page.get_by_role("button", name="Cancel at the end of the period").click()
    expect(page.locator("#plan-ending")).to_contain_text("Your Pro plan ends on")
    expect(page.locator("#plan-ending")).to_contain_text("and will not renew.")
    expect(page.locator("#current-plan")).to_have_text("Pro")
    page.get_by_role("button", name="Keep my subscription").click()
    expect(page.get_by_role("status")).to_have_text("Your Pro subscription goes on: it renews as before.")
    expect(page.locator("#plan-ending")).to_have_count(0)
    [subscription] = billing.standin.subscriptions()
    assert (subscription["status"], subscription["cancel_at_period_end"]) == ("active", False)

    # Manage billing is a plain form: it opens Stripe's billing portal with JavaScript off as with it on.
    no_script = new_page(java_script_enabled=False, storage_state=page.context.storage_state())
    no_script.goto(f"{live.url}/subscriptions")
    no_script.get_by_role("button", name="Manage billing").click()
    expect(no_script.get_by_role("heading", name="Stripe stand-in billing portal")).to_be_visible()
    page.get_by_role("button", name="Manage billing").click()
    expect(page.get_by_role("heading", name="Stripe stand-in billing portal")).to_be_visible()
    page.get_by_role("link", name="Return").click()
    expect(page).to_have_url(f"{live.url}/subscriptions")

    # What Stripe was asked: one customer, one subscription-mode session for this user and the Pro price.
    [customer_call] = billing.standin.requests_to("POST", "/v1/customers")
    assert customer_call.params["email"] == f"{USERNAME}@example.com"
    [session_call] = billing.standin.requests_to("POST", "/v1/checkout/sessions")
    assert session_call.params["mode"] == "subscription"
    assert session_call.params["line_items"] == [{"price": PRO_PRICE, "quantity": "1"}]
    [subscription] = billing.standin.subscriptions()
    assert subscription["status"] == "active"

    # The dashboard under Pro: the link the free plan refused is added now, and then some.
    page.get_by_role("link", name="Links", exact=True).click()
    expect(page.locator("#links .link-item")).to_have_count(FREE_LINKS)
    add_link(page, "One too many", f"{live.url}/?n=extra")
    add_link(page, "And another", f"{live.url}/?n=another")
    expect(page.locator("#links .link-item")).to_have_count(FREE_LINKS + 2)
    page.reload()
    expect(page.locator("#links .link-item")).to_have_count(FREE_LINKS + 2)
    page.goto(f"{live.url}/dashboard/products")
    expect(page.get_by_text(f"Your plan Pro shows {PRO_PRODUCTS} products")).to_be_visible()

    # Every link shows on the public page too: none is hidden by the old limit.
    visitor = new_page()
    visitor.goto(f"{live.url}/{USERNAME}")
    expect(visitor.locator("ul.links a.link")).to_have_count(FREE_LINKS + 2)


def test_without_javascript_a_plan_is_chosen_through_checkout_too(
    billing: Billing, new_page: PageFactory
) -> None:
    """The plans page's buttons are plain forms: with JavaScript off, Upgrade reaches the hosted checkout
    (its answer moves on by itself) and the page never says it needs JavaScript."""
    live = billing.live
    assert live is not None
    signed_in = new_page()
    sign_up(signed_in, live, "noa.nojs")
    page = new_page(java_script_enabled=False, storage_state=signed_in.context.storage_state())
    page.goto(f"{live.url}/subscriptions")
    expect(page.locator("#needs-javascript")).to_have_count(0)
    page.get_by_role("button", name="Upgrade to Pro").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(billing.standin.base_url)}/checkout/cs_\w+$"))
    expect(page.get_by_text(f"{PRO_PRICE} × 1")).to_be_visible()
