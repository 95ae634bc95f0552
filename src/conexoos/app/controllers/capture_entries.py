"""Email sign-ups taken by capture blocks: a visitor's post, the double opt-in, and the owner's entries.

- A post names its form's block: an enabled capture block, among the page's first
  :data:`~.blocks.capture.CAPTURE_LIMIT`, on a page that is public (404 otherwise, saying which).
- Posts are counted per visitor network (:data:`SIGNUPS_PER_NETWORK`; past it, 429).
- A filled honeypot (a field people never see) gets the answer of a sign-up and stores nothing.
- One entry per (page owner, address): signing up again answers as the first time did, so the form tells
  nobody which addresses are there. A waiting entry gets a new link (at most :data:`MAILS_PER_ADDRESS`
  mails a day to one address from one page: the form cannot be used to flood a mailbox), a confirmed one
  nothing. The name given first is kept.
- Double opt-in when the site sends mail through SMTP (``SERVICES.smtp``): the entry is stored waiting,
  and the address is mailed a link built from ``SERVER_ENV.PUBLIC_URL`` holding a random secret, stored as
  its SHA-256, valid :data:`CONFIRM_VALID_FOR`; a button behind the link confirms the entry (a link
  scanner's GET confirms nothing) and clears the secret, so the link works once.
- Without SMTP (DEV writes mail to files; elsewhere mail would wait in the outbox) no link is mailed: a
  confirmation that may never arrive is no opt-in. The entry is kept unconfirmed (single opt-in:
  ``confirmed_at`` stays empty in the CSV), the visitor is told they are signed up, and the dashboard
  says that entries are not confirmed.
- Every post is refused (403, :class:`CaptureClosed`) when the owner's entries reached the
  plan's ``MAX_CAPTURE_ENTRIES``, an address already listed too: a full page must not tell which addresses
  it holds, nor which field is the trap: a bad address and a filled honeypot get the very same refusal.
  Every entry counts, confirmed or not, until the owner deletes it. The public page shows its
  forms closed then (:func:`forms_closed`): the sign-up that fills the plan and the deletion that makes
  room again mark the page changed for the page cache, which no other entry's change does.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from conexoos.app.models.persistent import CaptureEntry, PageBlock, User
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.models.persistent.capture_entry import EMAIL_MAX, NAME_MAX
from conexoos.app.plans_config import Plan
from conexoos.app.utils.csv_export import to_csv
from conexoos.app.utils.email_address import InvalidEmail, normalize_email
from conexoos.app.utils.network import network_of
from conexoos.app.utils.rate_limit import count
from conexoos.app.utils.text import BIDI_PROBLEM, has_bidi_controls, has_control_characters
from conexoos.framework import db
from conexoos.framework.mail.setup import mail_state
from conexoos.framework.urls import external_url

from . import page_changes, plan_messages, plans, profiles
from .blocks.capture import CAPTURE, CAPTURE_LIMIT
from .mail import queue_mail
from .owner_lock import locked_owner
from .tokens import TokenError, secret_digest

CONFIRM_VALID_FOR = timedelta(days=7)
SIGNUPS_PER_NETWORK = "10 per 10 minutes"
"""Form posts one visitor network may send (to every page together) before it must wait."""
MAILS_PER_ADDRESS = "3 per 1 day"
"""Confirmation mails one page may send one address."""
HONEYPOT = "website"
"""The form field people never see (hidden from sight and from assistive technology); bots fill it."""
EMAIL_PATTERN = re.compile(r"^[!-?A-~]+@[^@\s]+\.[^@\s]+$")
"""As the sign-up form's: an ASCII part before the @ (mail to any other needs SMTPUTF8)."""
NO_FORM = "This sign-up form does not exist: it may have been removed. Go back to the page and look again."
NOT_A_FORM = "This is not a sign-up form: there is nothing to sign up to here."
NOT_PUBLIC = "This sign-up form is not on a public page at the moment."
TOO_MANY = "Too many sign-ups from your network. Wait a few minutes and try again."
UNUSABLE = "This confirmation link was already used, has expired or is not valid. Sign up again on the page."
CSV_HEADER = ("name", "email", "signed_up_at", "confirmed_at", "form")


