"""Scheduled work: insert the buffered views and clicks, fold analytics into rollups, prune raw events
past their retention, build and prune account exports, release held usernames, mail reset links, forget
expired sign-ups, publish scheduled site pages.

A task's controller is imported at the task's first run (the first runs wait for their first slot, a few
seconds after a worker starts), not with the worker: its first answer does not wait for them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import current_app

from conexoos.app.controllers import event_buffer
from conexoos.framework.lazy import lazy_module
from conexoos.framework.tasks import Scheduler

if TYPE_CHECKING:
    from conexoos.app.controllers import (
        account_export,
        billing,
        password_reset,
        pending_signups,
        rollups,
        site_pages,
        username_holds,
    )
else:  # imported at their task's first run (43 modules, 1.3 MiB and 22 ms of a worker's start)
    account_export = lazy_module("conexoos.app.controllers.account_export")
    billing = lazy_module("conexoos.app.controllers.billing")
    password_reset = lazy_module("conexoos.app.controllers.password_reset")
    pending_signups = lazy_module("conexoos.app.controllers.pending_signups")
    rollups = lazy_module("conexoos.app.controllers.rollups")
    site_pages = lazy_module("conexoos.app.controllers.site_pages")
    username_holds = lazy_module("conexoos.app.controllers.username_holds")

log = logging.getLogger("conexoos.analytics")
FLUSH_SECONDS = 1
"""How often the recorded views and clicks move from the write buffer to ``analytics_event``."""
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
    try:
        rollups.roll_up()
    except rollups.ConcurrentRollUp:
        log.info("analytics roll-up: another roll-up folded this batch first; it goes on with the rest")


def prune_analytics() -> None:
    """Delete rolled-up raw events older than APP.ANALYTICS.RETENTION_DAYS."""
    rollups.prune(current_app.config["CONEXOOS_ANALYTICS"].retention_days)


def end_grace_periods() -> None:
    """Move past-due subscribers whose grace period is over to gratis."""
    billing.end_expired_grace_periods()


def build_account_exports() -> None:
    """Build the account exports waiting in ``export_job``."""
    account_export.build_pending()


def prune_account_exports() -> None:
    """Delete the export zips (and rows) whose download link has expired."""
    account_export.prune_expired()


def release_held_usernames() -> None:
    """Forget the username holds that have run out."""
    username_holds.prune()


def answer_reset_requests() -> None:
    """Mail the reset links asked for since the last run (see ``controllers/password_reset``)."""
    password_reset.answer_requests()


def publish_due_site_pages() -> int:
    """Publish the site pages whose scheduled time has come; how many."""
    return site_pages.publish_due()


def prune_pending_signups() -> None:
    """Delete the sign-ups whose confirmation link has expired (their usernames are free again)."""
    pending_signups.prune()
