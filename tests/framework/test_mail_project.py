"""Any project can send mail: ``init_mail`` in its middleware, ``queue_message`` in its own transaction."""

from __future__ import annotations

from pathlib import Path

from conexoos.framework import db
from conexoos.framework.mail import deliver_due
from conexoos.framework.mail.delivery import not_retried, retry_failed
from conexoos.framework.mail.outbox import NO_MAILBOX, OutboxMessage, outbox_counts
from tests.conftest import AppFactory
from tests.support.smtp_server import SmtpServer

from .helpers import write_project

PROJECT = {
    "server/middleware.py": """
        from conexoos.framework.mail import init_mail


        class Load:
            def __init__(self, server):
                init_mail(server)
    """,
    "server/web.py": """
        from flask import request

        from conexoos.framework import db
        from conexoos.framework.mail import queue_message


        def send():
            queue_message(request.args["to"], "Hello", "Plain hello", "<p>HTML hello</p>")
            if request.args.get("keep") == "no":
                db.session.rollback()
                return "dropped"
            db.session.commit()
            return "queued"


        class Route:
            def __init__(self, server):
                server.add_url_rule("/send", "send", send)
    """,
}


def test_a_project_of_its_own_queues_and_sends(make_app: AppFactory, tmp_path: Path) -> None:
    server = SmtpServer().start()
    try:
        app = make_app(
            project=write_project(tmp_path / "mailer", PROJECT),
            overrides={"SERVICES": {"smtp": server.settings(FROM="Mailer <mailer@example.org>")}},
        )
        assert "mail-outbox" in app.extensions["conexoos"].scheduler.tasks
        client = app.test_client()
        assert client.get("/send?to=kept@example.com").get_data(as_text=True) == "queued"
        assert client.get("/send?to=dropped@example.com&keep=no").get_data(as_text=True) == "dropped"
        with app.app_context():
            assert deliver_due().sent == 1
        [received] = server.wait_for(1)
        assert received.recipients == ["kept@example.com"]
        assert received.message["From"] == "Mailer <mailer@example.org>"
        assert (received.part("plain").strip(), received.part("html").strip()) == (
            "Plain hello",
            "<p>HTML hello</p>",
        )
    finally:
        server.stop()


def test_mail_to_the_invalid_domain_is_never_attempted(make_app: AppFactory, tmp_path: Path) -> None:
    """``.invalid`` (RFC 6761) never receives mail: such a message is failed at once, with the reason."""
    server = SmtpServer().start()
    try:
        app = make_app(
            project=write_project(tmp_path / "mailer", PROJECT),
            overrides={"SERVICES": {"smtp": server.settings(FROM="Mailer <mailer@example.org>")}},
        )
        client = app.test_client()
        for recipient in ("taken-back-7@invalid", "someone@Host.Invalid.", "kept@example.com"):
            assert client.get(f"/send?to={recipient}").get_data(as_text=True) == "queued"
        with app.app_context():
            assert deliver_due().sent == 1
            counts = outbox_counts()
            reasons = {row.recipient: row.last_error for row in db.session.query(OutboxMessage)}
        assert (counts["sent"], counts["failed"], counts["queued"]) == (1, 2, 0)
        assert reasons["taken-back-7@invalid"] == reasons["someone@host.invalid"] == NO_MAILBOX
        with app.app_context():  # `mail retry` queued them again, and they were sent
            failed = [row.id for row in db.session.query(OutboxMessage).filter_by(status="failed")]
            assert retry_failed() == []
            assert not_retried(failed, []) == [
                f"message {failed[0]} is to taken-back-7@invalid, whose domain .invalid receives no mail: "
                "not queued again",
                f"message {failed[1]} is to someone@host.invalid, whose domain .invalid receives no mail: "
                "not queued again",
            ]
            db.session.query(OutboxMessage).filter_by(id=failed[0]).update({"status": "queued"})
            db.session.commit()  # as one queued before this check was made
            assert deliver_due().failed == 1
            assert db.session.get(OutboxMessage, failed[0]).status == "failed"  # type: ignore[union-attr]
        [received] = server.wait_for(1)
        assert received.recipients == ["kept@example.com"]
    finally:
        server.stop()


def test_a_fully_qualified_domain_is_mailed_without_its_trailing_dot(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """A header reads ``kept@example.com.`` as no address: the message went to ``<>``."""
    server = SmtpServer().start()
    try:
        app = make_app(
            project=write_project(tmp_path / "mailer", PROJECT),
            overrides={"SERVICES": {"smtp": server.settings(FROM="Mailer <mailer@example.org>")}},
        )
        assert app.test_client().get("/send?to=kept@Example.com.").get_data(as_text=True) == "queued"
        with app.app_context():
            assert deliver_due().sent == 1
        [received] = server.wait_for(1)
        assert received.recipients == ["kept@example.com"] and received.message["To"] == "kept@example.com"
    finally:
        server.stop()
