"""The ``billing-plan-ends`` task: a subscription set to end whose ``customer.subscription.deleted`` never
came (a webhook endpoint misconfigured, an event lost) is asked for at Stripe once its end has passed, and
what Stripe has is applied by the webhooks' rules; without Stripe's word nothing ends, and a run that could
not ask Stripe is the task's failure."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers import billing
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.server import tasks
from conexoos.framework import db
from conexoos.framework.task_status import TaskStatus
from conexoos.framework.tasks import FileSlotLock, Scheduler, ServiceFault
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from ..billing_support import (
    billing_app,
    billing_state,
    checkout,
    deliver,
    period_end,
    stripe_ends_period,
    subscribe_to_pro,
)
from ..conftest import Account, sign_up

pytestmark = pytest.mark.database_matrix

TASK = "billing-plan-ends"


def cancel_at_period_end(client: FlaskClient, account: Account, standin: StripeStandIn) -> str:
    """Subscribe to Pro, then cancel it at the end of the period; the subscription's id."""
    subscription = subscribe_to_pro(client, account, standin)
    assert checkout(account, "gratis").status_code == 200
    assert billing_state(account.client.application, account.id).plan_ends_at is not None
    return str(subscription["id"])


def end_passed(app: Flask, user_id: int, ago: timedelta) -> None:
    """Pretend the stored end of the user's subscription was ``ago`` before now."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.plan_ends_at = utcnow() - ago
        db.session.commit()


def stored_as_ending_pro(app: Flask, user_id: int, customer_id: str, subscription_id: str) -> None:
    """The account stored on Pro with a subscription Stripe's stand-in never made, its end an hour past."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.subscription_plan, user.subscription_status = "pro", "active"
        user.stripe_customer_id, user.stripe_subscription_id = customer_id, subscription_id
        db.session.commit()
    end_passed(app, user_id, timedelta(hours=1))


def run_task(app: Flask) -> None:
    """Run the task's function as the scheduler does."""
    with app.app_context():
        app.extensions["conexoos"].scheduler.tasks[TASK].function()


def scheduled(app: Flask, slots: Path) -> Scheduler:
    """A scheduler of one host holding the task alone, its first look taken: due at RECONCILE_SECONDS."""
    scheduler = Scheduler(app, FileSlotLock(slots))
    tasks.Schedule(scheduler)
    scheduler.tasks = {TASK: scheduler.tasks[TASK]}  # the other tasks have tests of their own
    scheduler.run_pending(now=0.0)  # the first look sets the baseline
    return scheduler


def task_status(scheduler: Scheduler) -> TaskStatus:
    [status] = scheduler.statuses(float(tasks.RECONCILE_SECONDS))
    return status


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Every ERROR record, whichever logger wrote it."""
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def asked(standin: StripeStandIn, subscription_id: str) -> int:
    return len(standin.requests_to("GET", f"/v1/subscriptions/{subscription_id}"))


def billing_log(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "conexoos.billing" and record.levelno == level
    ]


def warning_of_a_run_that_changes_nothing(app: Flask, user_id: int, caplog: pytest.LogCaptureFixture) -> str:
    """Run the task, which must leave the user's billing state as it was and log one warning; that warning."""
    before = billing_state(app, user_id)
    with caplog.at_level(logging.WARNING, logger="conexoos.billing"):
        run_task(app)
    assert billing_state(app, user_id) == before
    [logged] = billing_log(caplog, logging.WARNING)
    return logged


