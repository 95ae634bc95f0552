"""The site's media library: images and PDFs that site pages show or link to (``/admin/media``).

- An image goes through IOUtils: decoded, re-encoded as WebP at the sizes pages use (:data:`RENDITION_SIZES`,
  never upscaled), EXIF and anything else dropped. Alt text is required.
- A PDF is stored as uploaded, but only once :func:`conexoos.app.utils.pdf_check.check_pdf` accepts its
  structure; it is served as an attachment (``blueprints/media.py``).
- Limits: ``APP.MEDIA_LIBRARY.MAX_FILE_BYTES`` per file (413) and ``MAX_TOTAL_BYTES`` for the whole library
  (422). An upload is whole or nothing: on any failure the files already stored are deleted again.
- "Where used": the site pages whose body or social image mention the item's addresses. Deleting an item
  in use needs a confirmation naming those pages; files go first (a storage error stops the deletion and
  is shown), then the row.

Every change is audit-logged in the transaction that makes it.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any
from urllib.parse import quote

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import func, or_, select, update
from werkzeug.exceptions import NotFound
from werkzeug.utils import secure_filename

from conexoos.app.models.persistent import MediaItem, SitePage, User
from conexoos.app.models.persistent.media_item import (
    ALT_MAX,
    IMAGE,
    NAME_MAX,
    PDF,
    TITLE_MAX,
    StoredRendition,
)
from conexoos.app.utils.io import EncodedImage, InvalidImage, NotAnImage, renditions
from conexoos.app.utils.pdf_check import InvalidPdf, check_pdf
from conexoos.app.utils.text import BIDI_PROBLEM, has_bidi_controls, has_control_characters, is_valid_unicode
from conexoos.framework import db
from conexoos.framework.storage import Storage, StorageError, media_storage
from conexoos.framework.storage.base import FileMissing, guess_content_type
from conexoos.framework.wording import human_size

from . import audit
from .roles import STAFF

log = logging.getLogger("conexoos.admin")
RENDITION_SIZES = (480, 960, 1600)
"""The boxes (width and height, in pixels) an image's renditions fit in: what pages use at 1x and 2x."""
SNIPPET_SIZE = 960
"""The rendition a Markdown snippet shows (the largest one no larger than this)."""
FOLDER = "library"
PDF_TYPE = "application/pdf"
NEITHER_IMAGE_NOR_PDF = (
    "This file is neither an image we can read nor a PDF: the library takes PNG, JPEG, WebP and GIF images, "
    "and PDFs."
)


@dataclass(frozen=True)
class MediaLimits:
    """``APP.MEDIA_LIBRARY``: the most bytes one file and the whole library may hold."""

    max_file_bytes: int
    max_total_bytes: int


class UploadRefused(ValueError):
    """An upload not stored; ``status`` is 413 (too large) or 422, the message says why in words."""

    def __init__(self, message: str, status: int = 422, field: str = "file") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


class ConfirmationNeeded(Exception):
    """A deletion of an item that pages use, asked without confirming those very pages."""

    def __init__(self, item: MediaItem, pages: Sequence[SitePage]) -> None:
        super().__init__(f"media item {item.id} is used by {len(pages)} page(s)")
        self.item = item
        self.pages = pages


class MediaStorageFailed(Exception):
    """The media storage refused to read or delete an item's file; the item is kept whole. The cause is
    chained (and logged: the message, shown to staff, leaves out the storage's own words)."""


@dataclass
class _Bytes:
    """Bytes already read, offered as the upload IOUtils reads."""

    filename: str | None
    stream: IO[bytes]


def limits() -> MediaLimits:
    """The configured limits (``APP.MEDIA_LIBRARY``)."""
    section: dict[str, Any] = current_app.extensions["conexoos"].settings.tree["APP"]["MEDIA_LIBRARY"]
    return MediaLimits(section["MAX_FILE_BYTES"], section["MAX_TOTAL_BYTES"])


def total_bytes() -> int:
    """Bytes the library's stored files take, every rendition and PDF."""
    return int(db.session.scalar(select(func.coalesce(func.sum(MediaItem.bytes_total), 0))) or 0)


