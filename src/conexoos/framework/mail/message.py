"""One message as it goes on the wire: a plain-text part and an HTML part (``multipart/alternative``)."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING

from ..errors import ConexoosError
from ..lazy import lazy_module
from ..smtp import address_problem

if TYPE_CHECKING:
    from email import headerregistry, policy

    import idna
else:
    idna = lazy_module("idna")  # IDNA 2008 tables, read at the first host or address converted
    # email's header parser and policies (0.5 MiB), read at the first message built
    policy = lazy_module("email.policy")
    headerregistry = lazy_module("email.headerregistry")


_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
"""A local part that needs no quotes (RFC 5322 3.2.3)."""


class MailError(ConexoosError, ValueError):
    """A message that cannot be built: a bad address, or a line break in a header."""


def build_message(
    sender: str, recipient: str, subject: str, text: str, html: str, *, date: datetime
) -> EmailMessage:
    """The message with both parts, a ``Date`` and a ``Message-ID`` on the sender's domain.

    Raises :class:`MailError` for an address that is not one, or a subject holding a line break (the
    standard library refuses them, which is what keeps headers from being injected).
    """
    for label, value in (("recipient", recipient), ("sender", sender)):
        problem = address_problem(value)
        if problem:
            raise MailError(f"mail {label} {value!r}: {problem}")
    recipient = ascii_address(recipient)
    message = EmailMessage(policy=policy.SMTP)
    try:
        message["Subject"] = subject
        message["From"] = sender
        message["To"] = recipient
    except ValueError as error:
        raise MailError(f"mail header refused: {error}") from error
    if [found.addr_spec for found in message["To"].addresses] != [recipient]:
        raise MailError(f"mail recipient {recipient!r}: a mail header does not read it back as one address")
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a no-reply address
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def unquoted_local_part(local: str) -> str:
    """``local`` without quotes it does not need (``"alice"`` is ``alice``, RFC 5321 4.1.2: the same
    mailbox, and a mail header drops them); a quoted string that needs them is kept as it is."""
    if len(local) > 2 and local[0] == local[-1] == '"' and _DOT_ATOM.fullmatch(local[1:-1]):
        return local[1:-1]
    return local


def ascii_address(address: str) -> str:
    """``address`` with its domain in its ASCII (IDNA) form, without the trailing dot of a fully qualified
    one (a header reads ``x@example.org.`` as no address at all) and without needless quotes around its
    local part; :class:`MailError` for a local part that is not ASCII (it would need SMTPUTF8, which many
    servers lack)."""
    local, _, domain = address.rpartition("@")
    local, domain = unquoted_local_part(local), domain.removesuffix(".")
    if not local.isascii():
        raise MailError(
            f"mail address {address!r}: only addresses with an ASCII part before the @ are served"
        )
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError as error:
        raise MailError(f"mail address {address!r}: the domain is not valid ({error})") from error


def envelope_sender(message: EmailMessage) -> str:
    """The bare address of the message's ``From``, for the SMTP ``MAIL FROM``."""
    return parseaddr(str(message["From"]))[1]


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    try:
        return headerregistry.Address(addr_spec=address).domain or "localhost"
    except (ValueError, IndexError):
        return "localhost"
