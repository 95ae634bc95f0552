"""One normal form for email addresses, used to store them and to look accounts up.

``Alice@Ex.COM.`` and ``alice@ex.com`` are the same mailbox: the trailing dot of a fully qualified
domain is dropped, and so are quotes a local part does not need (``"alice"@ex.com``); the address is
lowercased, and the domain is brought to its IDNA 2008 (UTS 46) Unicode form. An address the mailer
could not send to (a domain IDNA refuses, a local part that is not ASCII or that needs quotes) is refused
here, with a message for the person who typed it, instead of failing when its mail is queued.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING

from conexoos.framework.lazy import lazy_module
from conexoos.framework.mail.message import MailError, ascii_address, unquoted_local_part
from conexoos.framework.mail.outbox import never_delivered
from conexoos.framework.smtp import address_problem

if TYPE_CHECKING:
    import idna
else:
    idna = lazy_module("idna")  # IDNA 2008 tables, read at the first host or address converted

INVALID = "Enter a valid email address."
BAD_DOMAIN = "The part after the @ is not a domain mail can be sent to."


class InvalidEmail(ValueError):
    """An address that cannot be stored or mailed; its message is for the person who typed it."""


def normalize_email(address: str) -> str:
    """``address`` in its stored form; raises :class:`InvalidEmail` for one the mailer cannot send to,
    or would send elsewhere: the mail headers read ``a;b@x.org`` or ``<x>@x.org`` as no address at all,
    and ``(note)ana@x.org`` as ``ana@x.org``, so an address must read back as itself."""
    stripped = address.strip()
    if parseaddr(stripped)[1] != stripped or address_problem(stripped):
        raise InvalidEmail(INVALID)
    local, _, domain = stripped.rpartition("@")  # both parts there: address_problem checked them
    local, domain = unquoted_local_part(local), domain.removesuffix(".")
    if '"' in local or domain.endswith("."):
        raise InvalidEmail(INVALID)  # quotes it needs ("a b", "a..b") or "x.org..": no mail header keeps it
    try:
        ascii_domain = ascii_address(f"{local}@{domain}").rpartition("@")[2].removesuffix(".")
        unicode_domain = idna.decode(ascii_domain)  # also refuses A-labels that decode to nothing valid
    except MailError as error:
        raise InvalidEmail(INVALID if not local.isascii() else BAD_DOMAIN) from error
    except idna.IDNAError as error:
        raise InvalidEmail(BAD_DOMAIN) from error
    if "." not in ascii_domain or ascii_domain.rpartition(".")[2].isdigit():
        raise InvalidEmail(BAD_DOMAIN)  # no top-level domain is a number: 10.1.2.3 is a host, not a domain
    if never_delivered(ascii_domain):
        raise InvalidEmail(BAD_DOMAIN)  # .invalid receives no mail: its verification could never arrive
    return f"{local.lower()}@{unicode_domain}"


def canonical_email(address: str) -> str:
    """:func:`normalize_email` for storage and lookups; an address it refuses is only trimmed and
    lowercased (the forms refuse it first; an account stored before this rule is still found)."""
    try:
        return normalize_email(address)
    except InvalidEmail:
        return address.strip().lower()
