"""Plan limits: enforced on the server, lifted by a paid plan, and a downgrade hides without deleting."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.stripe_standin import StripeStandIn

from ..billing_support import (
    GRATIS_LIMITS,
    PRO_LIMITS,
    billing_state,
    deliver,
    stripe_sets_status,
    subscribe_to_pro,
    visit,
)
from ..conftest import Account

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

BOOK = {"title": "Book", "price": 900, "currency": "EUR", "buy_url": "https://shop.example/book"}


def add(account: Account, kind: str, number: int) -> dict[str, Any]:
    """Add link or product ``number``; returns the API answer's JSON (201 expected)."""
    if kind == "links":
        body = {"title": f"Link {number}", "url": f"https://example.com/{number}"}
        response = account.api("POST", "/api/add/link", body)
    else:
        response = account.api("POST", "/api/add/product", {**BOOK, "title": f"Product {number}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def listed(account: Account, kind: str) -> list[dict[str, Any]]:
    response = account.api("GET", f"/api/{kind}")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def assert_plan_limit(response: Any, naming: str | None) -> str:
    """A 403 JSON error with code ``plan_limit`` whose message names the plan that lifts the limit."""
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "plan_limit"
    if naming is not None:
        assert naming in error["message"], error["message"]
    return str(error["message"])


# ---------------------------------------------------------------- limits on adding


@pytest.mark.parametrize(
    ("kind", "path", "key"),
    [
        ("links", "/api/add/link", "MAX_LINKS"),
        ("products", "/api/add/product", "MAX_PRODUCTS"),
    ],
)
def test_an_add_over_the_free_limit_is_403_naming_the_plan_that_lifts_it(
    alice: Account, kind: str, path: str, key: str
) -> None:
    limit = GRATIS_LIMITS[key]
    created = [add(alice, kind, n) for n in range(limit)]
    body = {"title": "One more", "url": "https://example.com/more"} if kind == "links" else BOOK
    message = assert_plan_limit(alice.api("POST", path, body), naming="Pro")
    assert "Gratis" in message and str(limit) in message
    assert listed(alice, kind) == created  # nothing was added

    # Deleting one makes room again: the limit counts what exists, not what was ever added.
    singular = kind[:-1]
    assert alice.api("DELETE", f"/api/delete/{singular}/{created[0]['id']}").status_code == 204
    add(alice, kind, limit)
    assert_plan_limit(alice.api("POST", path, body), naming="Pro")


def test_disabled_items_count_towards_the_limit(alice: Account) -> None:
    for number in range(GRATIS_LIMITS["MAX_PRODUCTS"]):
        response = alice.api("POST", "/api/add/product", {**BOOK, "title": f"P{number}", "enabled": False})
        assert response.status_code == 201
    assert_plan_limit(alice.api("POST", "/api/add/product", BOOK), naming="Pro")


def test_limits_are_per_user(alice: Account, bob: Account) -> None:
    for number in range(GRATIS_LIMITS["MAX_LINKS"]):
        add(alice, "links", number)
    add(bob, "links", 0)
    assert len(listed(bob, "links")) == 1


def test_pro_raises_the_limits(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    for number in range(GRATIS_LIMITS["MAX_LINKS"]):
        add(alice, "links", number)
    subscribe_to_pro(client, alice, standin)
    assert billing_state(app, alice.id).plan == "pro"
    for number in range(GRATIS_LIMITS["MAX_LINKS"], PRO_LIMITS["MAX_LINKS"]):
        add(alice, "links", number)
    for number in range(GRATIS_LIMITS["MAX_PRODUCTS"] + 1):
        add(alice, "products", number)
    # At the top plan there is nothing to upgrade to: the message says what to do instead.
    message = assert_plan_limit(
        alice.api("POST", "/api/add/link", {"title": "x", "url": "https://x.example/"}), naming="Pro"
    )
    assert "Upgrade" not in message


# ---------------------------------------------------------------- statistics history


def stats_from(account: Account, days_ago: int) -> Any:
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=days_ago)).isoformat()
    return account.api("GET", f"/api/stats?from={start}&to={today.isoformat()}&tz=UTC")


def test_statistics_older_than_the_plans_history_are_403(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    free_days = GRATIS_LIMITS["HISTORY_DAYS"]
    assert stats_from(alice, free_days - 1).status_code == 200
    assert_plan_limit(stats_from(alice, free_days), naming="Pro")
    assert_plan_limit(stats_from(alice, free_days + 100), naming="Pro")

    subscribe_to_pro(client, alice, standin)
    assert stats_from(alice, free_days + 100).status_code == 200
    assert stats_from(alice, PRO_LIMITS["HISTORY_DAYS"] - 1).status_code == 200
    assert_plan_limit(stats_from(alice, PRO_LIMITS["HISTORY_DAYS"]), naming=None)


# ---------------------------------------------------------------- a downgrade hides, never deletes


def test_a_downgrade_hides_items_over_the_limit_and_an_upgrade_brings_them_back(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    started = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=started)
    links = [add(alice, "links", n) for n in range(GRATIS_LIMITS["MAX_LINKS"] + 2)]
    items = [add(alice, "products", n) for n in range(GRATIS_LIMITS["MAX_PRODUCTS"] + 1)]
    visitor = app.test_client()
    assert all(visit(visitor, f"/go/{link['id']}").status_code == 302 for link in links)
    assert all(visit(visitor, f"/go/product/{item['id']}").status_code == 302 for item in items)

    cancel = stripe_sets_status(
        standin, subscription["id"], "canceled", started + 10, "customer.subscription.deleted"
    )
    assert deliver(client, cancel)["status"] == "applied"
    assert billing_state(app, alice.id).plan == "gratis"

    shown_links, hidden_links = links[: GRATIS_LIMITS["MAX_LINKS"]], links[GRATIS_LIMITS["MAX_LINKS"] :]
    shown_items, hidden_items = items[: GRATIS_LIMITS["MAX_PRODUCTS"]], items[GRATIS_LIMITS["MAX_PRODUCTS"] :]
    page = visit(visitor, "/alice").get_data(as_text=True)
    for link in shown_links:
        assert f'href="/go/{link["id"]}"' in page
        assert visit(visitor, f"/go/{link['id']}").status_code == 302
    for link in hidden_links:
        assert link["title"] not in page
        assert visit(visitor, f"/go/{link['id']}").status_code == 404
    for item in shown_items:
        assert f'href="/go/product/{item["id"]}"' in page
    for item in hidden_items:
        assert item["title"] not in page
        assert visit(visitor, f"/go/product/{item['id']}").status_code == 404

    # Nothing was deleted: the owner still has everything, and may still edit a hidden item.
    assert listed(alice, "links") == links
    assert listed(alice, "products") == items
    assert (
        alice.api("PUT", f"/api/edit/link/{hidden_links[0]['id']}", {"title": "Still mine"}).status_code
        == 200
    )
    assert_plan_limit(alice.api("POST", "/api/add/link", {"title": "x", "url": "https://x.example/"}), "Pro")

    subscribe_to_pro(client, alice, standin)  # a canceled subscription never comes back: a new one
    page = visit(visitor, "/alice").get_data(as_text=True)
    assert "Still mine" in page
    assert all(f'href="/go/product/{item["id"]}"' in page for item in items)
    assert all(visit(visitor, f"/go/{link['id']}").status_code == 302 for link in links)
    assert all(visit(visitor, f"/go/product/{item['id']}").status_code == 302 for item in items)


def test_after_a_downgrade_the_page_order_decides_what_stays_visible(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    started = int(time.time())
    subscription = subscribe_to_pro(client, alice, standin, created=started)
    links = [add(alice, "links", n) for n in range(GRATIS_LIMITS["MAX_LINKS"] + 1)]
    deliver(client, stripe_sets_status(standin, subscription["id"], "canceled", started + 10))
    last = links[-1]
    assert visit(app.test_client(), f"/go/{last['id']}").status_code == 404
    ids = [last["id"], *(link["id"] for link in links[:-1])]
    assert alice.api("POST", "/api/links/reorder", {"ids": ids}).status_code == 200
    assert visit(app.test_client(), f"/go/{last['id']}").status_code == 302
    assert visit(app.test_client(), f"/go/{links[-2]['id']}").status_code == 404