class CaptureRefused(ValueError):
    """A sign-up not taken: the ``status`` to answer, a ``message`` for the visitor, the ``field`` at
    fault."""

    def __init__(self, message: str, status: int = 422, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


class CaptureClosed(CaptureRefused):
    """A sign-up refused because the owner's plan holds no more (403): the form is closed, as the page
    shows it."""

    def __init__(self) -> None:
        super().__init__(plan_messages.CAPTURE_FULL, 403)


@dataclass(frozen=True)
class Submission:
    """A parsed form: the trimmed name, the normalised address, and whether the honeypot was filled."""

    name: str
    email: str
    honeypot_filled: bool


@dataclass(frozen=True)
class Answer:
    """What the visitor is told after a sign-up (the same whether it was new, repeated or a bot's)."""

    confirmation_mailed: bool

    @property
    def message(self) -> str:
        if self.confirmation_mailed:
            return "Thank you! Check your inbox: open the link we sent you to confirm your address."
        return "Thank you, you are signed up."


class EntryKind:
    """Email sign-ups as a plan limits them (:class:`~.plans.Limited`): ``MAX_CAPTURE_ENTRIES``."""

    singular = "email sign-up"
    plural = "email sign-ups"
    plan_bound = True

    def plan_limit(self, plan: Plan) -> int | None:
        """The plan's ``MAX_CAPTURE_ENTRIES``."""
        return plan.max_capture_entries

    def count(self, owner_id: int) -> int:
        """The owner's entries, confirmed or not."""
        query = select(func.count()).where(CaptureEntry.owner_id == owner_id)
        return db.session.scalar(query) or 0


ENTRIES = EntryKind()


def forms_closed(plan: Plan, total: int) -> bool:
    """Whether an owner with ``total`` entries reached ``plan``'s ``MAX_CAPTURE_ENTRIES``: their forms take
    no more sign-ups, and their page shows them closed."""
    limit = ENTRIES.plan_limit(plan)
    return limit is not None and total >= limit


def sends_mail() -> bool:
    """Whether sign-ups are confirmed by mail: the site sends through SMTP (not to files, not held)."""
    return mail_state(current_app).smtp is not None


def parse_submission(form: Mapping[str, str]) -> Submission:
    """The form's ``name`` (optional), ``email`` and honeypot; :class:`CaptureRefused` (422) naming the
    field otherwise."""
    name = str(form.get("name", "")).strip()
    if len(name) > NAME_MAX:
        raise CaptureRefused(f"Your name must be at most {NAME_MAX} characters.", field="name")
    if has_control_characters(name):
        raise CaptureRefused("Remove the control characters from your name.", field="name")
    if has_bidi_controls(name):
        raise CaptureRefused(BIDI_PROBLEM, field="name")
    return Submission(name, _email(str(form.get("email", ""))), bool(str(form.get(HONEYPOT, "")).strip()))


def _email(value: str) -> str:
    address = value.strip()
    if not address:
        raise CaptureRefused("Enter your email address.", field="email")
    if len(address) > EMAIL_MAX:
        raise CaptureRefused(f"Your email address must be at most {EMAIL_MAX} characters.", field="email")
    if has_control_characters(address) or not EMAIL_PATTERN.match(address):
        raise CaptureRefused("Enter a valid email address, like name@example.com.", field="email")
    try:
        return normalize_email(address)
    except InvalidEmail as error:
        raise CaptureRefused(str(error), field="email") from error


def capture_block(block_id: int) -> tuple[PageBlock, User]:
    """The shown capture block ``block_id`` and its owner; :class:`CaptureRefused` (404) saying why not."""
    row = db.session.execute(
        select(PageBlock, User).join(User, User.id == PageBlock.owner_id).where(PageBlock.id == block_id)
    ).first()
    if row is None:
        raise CaptureRefused(NO_FORM, 404)
    block, owner = row
    if block.kind != CAPTURE.name:
        raise CaptureRefused(NOT_A_FORM, 404)
    if profiles.page_hidden(owner) or not block.enabled or block.id not in _shown_forms(owner.id):
        raise CaptureRefused(NOT_PUBLIC, 404)
    return block, owner


def _shown_forms(owner_id: int) -> Sequence[int]:
    """The ids of the owner's capture blocks the page shows (enabled, within the page's limit)."""
    query = (
        select(PageBlock.id)
        .where(PageBlock.owner_id == owner_id, PageBlock.kind == CAPTURE.name, PageBlock.enabled.is_(True))
        .order_by(PageBlock.position, PageBlock.id)
        .limit(CAPTURE_LIMIT)
    )
    return db.session.scalars(query).all()


def throttle(remote_address: str) -> None:
    """Count one post from the visitor's network; :class:`CaptureRefused` (429) past the limit."""
    if not count(SIGNUPS_PER_NETWORK, "capture-network", network_of(remote_address)):
        raise CaptureRefused(TOO_MANY, 429)


def take(block: PageBlock, owner: User, form: Mapping[str, str]) -> Answer:
    """Parse the posted ``form`` and take it on ``owner``'s form ``block`` (:func:`sign_up`). On a full page
    every post gets :class:`CaptureClosed`, whatever it holds: a bad address or a filled honeypot too."""
    try:
        submission = parse_submission(form)
    except CaptureRefused:
        _refuse_if_closed(owner)  # only a refused post pays for this check: a good one is checked locked
        raise
    return sign_up(block, owner, submission)


def _refuse_if_closed(owner: User) -> None:
    """:class:`CaptureClosed` when ``owner``'s forms are closed, for a post that stores nothing (unlocked:
    a sign-up's own check, under the owner's lock, decides for the posts that would store one)."""
    if forms_closed(plans.plan_for(owner), ENTRIES.count(owner.id)):
        raise CaptureClosed()


def sign_up(block: PageBlock, owner: User, submission: Submission) -> Answer:
    """Take ``submission`` on ``owner``'s form ``block`` (see the module's rules); one commit."""
    answer = Answer(confirmation_mailed=sends_mail())
    if submission.honeypot_filled:
        _refuse_if_closed(owner)  # a bot's post is told what a person's is: closed, or the thanks
        return answer
    block_id, now = block.id, utcnow()
    with locked_owner(owner) as locked:
        plan, total = plans.plan_for(locked), ENTRIES.count(locked.id)
        if forms_closed(plan, total):  # listed or not: a full page answers every address alike
            raise CaptureClosed()
        entry = db.session.scalar(
            select(CaptureEntry).where(
                CaptureEntry.owner_id == locked.id, CaptureEntry.email == submission.email
            )
        )
        if entry is None:
            entry = CaptureEntry(
                owner_id=locked.id,
                block_id=block_id,
                name=submission.name,
                email=submission.email,
                created_at=now,
            )
            db.session.add(entry)
            if forms_closed(plan, total + 1):
                page_changes.mark_page(locked.id)  # this entry fills the plan: the page's forms close
        if answer.confirmation_mailed and entry.confirmed_at is None and _may_mail(locked.id, entry.email):
            _mail_link(entry, locked, now)
    return answer


def _may_mail(owner_id: int, email: str) -> bool:
    return count(MAILS_PER_ADDRESS, "capture-mail", f"{owner_id}|{email}")


def _mail_link(entry: CaptureEntry, owner: User, now: datetime) -> None:
    """Give ``entry`` a new secret and queue its link (in the caller's transaction)."""
    secret = secrets.token_urlsafe(32)
    entry.token_hash = secret_digest(secret)
    entry.token_expires_at = now + CONFIRM_VALID_FOR
    queue_mail(
        entry.email,
        "capture_confirm",
        owner_name=owner.public_name,
        page_url=profiles.page_url(owner),
        link=external_url("capture.confirm", token=secret),
        days=CONFIRM_VALID_FOR.days,
    )


def waiting_entry(secret: str) -> tuple[CaptureEntry, User]:
    """The entry a confirmation link confirms, and its page's owner; :class:`TokenError` for a link used,
    expired or never made."""
    if not secret or len(secret) > 100 or not secret.isascii():
        raise TokenError(UNUSABLE, expired=True)
    row = db.session.execute(
        select(CaptureEntry, User)
        .join(User, User.id == CaptureEntry.owner_id)
        .where(CaptureEntry.token_hash == secret_digest(secret))
    ).first()
    if row is None or row[0].token_expires_at is None or row[0].token_expires_at <= utcnow():
        raise TokenError(UNUSABLE, expired=True)
    return row[0], row[1]


def confirm(secret: str) -> None:
    """Confirm the entry of a link and spend the link; :class:`TokenError` when it cannot be used (also
    when another request confirmed it first: the update matches one waiting row, or none)."""
    now = utcnow()
    with transaction():
        confirmed = db.session.execute(
            update(CaptureEntry)
            .where(CaptureEntry.token_hash == secret_digest(secret), CaptureEntry.token_expires_at > now)
            .values(confirmed_at=now, token_hash=None, token_expires_at=None),
            execution_options={"synchronize_session": False},
        )
    if getattr(confirmed, "rowcount", 0) != 1:
        raise TokenError(UNUSABLE, expired=True)


@dataclass(frozen=True)
class Overview:
    """What the dashboard says about the owner's sign-ups."""

    total: int
    confirmed: int
    limit: int | None
    full: str
    """The warning when the plan's limit is reached (visitors are turned away), else empty."""
    double_opt_in: bool


def overview(owner: User) -> Overview:
    """The owner's counts against the plan's limit, and whether sign-ups are confirmed by mail."""
    plan = plans.plan_for(owner)
    total = ENTRIES.count(owner.id)
    confirmed_query = select(func.count()).where(
        CaptureEntry.owner_id == owner.id, CaptureEntry.confirmed_at.is_not(None)
    )
    limit = ENTRIES.plan_limit(plan)
    full = (
        plan_messages.capture_full_for_owner(plan, ENTRIES, limit)
        if limit is not None and total >= limit
        else ""
    )
    return Overview(total, db.session.scalar(confirmed_query) or 0, limit, full, sends_mail())


def entries_of(owner: User, limit: int | None = None) -> list[tuple[CaptureEntry, str]]:
    """The owner's entries, newest first, each with the title of the form it came from ("" when deleted)."""
    query = (
        select(CaptureEntry, PageBlock)
        .outerjoin(PageBlock, PageBlock.id == CaptureEntry.block_id)
        .where(CaptureEntry.owner_id == owner.id)
        .order_by(CaptureEntry.created_at.desc(), CaptureEntry.id.desc())
        .limit(limit)
    )
    return [
        (entry, str(block.fields.get("title", "")) if block is not None else "")
        for entry, block in db.session.execute(query).all()
    ]


def entries_csv(owner: User) -> str:
    """Every entry of the owner as CSV (cells a spreadsheet would read as a formula are escaped)."""
    return to_csv(CSV_HEADER, _rows(owner))


def _rows(owner: User) -> list[tuple[str, str, str, str, str]]:
    return [
        (entry.name, entry.email, _iso(entry.created_at), _iso(entry.confirmed_at), title)
        for entry, title in entries_of(owner)
    ]


def entries_data(owner: User) -> list[dict[str, str]]:
    """The entries for the account export."""
    return [dict(zip(CSV_HEADER, row, strict=True)) for row in _rows(owner)]


def delete_entry(owner: User, entry_id: int) -> None:
    """Delete the owner's entry ``entry_id``; :class:`CaptureRefused` (404) when it is not theirs."""
    with transaction():
        deleted = db.session.execute(
            delete(CaptureEntry).where(CaptureEntry.id == entry_id, CaptureEntry.owner_id == owner.id),
            execution_options={"synchronize_session": False},
        )
        if getattr(deleted, "rowcount", 0) != 1:
            raise CaptureRefused("This sign-up does not exist (it may have been deleted already).", 404)
        if forms_closed(plans.plan_for(owner), ENTRIES.count(owner.id) + 1):
            page_changes.mark_page(owner.id)  # the plan was full with it: the page's forms may open again


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""
