"""Storing a visitor's message, mailing it to the owner, and listing an owner's messages."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import escape
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.mail import queue_message
from conexoos.framework.urls import external_url
from conexoos_contact.models import ContactMessage

SUBJECT = "New message from your contact form"
INBOX_SIZE = 100


@dataclass(frozen=True)
class Incoming:
    """A validated message from the form."""

    name: str
    email: str
    body: str
    network: str


def receive(owner_id: int, incoming: Incoming) -> ContactMessage:
    """Store the message and, for an owner whose address is verified, queue a mail to them. Commits.

    The owner's account is read here: the public page's owner carries only what the page shows (no address).
    """
    owner = db.session.get(User, owner_id)
    if owner is None:  # deleted between the page's read and this write
        raise NotFound("There is no page with this name.")
    row = ContactMessage(
        owner_id=owner.id,
        sender_name=incoming.name,
        sender_email=incoming.email,
        body=incoming.body,
        sender_network=incoming.network,
    )
    db.session.add(row)
    if owner.email_verified:  # never mail an address nobody proved to own
        queue_message(owner.email, SUBJECT, _text(incoming), _html(incoming))
    db.session.commit()
    return row


def inbox(owner_id: int) -> list[ContactMessage]:
    """The owner's latest messages, newest first."""
    query = (
        select(ContactMessage)
        .where(ContactMessage.owner_id == owner_id)
        .order_by(ContactMessage.created_at.desc(), ContactMessage.id.desc())
        .limit(INBOX_SIZE)
    )
    return list(db.session.execute(query).scalars())


def _text(incoming: Incoming) -> str:
    return (
        f"{incoming.name} <{incoming.email}> wrote through your contact form:\n\n{incoming.body}\n\n"
        f"All your messages: {external_url('contact.inbox')}\n"
    )


def _html(incoming: Incoming) -> str:
    body = "<br>".join(escape(line) for line in incoming.body.splitlines())
    return (
        f"<p>{escape(incoming.name)} &lt;{escape(incoming.email)}&gt; wrote through your contact form:</p>"
        f'<p>{body}</p><p><a href="{escape(external_url("contact.inbox"))}">All your messages</a></p>'
    )
