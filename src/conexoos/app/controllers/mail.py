"""Mail from the product: ``queue_mail(to, template, **context)`` renders a template pair and queues it.

Templates live in ``templates/mail/``: ``<template>.txt`` (plain text) and ``<template>.html``. The subject
is the ``{% block subject %}`` of the ``.txt`` template (it extends ``mail/base.txt``, which leaves the
block out of the body); both parts also get ``subject`` in their context. Links in mail are absolute,
built with ``external_url`` (Jinja global) from ``SERVER_ENV.PUBLIC_URL``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import current_app, render_template

from conexoos.framework.mail import MailError, queue_message
from conexoos.framework.mail.setup import mail_state

log = logging.getLogger("conexoos.mail")


def queue_mail(to: str, template: str, **context: Any) -> None:
    """Render ``mail/<template>.txt`` and ``.html`` with ``context`` and add the message to the outbox
    in the caller's transaction (sent by the outbox task after the commit; a rollback queues nothing).

    Raises :class:`~conexoos.framework.mail.MailError` for an address with a line break or no domain.
    """
    subject, text, html = render_mail(template, **context)
    queue_message(to, subject, text, html)


def queue_mail_to_account(to: str, template: str, **context: Any) -> None:
    """:func:`queue_mail` to an address stored on an account: one that cannot be mailed (an account made
    before addresses had to be ASCII before the @) is logged and skipped, never an error for the visitor."""
    try:
        queue_mail(to, template, **context)
    except MailError as error:
        log.warning("mail %s not queued: %s", template, error)


def render_mail(template: str, **context: Any) -> tuple[str, str, str]:
    """The subject, text part and HTML part of ``mail/<template>``."""
    subject = _render_subject(template, context)
    text = render_template(f"mail/{template}.txt", subject=subject, **context)
    html = render_template(f"mail/{template}.html", subject=subject, **context)
    return subject, text, html


def _render_subject(template: str, context: dict[str, Any]) -> str:
    """The ``subject`` block of ``mail/<template>.txt``, on one line."""
    loaded = current_app.jinja_env.get_template(f"mail/{template}.txt")
    block = loaded.blocks.get("subject")
    if block is None:
        raise LookupError(f"mail/{template}.txt has no {{% block subject %}}")
    full = dict(context)
    current_app.update_template_context(full)
    return " ".join("".join(block(loaded.new_context(full))).split())


def mail_folder() -> Path | None:
    """The folder mail is written to instead of sent (DEV without ``SERVICES.smtp``: ``instance/mail``,
    the instance folder as configured), or None when it is sent or waits for SMTP."""
    return mail_state(current_app).folder
