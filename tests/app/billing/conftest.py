"""Fixtures of the billing and plan tests: the product with the test plans, Stripe at a local stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from ..billing_support import billing_app, running_standin, start_paid_checkout
from ..conftest import Account


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    """A Stripe stand-in on a free local port for the test."""
    with running_standin() as server:
        yield server


@pytest.fixture
def app(make_app: AppFactory, standin: StripeStandIn) -> Flask:
    """The product with the test plans, Stripe pointed at the stand-in."""
    return billing_app(make_app, standin)


@pytest.fixture
def customer(alice: Account, standin: StripeStandIn) -> str:
    """Alice's Stripe customer, created by starting a Pro checkout she did not pay."""
    return str(start_paid_checkout(alice, standin)["customer"])