def count_items() -> int:
    """How many items the library holds."""
    return int(db.session.scalar(select(func.count()).select_from(MediaItem)) or 0)


def list_items(limit: int, offset: int) -> Sequence[MediaItem]:
    """One page of items, newest first."""
    query = select(MediaItem).order_by(MediaItem.id.desc()).limit(limit).offset(offset)
    return db.session.scalars(query).all()


def get_item(item_id: int) -> MediaItem:
    """The item; 404 when there is none."""
    item = db.session.get(MediaItem, item_id)
    if item is None:
        raise NotFound("There is no such item in the media library.")
    return item


def upload(file: IO[bytes], filename: str, title: str, alt_text: str, uploader: User | None) -> MediaItem:
    """Check, store and record one upload (an image or a PDF); UploadRefused says why it was not."""
    title, alt_text = _clean_text(title, TITLE_MAX, "title"), _clean_text(alt_text, ALT_MAX, "alt_text")
    data = _read_limited(file)
    if _looks_like_pdf(data, filename):
        kind, content_type, encoded = PDF, PDF_TYPE, _checked_pdf(data)
    else:
        if not alt_text:
            raise UploadRefused(
                "Describe the image in the alt text: people who cannot see it hear or read that instead.",
                field="alt_text",
            )
        kind, content_type, encoded = IMAGE, "image/webp", _encoded_image(data, filename)
    incoming = sum(len(piece.data) for piece in encoded)
    _check_room(incoming)
    name = display_name(filename, kind)
    item = MediaItem(
        kind=kind,
        storage_key=secrets.token_hex(16),
        title=title or name.rsplit(".", 1)[0][:TITLE_MAX],
        alt_text=alt_text if kind == IMAGE else "",
        original_name=name,
        content_type=content_type,
        bytes_total=incoming,
        width=encoded[-1].width or None,
        height=encoded[-1].height or None,
        uploaded_by_id=uploader.id if uploader is not None else None,
    )
    _store_and_record(item, encoded)
    return item


def _read_limited(file: IO[bytes]) -> bytes:
    most = limits().max_file_bytes
    data = file.read(most + 1)
    if len(data) > most:
        raise UploadRefused(
            f"The file is larger than {human_size(most)}, the most one file may be on this site.", status=413
        )
    if not data:
        raise UploadRefused("The file is empty; choose an image or a PDF.")
    return data


IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
"""How PNG, JPEG and GIF files begin (WebP: :func:`_starts_as_image`)."""


def _looks_like_pdf(data: bytes, filename: str) -> bool:
    """Whether the upload is checked as a PDF. What it holds decides: a file that begins as an image is
    one whatever its name, and one that says it is a PDF in its first 1 KB (where readers look, so a PDF
    with a hidden prefix is refused with the PDF's reason rather than as a bad image) is one. The name
    decides only for a file that shows neither."""
    if _starts_as_image(data):
        return False
    return b"%PDF-" in data[:1024] or filename.lower().endswith(".pdf")


