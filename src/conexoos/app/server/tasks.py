"""Scheduled work: insert the buffered views and clicks, fold analytics into rollups, prune raw events
past their retention, end past-due grace periods, ask Stripe about plan ends its webhook did not tell,
build and prune account exports, release held usernames, mail reset links, forget
expired sign-ups, publish scheduled site pages.

A task's controller is imported in its function, at the task's first run (the first runs wait for their
first slot, a few seconds after a worker starts), not with the worker: its first answer does not wait for
them (43 modules, 1.3 MiB and 22 ms of a worker's start). The write buffer's flush, which the page's
views need anyway, is the exception."""

from __future__ import annotations

import logging

from flask import current_app

from conexoos.app.controllers import event_buffer
from conexoos.framework.tasks import Scheduler

log = logging.getLogger("conexoos.analytics")
FLUSH_SECONDS = 1
"""How often the recorded views and clicks move from the write buffer to ``analytics_event``."""
RECONCILE_SECONDS = 600
"""How often Stripe is asked about subscriptions whose end passed without its webhook (see
``billing.reconcile_plan_ends``; none passed, no call)."""
RECONCILE_BACKOFF = 900.0
"""While Stripe is down (or refuses the key) the ``billing-plan-ends`` task backs off up to this long, not
the scheduler's minute: a Stripe outage of hours costs a call and a line every 15 minutes (the repeats at
WARNING, only the 2nd, 4th, 8th, ... in a row), and an end is applied within 15 minutes of its return."""
FLUSH_BACKOFF = 5.0
"""While the database is down the flush fails and backs off, at most this long: the waiting clicks reach
the database within seconds of its return, not the scheduler's default minute."""


class Schedule:
    """Registers the product's tasks (each runs once per cluster)."""

    def __init__(self, scheduler: Scheduler) -> None:
        scheduler.every(
            FLUSH_SECONDS, flush_analytics_buffer, name="analytics-buffer-flush", backoff_max=FLUSH_BACKOFF
        )
        scheduler.every(15, roll_up_analytics, name="analytics-rollup")
        scheduler.every(3600, prune_analytics, name="analytics-prune")
        scheduler.every(3600, end_grace_periods, name="billing-grace")
        scheduler.every(
            RECONCILE_SECONDS,
            reconcile_plan_ends,
            name="billing-plan-ends",
            backoff_max=RECONCILE_BACKOFF,
            quiet_repeats=True,
        )
        scheduler.every(10, build_account_exports, name="account-export")
        scheduler.every(600, prune_account_exports, name="account-export-prune")
        scheduler.every(3600, release_held_usernames, name="username-hold-prune")
        scheduler.every(60, publish_due_site_pages, name="site-pages-publish")
        scheduler.every(3, answer_reset_requests, name="password-reset-requests")
        scheduler.every(3600, prune_pending_signups, name="pending-signup-prune")


def flush_analytics_buffer() -> None:
    """Insert the views and clicks waiting in the write buffer (see controllers/event_buffer)."""
    event_buffer.flush()


def roll_up_analytics() -> None:
    """Fold pending raw events into the rollups. Another roll-up folding the same batch first (two hosts,
    or two released together) is no failure: it goes on with the events, so one INFO line says so."""
    from conexoos.app.controllers import rollups

    try:
        rollups.roll_up()
    except rollups.ConcurrentRollUp:
        log.info("analytics roll-up: another roll-up folded this batch first; it goes on with the rest")


def prune_analytics() -> None:
    """Delete rolled-up raw events older than APP.ANALYTICS.RETENTION_DAYS."""
    from conexoos.app.controllers import rollups

    rollups.prune(current_app.config["CONEXOOS_ANALYTICS"].retention_days)


def end_grace_periods() -> None:
    """Move past-due subscribers whose grace period is over to gratis."""
    from conexoos.app.controllers import billing

    billing.end_expired_grace_periods()


def reconcile_plan_ends() -> None:
    """Apply what Stripe has for subscriptions whose end passed without its webhook."""
    from conexoos.app.controllers import billing

    billing.reconcile_plan_ends()


def build_account_exports() -> None:
    """Build the account exports waiting in ``export_job``."""
    from conexoos.app.controllers import account_export

    account_export.build_pending()


def prune_account_exports() -> None:
    """Delete the export zips (and rows) whose download link has expired."""
    from conexoos.app.controllers import account_export

    account_export.prune_expired()


def release_held_usernames() -> None:
    """Forget the username holds that have run out."""
    from conexoos.app.controllers import username_holds

    username_holds.prune()


def answer_reset_requests() -> None:
    """Mail the reset links asked for since the last run (see ``controllers/password_reset``)."""
    from conexoos.app.controllers import password_reset

    password_reset.answer_requests()


def publish_due_site_pages() -> int:
    """Publish the site pages whose scheduled time has come; how many."""
    from conexoos.app.controllers import site_pages

    return site_pages.publish_due()


def prune_pending_signups() -> None:
    """Delete the sign-ups whose confirmation link has expired (their usernames are free again)."""
    from conexoos.app.controllers import pending_signups

    pending_signups.prune()
