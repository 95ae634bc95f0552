""" "Forgot password" does the same work whatever the login names: the request stores one row, and a task
finds the account, applies the per-account cap and queues the mail. Measured by the SQL each request runs
(never by time), on SQLite here and on PostgreSQL and MariaDB by CI (``database_matrix``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from conexoos.app.models.persistent import ResetRequest
from conexoos.app.server import tasks
from conexoos.framework import db
from tests.conftest import AppFactory
from tests.support.smtp_server import SmtpServer

from .conftest import product_app, sign_up
from .test_mail_flows import ask_reset, link_in, mail_to

pytestmark = pytest.mark.database_matrix


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements (text, without parameters) run while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_known_and_unknown_logins_run_the_same_statements(mail_app: Flask, smtp_server: SmtpServer) -> None:
    account = sign_up(mail_app, "known")
    mail_to(mail_app, smtp_server, account.email)  # the sign-up's own mail, out of the way
    ask_reset(mail_app, "warm-up")  # first-request work (caches) out of the comparison
    mail_to(mail_app, smtp_server, account.email)  # the warm-up request answered: nothing for anyone
    seen = {}
    for login in ("known", "nobody", "known@example.com", "nobody@example.com"):
        with statements(mail_app) as run:
            assert ask_reset(mail_app, login).status_code == 302
        seen[login] = run
    assert any(statement.startswith("INSERT INTO reset_request") for statement in seen["known"])
    assert seen["known"] == seen["nobody"] == seen["known@example.com"] == seen["nobody@example.com"]
    assert not any("outbox" in statement.lower() for run in seen.values() for statement in run)
    assert rows(mail_app, ResetRequest) == 4

    with mail_app.app_context():
        tasks.answer_reset_requests()  # what the scheduler runs every few seconds
    assert rows(mail_app, ResetRequest) == 0
    first, second = mail_to(mail_app, smtp_server, account.email, count=3)[1:]
    assert link_in(first).startswith("/password/reset/") and link_in(second).startswith("/password/reset/")
    assert "from the network 127.0.0.0/24" in first.part("plain")


def test_the_per_account_cap_is_applied_by_the_task(make_app: AppFactory, smtp_server: SmtpServer) -> None:
    app = product_app(
        make_app,
        {"SERVICES": {"smtp": smtp_server.settings()}, "FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True}}},
    )
    account = sign_up(app, "capped")
    for _ in range(4):  # within the per-IP limits (5/minute), one past the per-account cap (3/hour)
        assert ask_reset(app, "capped").status_code == 302
    assert rows(app, ResetRequest) == 4
    resets = [
        m for m in mail_to(app, smtp_server, account.email, count=4) if "/password/reset/" in m.part("plain")
    ]
    assert len(resets) == 3
    assert rows(app, ResetRequest) == 0