def _starts_as_image(data: bytes) -> bool:
    return data.startswith(IMAGE_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _checked_pdf(data: bytes) -> list[EncodedImage]:
    try:
        check_pdf(data)
    except InvalidPdf as error:
        raise UploadRefused(str(error)) from None
    return [EncodedImage(data, 0, 0)]


def _encoded_image(data: bytes, filename: str) -> list[EncodedImage]:
    try:
        return renditions(_Bytes(filename, BytesIO(data)), RENDITION_SIZES)
    except NotAnImage:
        raise UploadRefused(NEITHER_IMAGE_NOR_PDF) from None
    except InvalidImage as error:
        raise UploadRefused(str(error)) from None


def _check_room(incoming: int) -> None:
    most = limits().max_total_bytes
    used = total_bytes()
    if used + incoming > most:
        raise UploadRefused(
            f"The media library is full: it holds {human_size(used)} of its {human_size(most)} limit, "
            f"and this file needs {human_size(incoming)} once stored. Delete items you no longer use, or "
            "ask the operator to raise APP.MEDIA_LIBRARY.MAX_TOTAL_BYTES.",
            status=413 if incoming > most else 422,
        )


def _store_and_record(item: MediaItem, encoded: list[EncodedImage]) -> None:
    """Store the files, then the row and its audit entry; on any failure the stored files are deleted."""
    stored: list[StoredRendition] = []
    try:
        for piece in encoded:
            stored.append(_save(item, piece))
        item.renditions = stored
        _lock_library()
        _check_room(item.bytes_total)  # again, under the lock: uploads committed meanwhile count
        db.session.add(item)
        audit.record("media.upload", item, None, _state(item), f"uploaded {item.kind} {item.original_name!r}")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _delete_quietly([rendition.name for rendition in stored])
        raise


def _lock_library() -> None:
    """Serialise uploads until the commit, so that the site limit holds when uploads overlap.

    Only staff upload, so on PostgreSQL and MariaDB the staff accounts' rows are locked (in id order); on
    SQLite a no-op UPDATE takes the database's write lock at once. The transaction starts here, so under
    MariaDB's REPEATABLE READ the total read next is taken after the lock, not from an older snapshot."""
    db.session.commit()
    if db.session.get_bind().dialect.name == "sqlite":
        no_op = update(MediaItem).where(MediaItem.id == -1).values(title=MediaItem.title)
        db.session.execute(no_op, execution_options={"synchronize_session": False})
        return
    staff = select(User.id).where(User.role.in_(STAFF)).order_by(User.id).with_for_update()
    db.session.execute(staff).all()


def _save(item: MediaItem, piece: EncodedImage) -> StoredRendition:
    if item.kind == PDF:
        name = f"{FOLDER}/{item.storage_key}.pdf"
    else:
        name = f"{FOLDER}/{item.storage_key}-{piece.width}.webp"
    media_storage().save(name, piece.data, item.content_type)
    return StoredRendition(name, len(piece.data), piece.width, piece.height)


def _delete_quietly(names: list[str]) -> None:
    """Undo a failed upload's files; the upload's own error is what the person sees, so a file the storage
    cannot delete now is logged (WARNING, with the cause) as left behind, named by no row."""
    storage = media_storage()
    for name in names:
        try:
            storage.delete(name)
        except StorageError as error:
            log.warning("left unused media library file %s in %s: %s", name, storage.describe(), error)


def where_used(item: MediaItem) -> list[SitePage]:
    """The site pages whose Markdown body or social image mention one of the item's addresses."""
    needles = [f"{FOLDER}/{item.storage_key}"]
    if item.kind == PDF:
        needles.append(f"/media/library/{item.id}/")
    conditions = [
        column.contains(needle, autoescape=True)
        for needle in needles
        for column in (SitePage.body, SitePage.social_image)
    ]
    query = select(SitePage).where(or_(*conditions)).order_by(SitePage.title, SitePage.id)
    return list(db.session.scalars(query).all())


def image_at(address: str) -> MediaItem | None:
    """The image item one of whose renditions is served at ``address`` (``/media/library/<key>-<w>.webp``,
    as :func:`rendition_url` gives it); None for any other address."""
    match = _RENDITION_ADDRESS.fullmatch(address)
    if match is None:
        return None
    item = _item_with_key(match.group(2))
    if item is None or not item.is_image:
        return None
    return item if match.group(1) in {rendition.name for rendition in item.renditions} else None


def pdf_at(address: str) -> MediaItem | None:
    """The PDF item served at ``address`` (its download route, or its stored name); None otherwise."""
    download = _PDF_DOWNLOAD_ADDRESS.fullmatch(address)
    if download:
        item = db.session.get(MediaItem, int(download.group(1)))
    else:
        stored = _PDF_STORED_ADDRESS.fullmatch(address)
        item = _item_with_key(stored.group(1)) if stored else None
    return item if item is not None and item.kind == PDF else None


def _item_with_key(storage_key: str) -> MediaItem | None:
    return db.session.scalar(select(MediaItem).where(MediaItem.storage_key == storage_key))


_RENDITION_ADDRESS = re.compile(rf"/media/({FOLDER}/([0-9a-f]{{1,64}})-[0-9]{{1,5}}\.webp)")
_PDF_DOWNLOAD_ADDRESS = re.compile(rf"/media/{FOLDER}/([0-9]{{1,10}})/[^/]+")
_PDF_STORED_ADDRESS = re.compile(rf"/media/{FOLDER}/([0-9a-f]{{1,64}})\.pdf")


def usage_token(pages: Sequence[SitePage]) -> str:
    """What a confirmation form carries: the ids of the pages it listed (so a page that started using the
    item after the form was shown asks again)."""
    return ",".join(str(page.id) for page in sorted(pages, key=lambda page: page.id))


def delete_item(item_id: int, confirmation: str) -> MediaItem:
    """Delete the item's files, then its row; ConfirmationNeeded when pages use it and ``confirmation`` is
    not :func:`usage_token` of them; MediaStorageFailed (the item kept) when a file cannot be deleted."""
    item = get_item(item_id)
    pages = where_used(item)
    if pages and confirmation != usage_token(pages):
        raise ConfirmationNeeded(item, pages)
    _delete_files(media_storage(), [rendition.name for rendition in item.renditions])
    before = {**_state(item), "used_by_pages": [page.slug for page in pages]}
    audit.record("media.delete", item, before, None, f"deleted {item.kind} {item.original_name!r}")
    db.session.delete(item)
    db.session.commit()
    return item


def _delete_files(storage: Storage, names: list[str]) -> None:
    """Delete the files ``names``, or none of them: each is read first, and when one cannot be deleted,
    those deleted before it are saved again. :class:`MediaStorageFailed` then, the item kept whole (a file
    missing already, from a deletion interrupted before, counts as deleted). The storage's own words,
    which may name its folders, go to the log, not to the page."""
    kept = {name: data for name in names if (data := _read_if_there(storage, name)) is not None}
    deleted: list[str] = []
    for name in kept:
        try:
            storage.delete(name)
        except StorageError as error:
            log.warning("media storage %s could not delete %s: %s", storage.describe(), name, error)
            _save_again(storage, {done: kept[done] for done in deleted})
            raise MediaStorageFailed(
                f"The media storage could not delete {name}; the item is kept whole. Try again once the "
                "storage works (its log says why it failed)."
            ) from error
        deleted.append(name)


def _read_if_there(storage: Storage, name: str) -> bytes | None:
    try:
        return storage.read(name)
    except FileMissing:
        return None
    except StorageError as error:
        log.warning("media storage %s could not read %s: %s", storage.describe(), name, error)
        raise MediaStorageFailed(
            f"The media storage could not read {name} before deleting it; nothing is deleted. Try again "
            "once the storage works (its log says why it failed)."
        ) from error


def _save_again(storage: Storage, files: dict[str, bytes]) -> None:
    """Put back files deleted by an interrupted deletion; one that cannot be is logged (the item's page
    then shows it broken, and deleting the item again finishes the job)."""
    for name, data in files.items():
        try:
            storage.save(name, data, guess_content_type(name))
        except StorageError as error:
            log.error(
                "media storage %s lost %s: deleted, then could not be saved again: %s",
                storage.describe(),
                name,
                error,
            )


def _state(item: MediaItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "title": item.title,
        "alt_text": item.alt_text,
        "original_name": item.original_name,
        "files": [rendition.name for rendition in item.renditions],
        "bytes_total": item.bytes_total,
    }


_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]+')


