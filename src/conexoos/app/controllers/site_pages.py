"""The site's own pages (the CMS): the rules for writing, publishing, revising and restoring them.

Every save (create, update, restore, publication by the schedule) stores a :class:`SitePageRevision`
holding the page's whole state, numbered from 1 per page, and writes an audit entry in the same
transaction. The blueprint parses the form into a :class:`PageInput`; :func:`problems` says what is
wrong with it, field by field, in sentences a writer can act on.
"""

from __future__ import annotations

import difflib
import itertools
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers import audit, media_library, menus
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.models.persistent.site_page import (
    DESCRIPTION_MAX,
    DRAFT,
    IMAGE_MAX,
    PAGE_STATUSES,
    PUBLISHED,
    SCHEDULED,
    SLUG_MAX,
    TITLE_MAX,
    SitePage,
    SitePageRevision,
)
from conexoos.app.utils.markdown import (
    MEDIA_PREFIX,
    is_allowed_image,
    outside_images,
    refused_links,
    site_images,
    too_deep_line,
)
from conexoos.app.utils.same_origin import origin_of
from conexoos.app.utils.text import (
    BIDI_PROBLEM,
    has_bidi_controls,
    has_control_characters,
    is_valid_unicode,
    is_visible,
)
from conexoos.app.utils.urls import UnsafeURL, normalise_url
from conexoos.framework import db
from conexoos.framework.urls import public_url

BODY_MAX = 100_000
"""The most characters a page's Markdown holds (a long Terms of Service is about 40,000)."""
NOTE_MAX = 200
SLUG_PATTERN = re.compile(r"[a-z0-9-]{1,80}")
SAVED_MEANWHILE = "Someone saved this page at the same moment: reload it, then make your change again."
SCHEDULE = "schedule"
"""The actor named in the audit log when the publishing task publishes a page."""
CONTENT_FIELDS = ("slug", "title", "description", "social_image", "body")
STATE_FIELDS = (*CONTENT_FIELDS, "status", "publish_at")
FIELD_LABELS = {
    "slug": "Address",
    "title": "Title",
    "description": "Description",
    "social_image": "Social image",
    "status": "Status",
    "publish_at": "Publish at",
}


@dataclass(frozen=True)
class PageInput:
    """A page's state as the writer submitted it (times are aware UTC)."""

    slug: str
    title: str
    description: str = ""
    social_image: str = ""
    body: str = ""
    status: str = DRAFT
    publish_at: datetime | None = None
    note: str = ""
    based_on: int | None = None
    """The number of the page's newest revision when the writer opened it (None: not said, not checked)."""


class PageInvalid(ValueError):
    """The input breaks the rules; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class PageChanged(PageInvalid):
    """Someone saved the page after the writer opened it; ``revision`` is now its newest revision."""

    def __init__(self, revision: SitePageRevision, author: str | None) -> None:
        by = f" by {author}" if author else ""
        super().__init__(
            {
                "body": (
                    f"Someone saved this page since you opened it: revision {revision.number}{by}. Your text "
                    "is below, not saved. See what they changed (Revisions), then Save again to replace "
                    "it with your text, or open the page again to start from theirs."
                )
            }
        )
        self.revision = revision


@dataclass(frozen=True)
class DiffLine:
    """One line of a body diff: ``kind`` is ``add``, ``remove``, ``same`` or ``gap`` (a hunk header)."""

    kind: str
    text: str

    @property
    def mark(self) -> str:
        """The sign shown before the line: ``+``, ``−`` (minus sign), a space, or ``…``."""
        return {"add": "+", "remove": "\u2212", "same": " ", "gap": "\u2026"}[self.kind]


@dataclass(frozen=True)
class FieldChange:
    """A field other than the body that differs between two revisions."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Diff:
    """What changed from one revision to the next."""

    fields: list[FieldChange]
    body: list[DiffLine]

    @property
    def empty(self) -> bool:
        """Whether the two states are the same."""
        return not self.fields and not self.body


def cleaned(data: PageInput) -> PageInput:
    """``data`` with surrounding spaces trimmed and a publish time only for a scheduled page."""
    return replace(
        data,
        slug=data.slug.strip(),
        title=data.title.strip(),
        description=data.description.strip(),
        social_image=data.social_image.strip(),
        note=data.note.strip(),
        publish_at=data.publish_at if data.status == SCHEDULED else None,
    )


