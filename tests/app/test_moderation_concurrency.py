"""Two staff acting on one report at once: exactly one closes it (one audit row, one mail), the others get
a 409 with nothing done. Real requests from 8 threads released together (``database_matrix``)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from conexoos.app.models.persistent import AuditEntry
from conexoos.framework import db
from tests.app.staff_support import make_staff

from .conftest import Account, SignUp
from .test_moderation import file, outbox, report
from .test_plan_limits_concurrency import app, clone  # noqa: F401  (the pooled app fixture)

pytestmark = pytest.mark.database_matrix

PARALLEL = 8


def test_parallel_dismissals_close_a_report_once(app: Flask, alice: Account, signed_up: SignUp) -> None:  # noqa: F811
    moddy = make_staff(app, signed_up("moddy"), "moderator")
    report_id = file(alice, app, email="visitor@example.com")
    clients = [clone(moddy, app) for _ in range(PARALLEL)]
    barrier = threading.Barrier(PARALLEL)

    def run(number: int) -> int:
        barrier.wait(timeout=30)
        url = f"/admin/reports/{report_id}/dismiss"
        return clients[number].post(url, data={"csrf_token": moddy.csrf}).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = sorted(pool.map(run, range(PARALLEL)))
    assert statuses == [302] + [409] * (PARALLEL - 1)
    assert report(app, report_id).status == "dismissed"
    with app.app_context():
        dismissals = db.session.scalar(select(func.count()).where(AuditEntry.action == "report.dismissed"))
    assert dismissals == 1
    assert outbox(app) == ["visitor@example.com"]