def display_name(raw: str, kind: str) -> str:
    """The uploaded file's name, safe to show and to offer as a download name: the last path part, NFC,
    without control or format characters or ``\\ / : * ? " < > |``, at most 200 characters, a PDF's
    ending in ``.pdf``."""
    base = re.split(r"[\\/]", raw or "")[-1]
    text = "".join(
        " " if unicodedata.category(char).startswith("Z") else char
        for char in unicodedata.normalize("NFC", base)
        if not unicodedata.category(char).startswith("C")
    )
    text = " ".join(_UNSAFE_NAME.sub("_", text).split()).strip(". ")
    default = "document.pdf" if kind == PDF else "image"
    if not text:
        return default
    if kind == PDF and not text.lower().endswith(".pdf"):
        text += ".pdf"
    return _shortened(text)


def _shortened(text: str) -> str:
    """``text`` cut to NAME_MAX characters, keeping a short extension."""
    if len(text) <= NAME_MAX:
        return text
    stem, dot, ending = text.rpartition(".")
    if not dot or len(ending) > 10:
        return text[:NAME_MAX]
    return stem[: NAME_MAX - len(ending) - 1] + dot + ending


def url_name(item: MediaItem) -> str:
    """The ASCII name at the end of a PDF's address (``Resume_final.pdf``)."""
    ascii_name = secure_filename(item.original_name)
    if not ascii_name.lower().endswith(".pdf"):
        ascii_name = (ascii_name.rsplit(".", 1)[0] or "document") + ".pdf"
    return ascii_name if len(ascii_name) > 4 else "document.pdf"