def problems(data: PageInput, page_id: int | None, now: datetime) -> dict[str, str]:
    """What is wrong with ``data`` (already :func:`cleaned`), field by field; empty when it may be saved.
    ``page_id`` is the page being edited (its own slug is not "taken")."""
    found = {
        "slug": _slug_problem(data.slug, page_id),
        "title": _text_problem(data.title, TITLE_MAX, required=True),
        "description": _text_problem(data.description, DESCRIPTION_MAX),
        "social_image": _image_problem(data.social_image),
        "body": body_problem(data.body),
        "status": _status_problem(data, now),
        "note": _text_problem(data.note, NOTE_MAX),
    }
    return {field: message for field, message in found.items() if message}


def _slug_problem(slug: str, page_id: int | None) -> str | None:
    if not slug:
        return "Give the page an address, such as terms (the page is then at /p/terms)."
    if len(slug) > SLUG_MAX:
        return f"The address holds at most {SLUG_MAX} characters; this one has {len(slug)}."
    if not SLUG_PATTERN.fullmatch(slug):
        return "The address uses only lowercase letters a-z, digits and hyphens, such as terms-of-use."
    if slug.strip("-") == "":
        return "The address needs at least one letter or digit."
    taken = db.session.scalar(select(SitePage.id).where(SitePage.slug == slug))
    if taken is not None and taken != page_id:
        return _taken(slug)
    return None


def _taken(slug: str) -> str:
    return f"Another page already lives at /p/{slug}: choose another address."


def _text_problem(value: str, limit: int, required: bool = False) -> str | None:
    if required and not is_visible(value):
        return "This field is required."
    if len(value) > limit:
        return f"At most {limit} characters; this has {len(value)}."
    if has_control_characters(value):
        return "Remove the control characters (line breaks, tabs and the like) from this field."
    if has_bidi_controls(value):
        return BIDI_PROBLEM
    return None


NOT_IN_AN_ADDRESS = re.compile(r'["<>{}|^`]')
"""Characters a URL never holds unencoded (RFC 3986): a browser sends them percent-encoded."""


def _image_problem(url: str) -> str | None:
    if not url:
        return None
    if len(url) > IMAGE_MAX:
        return f"At most {IMAGE_MAX} characters; this has {len(url)}."
    if NOT_IN_AN_ADDRESS.search(url):
        return (
            "An address cannot hold quotes, angle brackets, braces, | ^ or `: write them percent-encoded "
            "(\" as %22, < as %3C, > as %3E), as a browser's address bar copies them."
        )
    if has_control_characters(url) or " " in url or "\\" in url:
        return "An address cannot hold spaces, tabs, line breaks or backslashes: write a space as %20."
    if has_bidi_controls(url):
        return BIDI_PROBLEM
    own = _own_address(url)  # first: this site's address may be http (PUBLIC_URL's scheme)
    if own is not None:
        return _library_image_problem(own)
    if not is_allowed_image(url):
        return (
            "Give an image of this site's media library (/media/library/....webp) or an https:// address "
            "of an image (without a user name or password)."
        )
    try:
        normalise_url(url, ("https",))  # the host, the port: as the sites it is shared on will read them
    except UnsafeURL as error:
        return f"This address cannot be fetched: {error}."
    return None


