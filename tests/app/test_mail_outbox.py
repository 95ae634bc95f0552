"""The framework's outbox as the product uses it, against a real SMTP server (aiosmtpd).

Messages are queued in the caller's transaction and sent by the outbox task; a server that is down is
retried with back-off and nothing is lost; a 5xx refusal is failed with its reason; two processes never
send one message twice; STARTTLS and TLS verify the server's certificate.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from conexoos.app.controllers.mail import queue_mail
from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.cli import cli
from conexoos.framework.mail import OutboxMessage, deliver_due, outbox_counts
from conexoos.framework.mail.delivery import RETRY_BASE
from conexoos.framework.mail.outbox import utcnow
from conexoos.framework.smtp import check_smtp_connection
from tests.conftest import AppFactory
from tests.support.smtp_server import SmtpServer, self_signed_certificate

from .cli_support import cli_env
from .conftest import product_app, sign_up

pytestmark = pytest.mark.database_matrix


def queue(app: Flask, to: str = "reader@example.com", count: int = 1) -> None:
    """Queue ``count`` password-reset mails for a user that exists only in memory, and commit."""
    with app.app_context():
        user = User(username="reader", email=to, password_hash="x")
        for number in range(count):
            queue_mail(to, "password_reset", user=user, link=f"http://localhost/password/reset/{number}")
        db.session.commit()


def rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(found)


def test_a_queued_message_is_sent_with_a_text_and_an_html_part(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    queue(mail_app)
    assert smtp_server.messages == []  # queued, not sent inside the request
    with mail_app.app_context():
        assert deliver_due().sent == 1
    [received] = smtp_server.wait_for(1)
    message = received.message
    assert received.recipients == ["reader@example.com"]
    assert received.sender == "no-reply@links.example.org"
    assert message["To"] == "reader@example.com"
    assert message["From"] == "Conexoos <no-reply@links.example.org>"
    assert message["Subject"] == "Set a new password for Conexoos"
    assert message["Message-ID"].endswith("@links.example.org>") and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert "http://localhost/password/reset/0" in received.part("plain")
    assert 'href="http://localhost/password/reset/0"' in received.part("html")
    assert rows(mail_app)[0].status == "sent"


def test_a_rolled_back_transaction_queues_nothing(mail_app: Flask) -> None:
    with mail_app.app_context():
        queue_mail("x@example.com", "email_taken_notice")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_server_that_is_down_is_retried_with_back_off_until_it_is_back(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    queue(mail_app, count=2)
    smtp_server.stop()
    start = utcnow()
    with mail_app.app_context():
        report = deliver_due(now=start)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)  # the rest waits: the server is down
    first, second = rows(mail_app)
    assert (first.status, first.attempts) == ("queued", 1)
    assert "Connection" in first.last_error or "refused" in first.last_error.lower()
    assert first.next_attempt_at == start + RETRY_BASE
    assert (second.status, second.attempts) == ("queued", 0)
    with mail_app.app_context():
        # 1 is not due yet; 2 is tried once, and waits in turn.
        assert deliver_due(now=start + timedelta(seconds=1)).retrying == 1
        report = deliver_due(now=start + RETRY_BASE * 3)
    first = rows(mail_app)[0]
    assert first.attempts == 2 and first.next_attempt_at == start + RETRY_BASE * 5  # then 60 s
    smtp_server.start()
    with mail_app.app_context():
        assert deliver_due(now=start + RETRY_BASE * 6).sent == 2
        assert outbox_counts()["sent"] == 2
    assert len(smtp_server.wait_for(2)) == 2


def test_a_permanent_refusal_is_failed_with_its_reason_shown_and_can_be_retried(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 No such user here"
    queue(mail_app, to="gone@example.com")
    queue(mail_app, to="here@example.com")
    with mail_app.app_context():
        report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    failed = rows(mail_app)[0]
    assert failed.status == "failed" and "550" in failed.last_error and "No such user" in failed.last_error
    runner = CliRunner()
    status = runner.invoke(cli, ["mail", "status"], obj=None, catch_exceptions=False, env=cli_env(mail_app))
    assert status.exit_code == 0, status.output
    assert "1 sent, 1 failed" in status.output.replace("0 queued, 0 sending, ", "")
    assert f"failed {failed.id}\tto gone@example.com" in status.output and "550" in status.output
    del smtp_server.refuse["gone@example.com"]
    retried = runner.invoke(
        cli, ["mail", "retry", str(failed.id)], catch_exceptions=False, env=cli_env(mail_app)
    )
    assert "1 failed message queued again" in retried.output and retried.exit_code == 0
    sent = rows(mail_app)[1]
    again = runner.invoke(cli, ["mail", "retry", str(failed.id), str(sent.id), "999"], env=cli_env(mail_app))
    assert again.exit_code == 1  # none of them is failed: nothing is queued again, and each is named
    assert again.stdout == "0 failed messages queued again\n"
    assert again.stderr.splitlines() == [
        f"error: message {failed.id} is queued, not failed: not queued again",
        f"error: message {sent.id} is sent, not failed: not queued again",
        "error: no failed message with id 999",
    ]
    with mail_app.app_context():
        assert deliver_due().sent == 1
    assert [item.recipients for item in smtp_server.wait_for(2)] == [
        ["here@example.com"],
        ["gone@example.com"],
    ]


def test_mail_retry_of_every_failed_message_says_what_it_left(
    mail_app: Flask, smtp_server: SmtpServer
) -> None:
    """Without IDs it said "0 failed messages queued again", and nothing of the one it skipped."""
    queue(mail_app, to="zed@foo.invalid")
    status = CliRunner().invoke(cli, ["mail", "status"], catch_exceptions=False, env=cli_env(mail_app))
    assert "never sent: its domain receives no mail" in status.output and "mail retry ID" not in status.output
    retried = CliRunner().invoke(cli, ["mail", "retry"], catch_exceptions=False, env=cli_env(mail_app))
    assert retried.exit_code == 0
    assert retried.stdout.splitlines() == [
        "0 failed messages queued again",
        "1 failed message to the domain .invalid left failed: it receives no mail",
    ]


def test_two_workers_never_send_the_same_message_twice(mail_app: Flask, smtp_server: SmtpServer) -> None:
    queue(mail_app, count=12)
    barrier = threading.Barrier(2)

    def worker() -> None:
        with mail_app.app_context():
            barrier.wait()
            deliver_due()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    received = smtp_server.wait_for(12)
    links = sorted(item.part("plain").split("/password/reset/")[1].split()[0] for item in received)
    assert links == sorted(str(number) for number in range(12))  # each once
    assert all(row.status == "sent" and row.attempts == 1 for row in rows(mail_app))


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_and_starttls_verify_the_certificate_and_log_in(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    certificate = self_signed_certificate(tmp_path)
    server = SmtpServer(security=security, certificate=certificate, login=("mailer", "s3cret")).start()
    try:
        app = product_app(make_app, {"SERVICES": {"smtp": server.settings()}})
        with app.app_context():
            settings = app.extensions["conexoos"].settings
            untrusted = check_smtp_connection(settings)  # the self-signed certificate is not trusted yet
            assert untrusted is not None and untrusted.startswith("certificate not trusted (self")
            monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
            assert check_smtp_connection(settings) is None
        queue(app)
        deliver(app)
        assert server.wait_for(1)[0].recipients == ["reader@example.com"]
    finally:
        server.stop()


def test_a_wrong_password_is_reported_and_the_message_waits(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = SmtpServer(security="starttls", certificate=certificate, login=("mailer", "s3cret")).start()
    try:
        app = product_app(make_app, {"SERVICES": {"smtp": server.settings(PASSWORD="wrong")}})
        with app.app_context():
            problem = check_smtp_connection(app.extensions["conexoos"].settings)
            assert (
                problem is not None
                and problem.startswith("the server refused the login (535 ")
                and "wrong" not in problem
            )
        queue(app)
        deliver(app)
        [row] = rows(app)
        assert (
            row.status == "queued" and "535" in row.last_error
        )  # a configuration problem, not the message's
    finally:
        server.stop()


def test_dev_without_smtp_writes_eml_files_and_logs_the_text(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    account = sign_up(app, "devuser")
    with caplog.at_level("INFO", logger="conexoos.mail"):
        deliver(app)
    folder = Path(app.instance_path) / "mail"
    [eml] = list(folder.glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == account.email
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "http://localhost/verify/" in body.get_content()
    assert "http://localhost/verify/" in caplog.text and str(eml) in caplog.text


def test_the_outbox_task_is_scheduled(app: Flask) -> None:
    tasks = app.extensions["conexoos"].scheduler.tasks
    assert tasks["mail-outbox"].interval is not None and tasks["mail-outbox"].interval <= 10


def deliver(app: Flask) -> None:
    with app.app_context():
        deliver_due()
