"""Scheduled work: fold analytics into rollups, and prune raw events past their retention."""

from __future__ import annotations

from flask import current_app

from conexoos.app.controllers import billing, rollups
from conexoos.framework.tasks import Scheduler


class Schedule:
    """Registers the product's tasks (each runs once per cluster)."""

    def __init__(self, scheduler: Scheduler) -> None:
        scheduler.every(15, roll_up_analytics, name="analytics-rollup")
        scheduler.every(3600, prune_analytics, name="analytics-prune")
        scheduler.every(3600, end_grace_periods, name="billing-grace")


def roll_up_analytics() -> None:
    """Fold pending raw events into the rollups."""
    rollups.roll_up()


def prune_analytics() -> None:
    """Delete rolled-up raw events older than APP.ANALYTICS.RETENTION_DAYS."""
    rollups.prune(current_app.config["CONEXOOS_ANALYTICS"].retention_days)


def end_grace_periods() -> None:
    """Move past-due subscribers whose grace period is over to gratis."""
    billing.end_expired_grace_periods()