def test_an_end_whose_webhook_never_came_moves_the_account_to_gratis_on_stripes_word(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription_id = cancel_at_period_end(client, alice, standin)
    standin.set_subscription_status(subscription_id, "canceled")  # the period ended; the webhook is lost
    end_passed(app, alice.id, timedelta(hours=1))
    run_task(app)
    state = billing_state(app, alice.id)
    assert state.plan_and_ends() == ("gratis", "canceled", None, None)
    assert ">Keep my subscription</button>" not in alice.client.get("/subscriptions").get_data(as_text=True)
    late = stripe_ends_period(standin, subscription_id, int(time.time()) + 1)
    assert deliver(client, late)["status"] == "ignored"  # the same rules: it already ended
    assert billing_state(app, alice.id) == state


def test_a_subscription_kept_in_stripes_portal_without_its_webhook_keeps_its_plan_with_stripes_dates(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription_id = cancel_at_period_end(client, alice, standin)
    kept = standin.set_cancel_at_period_end(subscription_id, False)  # its webhook never came
    end_passed(app, alice.id, timedelta(hours=1))
    run_task(app)
    assert billing_state(app, alice.id).plan_and_ends() == ("pro", "active", None, period_end(kept))


def test_an_end_to_come_or_within_the_grace_is_not_asked_about(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn
) -> None:
    subscription_id = cancel_at_period_end(client, alice, standin)
    calls = asked(standin, subscription_id)
    run_task(app)  # the end is a month away
    end_passed(app, alice.id, billing.RECONCILE_GRACE - timedelta(minutes=5))
    run_task(app)  # the webhook may still come
    assert asked(standin, subscription_id) == calls
    assert billing_state(app, alice.id).plan == "pro"


def test_when_stripe_fails_nothing_changes_the_run_fails_in_one_line_and_its_retry_applies(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    bob: Account,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """The run is the task's failure (``conexoos tasks status``), said in the scheduler's one line without
    a traceback; the scheduler runs it again after its back-off."""
    first = cancel_at_period_end(client, alice, standin)
    second = cancel_at_period_end(client, bob, standin)
    for subscription_id in (first, second):
        standin.set_subscription_status(subscription_id, "canceled")
    end_passed(app, alice.id, timedelta(hours=2))  # asked first
    end_passed(app, bob.id, timedelta(hours=1))
    before = (billing_state(app, alice.id), billing_state(app, bob.id))
    scheduler = scheduled(app, tmp_path / "slots")
    standin.fail_next("GET", f"/v1/subscriptions/{first}", status=500)
    calls = asked(standin, second)
    with caplog.at_level(logging.INFO):
        assert scheduler.run_pending(now=float(tasks.RECONCILE_SECONDS)) == [TASK]
    assert (billing_state(app, alice.id), billing_state(app, bob.id)) == before
    assert asked(standin, second) == calls  # a Stripe that fails is not asked again in the same run
    [logged] = failure_lines(caplog)
    message = logged.getMessage()
    assert (logged.name, logged.exc_info) == ("conexoos.tasks", None), message
    assert "2 subscription(s)" in message and first in message and "caused by APIError" in message, message
    status = task_status(scheduler)
    assert (status.last_success, status.failures) == (None, 1)
    assert status.last_failure is not None and "2 subscription(s)" in status.last_error
    scheduler.run_pending(now=tasks.RECONCILE_SECONDS + 1.0)  # after the back-off, in the same slot
    assert [billing_state(app, user_id).plan for user_id in (alice.id, bob.id)] == ["gratis", "gratis"]
    status = task_status(scheduler)
    assert status.last_success is not None and status.failures == 0


def test_when_stripe_cannot_be_reached_nothing_ends_and_it_is_said_once(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    bob: Account,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for account in (alice, bob):
        cancel_at_period_end(client, account, standin)
        end_passed(app, account.id, timedelta(hours=1))
    before = (billing_state(app, alice.id), billing_state(app, bob.id))
    standin.stop()  # connections are refused from now on
    expected = pytest.raises(ServiceFault, match=r"2 subscription\(s\).*runs again")
    with caplog.at_level(logging.INFO, logger="conexoos.billing"), expected as failed:
        run_task(app)
    assert isinstance(failed.value.__cause__, stripe.APIConnectionError)
    assert (billing_state(app, alice.id), billing_state(app, bob.id)) == before
    assert billing_log(caplog, logging.WARNING) == billing_log(caplog, logging.ERROR) == []


def test_a_key_stripe_refuses_is_said_not_to_mend_by_trying_again(
    make_app: AppFactory, standin: StripeStandIn
) -> None:
    app = billing_app(make_app, standin, secret_key="sk_test_another_account")
    alice = sign_up(app, "alice")
    stored_as_ending_pro(app, alice.id, "cus_x", "sub_x")
    before = billing_state(app, alice.id)
    with pytest.raises(ServiceFault, match="HTTP 401.*trying again will not help.*SECRET_KEY"):
        run_task(app)
    assert billing_state(app, alice.id) == before


def test_a_subscription_stripe_does_not_know_keeps_its_plan(
    app: Flask, alice: Account, standin: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """A key of another Stripe account would say so of every subscription: no plan ends on that."""
    stored_as_ending_pro(app, alice.id, "cus_elsewhere", "sub_elsewhere")
    logged = warning_of_a_run_that_changes_nothing(app, alice.id, caplog)
    assert "sub_elsewhere" in logged and "does not know it" in logged, logged


def test_without_stripe_keys_nothing_ends_and_the_run_is_the_tasks_failure(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """Subscriptions to reconcile and no key to ask Stripe with: the task cannot do its work, so its status
    says it failed (``conexoos tasks status``, the health check), not that it succeeded."""
    app = billing_app(make_app, None)
    alice = sign_up(app, "alice")
    stored_as_ending_pro(app, alice.id, "cus_x", "sub_x")
    before = billing_state(app, alice.id)
    with pytest.raises(
        ServiceFault, match=r"1 subscription\(s\).*SERVICES\.stripe\.SECRET_KEY.*will not help"
    ):
        run_task(app)
    assert billing_state(app, alice.id) == before
    scheduler = scheduled(app, tmp_path / "slots")
    assert scheduler.run_pending(now=float(tasks.RECONCILE_SECONDS)) == [TASK]
    status = task_status(scheduler)
    assert (status.last_success, status.failures) == (None, 1)
    assert "SECRET_KEY" in status.last_error


def test_the_task_runs_once_a_slot_whichever_host_claims_it(
    app: Flask, client: FlaskClient, alice: Account, standin: StripeStandIn, tmp_path: Path
) -> None:
    subscription_id = cancel_at_period_end(client, alice, standin)
    standin.set_subscription_status(subscription_id, "canceled")
    end_passed(app, alice.id, timedelta(hours=1))
    registered = app.extensions["conexoos"].scheduler.tasks[TASK]
    assert registered.interval == tasks.RECONCILE_SECONDS
    hosts = [scheduled(app, tmp_path / "slots") for _ in range(2)]
    calls = asked(standin, subscription_id)
    ran = [TASK in scheduler.run_pending(now=float(tasks.RECONCILE_SECONDS)) for scheduler in hosts]
    assert sorted(ran) == [False, True]
    assert asked(standin, subscription_id) == calls + 1
    assert billing_state(app, alice.id).plan == "gratis"


def test_while_stripe_stays_down_the_task_backs_off_to_15_minutes_and_logs_few_lines(
    app: Flask,
    client: FlaskClient,
    alice: Account,
    standin: StripeStandIn,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Not a call and an ERROR line a minute: the back-off doubles up to 15 minutes, the first failure is
    an ERROR, the 2nd, 4th, 8th ... a WARNING, and the task's status counts each failure (FAILING)."""
    subscription_id = cancel_at_period_end(client, alice, standin)
    standin.set_subscription_status(subscription_id, "canceled")
    end_passed(app, alice.id, timedelta(hours=1))
    scheduler = scheduled(app, tmp_path / "slots")
    failing = 12
    for _ in range(failing):
        standin.fail_next("GET", f"/v1/subscriptions/{subscription_id}", status=503)
    calls: list[float] = []
    before = asked(standin, subscription_id)
    start = float(tasks.RECONCILE_SECONDS)
    with caplog.at_level(logging.DEBUG, logger="conexoos.tasks"):
        for now in (start + second for second in range(3 * 3600)):
            if scheduler.run_pending(now=now):
                calls.append(now)
            if len(calls) == failing:
                break
        status = scheduler.statuses(now)[0]
        assert (status.failures, status.failing, status.last_success) == (failing, True, None)
        assert billing_state(app, alice.id).plan == "pro"
        scheduler.run_pending(now=scheduler.tasks[TASK].retry_at)  # Stripe is back
    gaps = [round(b - a) for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900], gaps
    assert asked(standin, subscription_id) - before == failing + 1  # one call a run
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "conexoos.tasks"]
    assert [level for level, _ in logged if level >= logging.WARNING] == [logging.ERROR] + [
        logging.WARNING
    ] * 3
    assert logged[-1][0] == logging.INFO and "succeeded again, after 12 failures in a row" in logged[-1][1]
    assert billing_state(app, alice.id).plan == "gratis"
