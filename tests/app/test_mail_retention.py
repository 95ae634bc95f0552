"""The outbox keeps no more than it must: a sent message loses its body at once and its row after
``SERVICES.smtp.KEEP_SENT_DAYS``, a failed one after ``KEEP_FAILED_DAYS`` (the ``mail-outbox-prune``
task); deleting an account deletes what was sent or failed to its address, and keeps what is still to go."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from conexoos.app.controllers.mail import queue_mail
from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.errors import ConfigError
from conexoos.framework.mail import OutboxMessage, deliver_due
from conexoos.framework.mail.outbox import utcnow
from tests.conftest import AppFactory
from tests.support.smtp_server import SmtpServer

from .conftest import PASSWORD, product_app, sign_up
from .leaving_support import delete_account

pytestmark = pytest.mark.database_matrix
DAY = timedelta(days=1)


def outbox(app: Flask) -> list[tuple[str, str, str]]:
    """(recipient, status, subject) of every row, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.subject).order_by(
                OutboxMessage.id
            )
        ).all()
    return [(recipient, status, subject) for recipient, status, subject in rows]


def queue_to(app: Flask, address: str, link: str) -> None:
    """Queue a password-reset mail to ``address`` (for a user only in memory) and commit."""
    with app.app_context():
        user = User(username="reader", email=address, password_hash="x")
        queue_mail(address, "password_reset", user=user, link=link)
        db.session.commit()


def deliver(app: Flask) -> None:
    with app.app_context():
        deliver_due()


def age(app: Flask, ids: list[int], **times: timedelta) -> None:
    """Move the rows ``ids`` back in time: e.g. ``sent_at=8 * DAY`` means sent eight days ago."""
    now = utcnow()
    with app.app_context():
        values = {column: now - back for column, back in times.items()}
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))
        db.session.commit()


def ids_by_status(app: Flask) -> dict[str, list[int]]:
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.status).order_by(OutboxMessage.id))
        found: dict[str, list[int]] = {}
        for number, status in rows:
            found.setdefault(status, []).append(number)
    return found


def prune(app: Flask) -> int:
    """Run the ``mail-outbox-prune`` task's function as the scheduler does."""
    task = app.extensions["conexoos"].scheduler.tasks["mail-outbox-prune"]
    with app.app_context():
        return int(task.function())


def test_a_sent_message_keeps_no_body_and_a_failed_one_keeps_it_for_retry(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 No such user here"
    queue_to(mail_app, "here@example.com", "http://localhost/password/reset/secret-here")
    queue_to(mail_app, "gone@example.com", "http://localhost/password/reset/secret-gone")
    deliver(mail_app)
    assert "secret-here" in smtp_server.wait_for(1)[0].part("plain")  # sent whole...
    with mail_app.app_context():
        sent, failed = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert (sent.status, sent.recipient) == ("sent", "here@example.com")
        assert sent.subject == "Set a new password for Conexoos"
        assert sent.message == "" and sent.sent_at is not None  # ...and not kept once sent
        assert failed.status == "failed" and "secret-gone" in failed.message  # `mail retry` sends it again


def test_the_prune_task_deletes_old_sent_and_failed_messages_only(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 No such user here"
    for number in range(2):
        queue_to(mail_app, "here@example.com", f"http://localhost/r/{number}")
        queue_to(mail_app, "gone@example.com", f"http://localhost/r/{number}")
    deliver(mail_app)
    queue_to(mail_app, "later@example.com", "http://localhost/r/later")  # waits: never pruned
    by_status = ids_by_status(mail_app)
    old_sent, new_sent = by_status["sent"]
    old_failed, new_failed = by_status["failed"]
    [waiting] = by_status["queued"]
    age(mail_app, [old_sent], sent_at=8 * DAY)
    age(mail_app, [new_sent], sent_at=6 * DAY)
    age(mail_app, [old_failed], created_at=31 * DAY)
    age(mail_app, [new_failed], created_at=29 * DAY)
    age(mail_app, [waiting], created_at=90 * DAY, next_attempt_at=90 * DAY)
    assert prune(mail_app) == 2
    assert ids_by_status(mail_app) == {"sent": [new_sent], "failed": [new_failed], "queued": [waiting]}
    assert prune(mail_app) == 0
    task = mail_app.extensions["conexoos"].scheduler.tasks["mail-outbox-prune"]
    assert task.interval == 3600


def test_the_retention_is_configured_in_services_smtp(make_app: AppFactory, smtp_server: SmtpServer) -> None:
    smtp = {**smtp_server.settings(), "KEEP_SENT_DAYS": 2, "KEEP_FAILED_DAYS": 3}
    app = product_app(make_app, {"SERVICES": {"smtp": smtp}})
    queue_to(app, "here@example.com", "http://localhost/r/1")
    deliver(app)
    [sent] = ids_by_status(app)["sent"]
    age(app, [sent], sent_at=DAY + timedelta(hours=23))
    assert prune(app) == 0
    age(app, [sent], sent_at=2 * DAY + timedelta(minutes=1))
    assert prune(app) == 1


def test_deleting_an_account_deletes_its_sent_and_failed_mail_and_keeps_what_waits(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    alice = sign_up(mail_app, "alice", "Alice@Example.com")
    sign_up(mail_app, "bob")
    deliver(mail_app)  # the sign-up mails of both are sent
    smtp_server.refuse["alice@example.com"] = "550 5.1.1 Mailbox closed"
    queue_to(mail_app, "alice@example.com", "http://localhost/r/failed")
    deliver(mail_app)
    queue_to(mail_app, "ALICE@example.com", "http://localhost/r/waiting")  # not sent yet
    before = outbox(mail_app)
    alices = {status for to, status, _ in before if to.lower() == "alice@example.com"}
    assert alices == {"sent", "failed", "queued"}
    response = delete_account(alice, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = outbox(mail_app)
    assert [row for row in after if row[0].lower() == "alice@example.com"] == [
        ("ALICE@example.com", "queued", "Set a new password for Conexoos")
    ]
    bobs = [row for row in before if row[0] == "bob@example.com"]
    assert bobs and [row for row in after if row[0] == "bob@example.com"] == bobs  # nobody else's mail
    del smtp_server.refuse["alice@example.com"]
    deliver(mail_app)  # what was still to go is delivered
    assert [row[1] for row in outbox(mail_app) if row[0] == "ALICE@example.com"] == ["sent"]


def test_a_retention_below_one_day_is_a_configuration_error(
    make_app: AppFactory, smtp_server: SmtpServer
) -> None:
    smtp = {**smtp_server.settings(), "KEEP_SENT_DAYS": 0}
    with pytest.raises(ConfigError, match=r"SERVICES\.smtp\.KEEP_SENT_DAYS"):
        product_app(make_app, {"SERVICES": {"smtp": smtp}})
