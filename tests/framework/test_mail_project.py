"""Any project can send mail: ``init_mail`` in its middleware, ``queue_message`` in its own transaction."""

from __future__ import annotations

from pathlib import Path

from conexoos.framework.mail import deliver_due
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