def _own_address(url: str) -> str | None:
    """The path ``url`` names on this site, normalised as the server reads it (percent-encoded letters
    decoded, doubled slashes and ``.``/``..`` segments resolved), for a path (``/...``) or an address of
    ``PUBLIC_URL`` in any spelling of its origin (the host's case, the default port, a trailing dot);
    None for another site's address."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        try:
            if origin_of(url) != origin_of(public_url()):
                return None
        except ValueError:  # a port that is no number: not this site's
            return None
    elif not url.startswith("/"):
        return None
    return posixpath.normpath(re.sub("/{2,}", "/", unquote(parts.path) or "/"))


def _library_image_problem(address: str) -> str | None:
    """Why ``address`` (a path of this site's media) cannot be a page's social image: shared links would
    show a broken picture or a PDF unless it is an image of the media library."""
    if not address.startswith(MEDIA_PREFIX):
        return (
            f"{address[:100]} is a page of this site, not an image of its media library: give one of the "
            "addresses an image's page shows at /admin/media (/media/library/....webp)."
        )
    if media_library.image_at(address) is not None:
        return None
    if media_library.pdf_at(address) is not None:
        return (
            f"{address[:100]} is a PDF, not an image: sites a page is shared on show an image. Give the "
            "address of an image of the media library (/admin/media)."
        )
    return (
        f"No image of the media library is at {address[:100]}. Upload the image at /admin/media, then give "
        "one of the addresses its page shows (/media/library/....webp)."
    )


def unreadable_body(body: str) -> str | None:
    """Why ``body`` cannot be rendered or stored at all (too long, a control character, a lone surrogate,
    a bidirectional control), or None: the page editor's preview refuses what saving would."""
    if len(body) > BODY_MAX:
        return f"The text holds at most {BODY_MAX:,} characters; this has {len(body):,}. Split the page."
    if has_control_characters(body, multiline=True):
        return "Remove the control characters (such as NUL) from the text."
    if not is_valid_unicode(body):
        return "Remove the invalid character (a lone surrogate, which no text can hold) from the text."
    if has_bidi_controls(body):  # as every other field: they can make a text read other than it is
        return BIDI_PROBLEM
    return None


def body_problem(body: str) -> str | None:
    """Why ``body`` cannot be saved, or None: besides :func:`unreadable_body`, what the page would lose
    without a word (text nested too deeply, a link or an image that would be dropped). The preview says
    it too."""
    unreadable = unreadable_body(body)
    if unreadable:
        return unreadable
    line = too_deep_line(body)
    if line is not None:
        return (
            f"Lists or quotes nest too deeply from line {line} on (lists go about ten levels deep): nothing "
            "from there would be shown. Nest them less."
        )
    links = refused_links(body)
    if links:
        return _link_problem(links[0])
    outside = outside_images(body)
    if outside:
        return (
            f"Images come from the media library (/admin/media), not from other sites: {outside[0][:100]} "
            "would not be shown. Upload it and paste its Markdown instead."
        )
    return next(filter(None, map(_library_image_problem, site_images(body))), None)


def _link_problem(address: str) -> str:
    if not address:
        return "A link has no address (text in [brackets] followed by ()): give it one, or remove it."
    return (
        f"{address[:100]} cannot be a link: links go to web addresses (https://...), mail addresses "
        "(mailto:), phone numbers (tel:) or this site's own paths (/p/terms, #part). It would show as "
        "text without a link."
    )


def _status_problem(data: PageInput, now: datetime) -> str | None:
    if data.status not in PAGE_STATUSES:
        return f"Choose a status: {', '.join(PAGE_STATUSES)}."
    if data.status != SCHEDULED:
        return None
    if data.publish_at is None:
        return "A scheduled page needs the time to publish it (UTC)."
    if data.publish_at <= now:
        return "The time to publish is in the past: give a future time, or choose Published."
    return None


def _validated(data: PageInput, page_id: int | None, now: datetime) -> PageInput:
    data = cleaned(data)
    errors = problems(data, page_id, now)
    if errors:
        raise PageInvalid(errors)
    return data


def create(data: PageInput, author_id: int | None, now: datetime | None = None) -> SitePage:
    """Make a page from ``data`` with its revision 1; :class:`PageInvalid` when ``data`` breaks a rule.
    Commits."""
    now = now or utcnow()
    data = _validated(data, None, now)
    page = SitePage(created_at=now)
    _apply(page, data, author_id, now)
    db.session.add(page)
    _commit_or_slug_taken(page, data, author_id, None, "site_page.create", f"page /p/{data.slug} created")
    return page


def update(page: SitePage, data: PageInput, author_id: int | None, now: datetime | None = None) -> SitePage:
    """Save ``data`` over ``page`` as a new revision; :class:`PageInvalid` when it breaks a rule. Commits."""
    now = now or utcnow()
    newest = newest_revision(page.id)
    if data.based_on is not None and newest is not None and newest.number != data.based_on:
        author = db.session.get(User, newest.author_id) if newest.author_id else None
        raise PageChanged(newest, author.username if author else None)
    data = _validated(data, page.id, now)
    before = state_of(page)
    _apply(page, data, author_id, now)
    _commit_or_slug_taken(page, data, author_id, before, "site_page.update", f"page /p/{data.slug} saved")
    return page


def _commit_or_slug_taken(
    page: SitePage,
    data: PageInput,
    author_id: int | None,
    before: dict[str, Any] | None,
    action: str,
    summary: str,
) -> None:
    page_id = page.id  # None for a new page
    try:
        db.session.flush()
        _add_revision(page, data.note, author_id)
        audit.record(action, page, before, state_of(page), summary)
        db.session.commit()
    except IntegrityError as error:  # another save came between the checks and this commit
        db.session.rollback()
        holder = db.session.scalar(select(SitePage.id).where(SitePage.slug == data.slug))
        if holder is not None and holder != page_id:
            raise PageInvalid({"slug": _taken(data.slug)}) from error
        if page_id is not None:
            raise PageInvalid({"body": SAVED_MEANWHILE}) from error
        raise


def _apply(page: SitePage, data: PageInput, author_id: int | None, now: datetime) -> None:
    for name in CONTENT_FIELDS:
        setattr(page, name, getattr(data, name))
    if data.status == PUBLISHED and page.status != PUBLISHED:
        page.published_at = now
    page.status = data.status
    page.publish_at = data.publish_at
    page.updated_at = now
    page.updated_by_id = author_id


def newest_revision(page_id: int) -> SitePageRevision | None:
    """The page's revision with the highest number (None before its first save)."""
    query = select(SitePageRevision).where(SitePageRevision.page_id == page_id)
    return db.session.scalar(query.order_by(SitePageRevision.number.desc()).limit(1))


def _add_revision(page: SitePage, note: str, author_id: int | None) -> SitePageRevision:
    latest = db.session.scalar(
        select(func.max(SitePageRevision.number)).where(SitePageRevision.page_id == page.id)
    )
    revision = SitePageRevision(
        page_id=page.id,
        number=(latest or 0) + 1,
        note=note,
        author_id=author_id,
        created_at=page.updated_at,
        **{name: getattr(page, name) for name in STATE_FIELDS},
    )
    db.session.add(revision)
    return revision


def state_of(page: SitePage | SitePageRevision) -> dict[str, Any]:
    """The audit log's view of a page: every field but the text, of which the length is kept."""
    state: dict[str, Any] = {name: getattr(page, name) for name in STATE_FIELDS if name != "body"}
    state["publish_at"] = page.publish_at.isoformat() if page.publish_at else None
    state["body_characters"] = len(page.body or "")
    return state


def delete(page: SitePage) -> str:
    """Delete ``page`` with its revisions (and menu entries pointing to it); its slug. Commits."""
    slug = page.slug
    menus.remove_entries_of_page(page.id)
    audit.record("site_page.delete", page, state_of(page), None, f"page /p/{slug} deleted")
    db.session.delete(page)
    db.session.commit()
    return slug


def restore(
    page: SitePage, revision: SitePageRevision, author_id: int | None, now: datetime | None = None
) -> SitePage:
    """Bring back ``revision``'s address, title, description, image and text as a new revision noted
    "Restored revision N"; the page's status and publication time stay as they are (restoring old text
    never publishes nor hides a page). :class:`PageInvalid` when its address is now another page's."""
    data = PageInput(
        **{name: getattr(revision, name) for name in CONTENT_FIELDS},
        status=page.status,
        publish_at=page.publish_at,
        note=f"Restored revision {revision.number}",
    )
    now = now or utcnow()
    data = cleaned(data)
    errors = {
        field: message
        for field, message in problems(data, page.id, now).items()
        if field != "status"  # a scheduled time passed since is the task's to publish, not a mistake
    }
    if errors:
        raise PageInvalid(errors)
    before = state_of(page)
    _apply(page, data, author_id, now)
    summary = f"page /p/{page.slug}: revision {revision.number} restored"
    _commit_or_slug_taken(page, data, author_id, before, "site_page.restore", summary)
    return page


def publish_due(now: datetime | None = None) -> int:
    """Publish every scheduled page whose time has come (the task's work); how many. Commits."""
    now = now or utcnow()
    due = select(SitePage).where(SitePage.status == SCHEDULED, SitePage.publish_at <= now)
    count = 0
    for page in db.session.scalars(due).all():
        before = state_of(page)
        page.status = PUBLISHED
        page.published_at = page.publish_at
        page.updated_at = now
        page.updated_by_id = None
        _add_revision(page, "Published on schedule", None)
        summary = f"page /p/{page.slug} published"
        entry = audit.record("site_page.publish", page, before, state_of(page), summary)
        entry.actor_name = SCHEDULE
        count += 1
    db.session.commit()
    return count


def page_by_id(page_id: int) -> SitePage | None:
    """The page with ``page_id``, or None."""
    return db.session.get(SitePage, page_id)


def page_by_slug(slug: str) -> SitePage | None:
    """The page at ``/p/<slug>``, whatever its status, or None."""
    if not SLUG_PATTERN.fullmatch(slug):
        return None
    return db.session.scalar(select(SitePage).where(SitePage.slug == slug))


def pages(limit: int, offset: int = 0) -> Sequence[SitePage]:
    """``limit`` pages from ``offset``, the most recently updated first."""
    query = select(SitePage).order_by(SitePage.updated_at.desc(), SitePage.id.desc())
    return db.session.scalars(query.limit(limit).offset(offset)).all()


def count_pages() -> int:
    """How many pages there are, whatever their status."""
    return db.session.scalar(select(func.count()).select_from(SitePage)) or 0


def count_revisions(page_id: int) -> int:
    """How many revisions the page has."""
    query = select(func.count()).select_from(SitePageRevision).where(SitePageRevision.page_id == page_id)
    return db.session.scalar(query) or 0


def newest_revision_number(page_id: int) -> int | None:
    """The number of the page's newest revision (its current state), None without any."""
    return db.session.scalar(
        select(func.max(SitePageRevision.number)).where(SitePageRevision.page_id == page_id)
    )


def revisions(page_id: int, limit: int, offset: int = 0) -> list[tuple[SitePageRevision, str | None]]:
    """``limit`` of the page's revisions from ``offset``, newest first, each with its author's username
    (None when gone or the task)."""
    query = (
        select(SitePageRevision, User.username)
        .outerjoin(User, User.id == SitePageRevision.author_id)
        .where(SitePageRevision.page_id == page_id)
        .order_by(SitePageRevision.number.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(revision, username) for revision, username in db.session.execute(query)]


def revision_of(page_id: int, revision_id: int) -> SitePageRevision | None:
    """The revision ``revision_id`` of page ``page_id``, or None (also for another page's revision)."""
    revision = db.session.get(SitePageRevision, revision_id)
    return revision if revision is not None and revision.page_id == page_id else None


def previous_of(revision: SitePageRevision) -> SitePageRevision | None:
    """The revision saved just before ``revision``, or None for the first."""
    query = (
        select(SitePageRevision)
        .where(SitePageRevision.page_id == revision.page_id, SitePageRevision.number < revision.number)
        .order_by(SitePageRevision.number.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def diff(before: SitePageRevision | None, after: SitePageRevision) -> Diff:
    """What changed from ``before`` (None: an empty page) to ``after``."""
    changes = []
    for name, label in FIELD_LABELS.items():
        old, new = _shown(before, name), _shown(after, name)
        if old != new:
            changes.append(FieldChange(label, old, new))
    old_lines = (before.body if before else "").splitlines()
    return Diff(changes, list(_body_lines(old_lines, after.body.splitlines())))


def _shown(revision: SitePageRevision | None, name: str) -> str:
    value = getattr(revision, name) if revision is not None else None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _body_lines(old: list[str], new: list[str]) -> Iterator[DiffLine]:
    lines = difflib.unified_diff(old, new, lineterm="", n=3)
    for line in itertools.islice(lines, 2, None):  # past the two file headers, "---" and "+++"
        if line.startswith("@@"):
            yield DiffLine("gap", line)
        elif line.startswith("+"):
            yield DiffLine("add", line[1:])
        elif line.startswith("-"):
            yield DiffLine("remove", line[1:])
        else:
            yield DiffLine("same", line[1:])


def absolute_image_url(page: SitePage) -> str | None:
    """The page's social image as an absolute URL (a ``/media/...`` path on the configured public URL)."""
    if not page.social_image:
        return None
    if page.social_image.startswith("/"):
        return public_url() + page.social_image
    return page.social_image