def attachment_header(name: str) -> str:
    """``Content-Disposition`` for downloading ``name``: an ASCII ``filename`` for old clients, and the
    exact name as ``filename*`` (RFC 6266, RFC 5987 UTF-8 percent-encoding)."""
    fallback = secure_filename(name) or "document.pdf"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_url(item: MediaItem) -> str:
    """Where pages link to the item: a PDF's download address, or an image's middle rendition."""
    if item.kind == PDF:
        return url_for("media.library_file", item_id=item.id, name=url_name(item))
    return rendition_url(_snippet_rendition(item))


def rendition_url(rendition: StoredRendition) -> str:
    """Where one stored rendition is served (``/media/library/<key>-<width>.webp``)."""
    return url_for("media.serve", filename=rendition.name)


def _snippet_rendition(item: MediaItem) -> StoredRendition:
    fitting = [r for r in item.renditions if max(r.width, r.height) <= SNIPPET_SIZE]
    return fitting[-1] if fitting else item.renditions[0]


def markdown_snippet(item: MediaItem) -> str:
    """What to paste into a page's Markdown: ``![alt](url)`` for an image, ``[title](url)`` for a PDF."""
    label = _markdown_text(item.alt_text if item.kind == IMAGE else item.title)
    return f"{'!' if item.kind == IMAGE else ''}[{label}]({file_url(item)})"


def _markdown_text(text: str) -> str:
    return re.sub(r"([\\\[\]*_`<>!])", r"\\\1", " ".join(text.split()))


def html_snippet(item: MediaItem) -> str:
    """The HTML source of an ``<img>`` with ``srcset`` over every rendition (the browser picks the width it
    needs), its attributes escaped: text to show and copy (so a template escapes it once more)."""
    middle = _snippet_rendition(item)
    srcset = ", ".join(f"{rendition_url(r)} {r.width}w" for r in item.renditions)
    return str(
        Markup(
            '<img src="{src}" srcset="{srcset}" sizes="(max-width: {w}px) 100vw, {w}px" width="{w}" '
            'height="{h}" alt="{alt}" loading="lazy" decoding="async">'
        ).format(src=rendition_url(middle), srcset=srcset, w=middle.width, h=middle.height, alt=item.alt_text)
    )


def _clean_text(value: str, most: int, field: str) -> str:
    """``value`` on one line, its runs of spaces and line breaks made one space; refused (as every other
    form refuses them) with a control character, a text-direction control or a lone surrogate."""
    if has_control_characters(value, multiline=True) or not is_valid_unicode(value):
        raise UploadRefused("Remove the control characters (such as NUL) from the text.", field=field)
    if has_bidi_controls(value):
        raise UploadRefused(BIDI_PROBLEM, field=field)
    text = " ".join(value.split())
    if len(text) > most:
        raise UploadRefused(f"At most {most} characters; this has {len(text)}.", field=field)
    return text
