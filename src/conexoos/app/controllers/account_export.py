"""Exporting an account: one zip with ``account.json``, the page's statistics as CSV and every uploaded
image, built into the instance folder and downloaded from a signed link that expires.

Every export goes through :func:`build_export`: small accounts are built at once by the request that asks,
larger ones by the ``account-export`` task. The zip is written to disk entry by entry (images are copied
in chunks), so a large account never sits in memory; the download streams the file.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from conexoos.app.dto.stats import MAX_RANGE_DAYS, StatsQuery
from conexoos.app.models.persistent import ExportJob, ExternalIdentity, Product, User, UserLink
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.models.persistent.export_job import BUILDING, FAILED, PENDING, READY
from conexoos.app.utils.csv_export import to_csv
from conexoos.framework import db, runtime
from conexoos.framework.urls import public_url

from . import appearance, capture_entries, plans, stats, user_images
from .blocks.operations import Loaded, list_blocks
from .blocks.registry import KINDS

log = logging.getLogger("conexoos.accounts")
EXPORTS_FOLDER = "exports"
"""Folder of the built zips, in the instance folder."""
LINK_HOURS = 24
"""How long a built export may be downloaded; the ``account-export-prune`` task then deletes it."""
INLINE_ITEMS = 200
"""Accounts with at most this many links and products together are exported by the request..."""
INLINE_IMAGES = 10
"""... when they also hold at most this many uploaded images; larger ones by the task."""
TASK_BATCH = 5
TOKEN_SALT = "conexoos.account-export"
FORMAT_VERSION = 1
UTC_ZONE = ZoneInfo("UTC")


class ExportLinkRefused(Exception):
    """A download link that cannot be honoured; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ExportStatus:
    """What the settings page shows about the user's newest export."""

    job: ExportJob | None
    download_url: str | None


# ---------------------------------------------------------------- asking for and building an export


def request_export(user: User, now: datetime | None = None) -> ExportJob:
    """Queue an export of ``user``; a small account is built before returning. One in progress is reused;
    an older one is removed, so a person keeps at most one zip on disk."""
    now = now or utcnow()
    latest = ExportJob.latest_for(user.id)
    if latest is not None and in_progress(latest, now):
        return latest
    for old in ExportJob.of_user(user.id):
        remove_export(old)
    job = ExportJob(user_id=user.id, status=PENDING)
    job.save()
    if is_small(user):
        build_export(job, now)
    return job


def in_progress(job: ExportJob, now: datetime) -> bool:
    """Whether ``job`` waits or is being built (a build that never finished counts until it expires)."""
    return job.status in (PENDING, BUILDING) and (job.expires_at is None or job.expires_at > now)


def build_pending(now: datetime | None = None, limit: int = TASK_BATCH) -> int:
    """Build up to ``limit`` pending exports, oldest first (the ``account-export`` task); returns how many."""
    jobs = ExportJob.pending(limit)
    for job in jobs:
        build_export(job, now)
    return len(jobs)


def build_export(job: ExportJob, now: datetime | None = None) -> None:
    """Write ``job``'s zip and mark it ready until ``LINK_HOURS`` from now; on failure mark it failed.

    The job is claimed first (``pending`` to ``building`` in one UPDATE), so two processes never build it
    twice; a claimed build that never finishes expires like a built one and is pruned.
    """
    now = now or utcnow()
    expires = now + timedelta(hours=LINK_HOURS)
    job_id, user_id = job.id, job.user_id
    if not _set_state(job_id, (PENDING,), status=BUILDING, expires_at=expires):
        return  # another process builds it, or the user (and the job with them) is gone
    user = User.get_by_id(user_id)
    name = f"{secrets.token_hex(16)}.zip"
    target = exports_folder() / name
    try:
        if user is None:
            raise LookupError(f"user {user_id} is gone")
        write_zip(user, target, now)
    except Exception:
        # Any failure (disk full, a database error mid-way) must end as a failed job the person can
        # see and retry, not as a job building for ever; the traceback goes to the error log.
        log.exception("the export %s of user %s failed", job_id, user_id)
        db.session.rollback()
        target.unlink(missing_ok=True)
        _set_state(job_id, (BUILDING,), status=FAILED, file_name=None, expires_at=expires)
        return
    if not _set_state(job_id, (BUILDING,), status=READY, file_name=name, expires_at=expires):
        target.unlink(missing_ok=True)  # the account was deleted while its export was written


def _set_state(job_id: int, current: tuple[str, ...], **values: Any) -> bool:
    """Update the job if it is still in one of ``current``; whether it was."""
    with transaction():
        result = db.session.execute(
            update(ExportJob).where(ExportJob.id == job_id, ExportJob.status.in_(current)).values(**values)
        )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def exports_folder() -> Path:
    """Where built zips are kept (created when missing)."""
    folder = runtime().settings.instance_path / EXPORTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_path(job: ExportJob) -> Path | None:
    """The zip of a ready job, or None."""
    return exports_folder() / job.file_name if job.file_name else None


def prune_expired(now: datetime | None = None) -> int:
    """Delete the exports (zip and row) whose download time is over; returns how many."""
    now = now or utcnow()
    jobs = ExportJob.expired(now)
    for job in jobs:
        remove_export(job)
    _remove_orphans(now)
    return len(jobs)


def _remove_orphans(now: datetime) -> None:
    """Delete zips no job names that are older than a link's life (left by a crash or a deletion race)."""
    named = set(db.session.scalars(select(ExportJob.file_name).where(ExportJob.file_name.is_not(None))))
    oldest = (now - timedelta(hours=LINK_HOURS)).timestamp()
    for path in exports_folder().glob("*.zip"):
        if path.name not in named and path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)


def remove_export(job: ExportJob) -> None:
    """Delete an export's zip, then its row."""
    path = export_path(job)
    if path is not None:
        path.unlink(missing_ok=True)
    job.delete()


def is_small(user: User) -> bool:
    """Whether the request may build the user's export itself (few items and images)."""
    items = _count(UserLink.owner_id, user.id) + _count(Product.owner_id, user.id)
    return items <= INLINE_ITEMS and len(user_images.image_names(user)) <= INLINE_IMAGES


def _count(column: Any, user_id: int) -> int:
    return int(db.session.scalar(select(func.count()).where(column == user_id)) or 0)


# ---------------------------------------------------------------- the zip


def write_zip(user: User, target: Path, now: datetime) -> None:
    """Write the whole export of ``user`` to ``target`` (a partial file is left to the caller to remove)."""
    images = user_images.image_names(user)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        statistics = []
        for start, end in statistics_ranges(user, now.date()):
            name = f"statistics/{start.isoformat()}_{end.isoformat()}.csv"
            archive.writestr(name, statistics_csv(user, start, end))
            statistics.append(name)
        copied = [name for name in images if _copy_image(archive, name)]
        data = account_data(user, now, statistics, copied)
        archive.writestr("account.json", json.dumps(data, indent=2, ensure_ascii=False))


def _copy_image(archive: zipfile.ZipFile, name: str) -> bool:
    source = user_images.open_image(name)
    if source is None:
        return False
    # Images are compressed already: stored as they are, copied in chunks.
    entry = zipfile.ZipInfo(image_entry(name), date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_STORED
    with source, archive.open(entry, "w") as sink:
        shutil.copyfileobj(source, sink, length=1024 * 1024)
    return True


def image_entry(name: str) -> str:
    """Where the stored image ``name`` goes in the zip."""
    return f"images/{name}"


def statistics_ranges(user: User, today: date) -> Iterator[tuple[date, date]]:
    """The days whose statistics the export holds (from the account's creation, within the plan's history),
    in ranges of at most :data:`MAX_RANGE_DAYS` days, the form a report takes."""
    first = user.created_at.astimezone(UTC).date()
    history = plans.plan_for(user).history_days
    if history is not None:
        first = max(first, today - timedelta(days=max(history, 1) - 1))
    while first <= today:
        last = min(today, first + timedelta(days=MAX_RANGE_DAYS - 1))
        yield first, last
        first = last + timedelta(days=1)


def statistics_csv(user: User, start: date, end: date) -> str:
    """The statistics of ``start``..``end`` (UTC days) as ``/api/stats.csv`` gives them."""
    report = stats.report(user, StatsQuery(start, end, UTC_ZONE, None))
    return to_csv(stats.CSV_HEADER, stats.report_rows(report))


def account_data(user: User, now: datetime, statistics: list[str], images: list[str]) -> dict[str, Any]:
    """``account.json``: everything the person entered, and where the rest of the zip is. No password hash,
    no payment provider ids, nothing secret."""
    plan = plans.plan_for(user)
    avatar = image_entry(user.avatar) if user.avatar in images else None
    return {
        "format": "conexoos-account-export",
        "version": FORMAT_VERSION,
        "exported_at": _iso(now),
        "profile": {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "bio": user.bio,
            "avatar": avatar,
            "page_url": f"{public_url()}/{user.username}",
            "created_at": _iso(user.created_at),
        },
        "settings": {
            "plan": plan.key,
            "plan_name": plan.name,
            "subscription_status": user.subscription_status,
            "plan_ends_at": _iso_or_none(user.plan_ends_at),
            "period_ends_at": _iso_or_none(user.period_ends_at),
        },
        "appearance": _appearance_data(user, images),
        "page": [_block_data(loaded) for loaded in list_blocks(user)],
        "links": [_link_data(link, images) for link in UserLink.get_links_by_user_id(user.id)],
        "products": [_product_data(product, images) for product in Product.get_products_by_user_id(user.id)],
        **_kinds_data(user),
        "linked_sign_ins": [_identity_data(row) for row in ExternalIdentity.of_user(user.id)],
        "email_signups": capture_entries.entries_data(user),
        "statistics": statistics,
        "images": [image_entry(name) for name in images],
    }


def _appearance_data(user: User, images: list[str]) -> dict[str, Any]:
    """The page's theme and overrides as saved (None: the theme's own), the background image by its entry."""
    chosen = asdict(appearance.stored(user))
    image = chosen["background_image"]
    chosen["background_image"] = image_entry(image) if image in images else None
    return chosen


def _block_data(loaded: Loaded) -> dict[str, Any]:
    """A block of the page, in page order: its kind, the link or product it shows, and its own fields."""
    block = loaded.block
    kind = KINDS.get(block.kind)  # a kind this version does not know (left by a newer one): its name only
    fields = kind.exported_fields(block, loaded.link, loaded.product) if kind is not None else {}
    return {"kind": block.kind, "item_id": block.link_id or block.product_id, **fields}


def _kinds_data(user: User) -> dict[str, Any]:
    """The sections each block kind adds (``BlockKind.exported_data``), by section name."""
    return {name: value for kind in KINDS.values() for name, value in kind.exported_data(user).items()}


def _identity_data(row: ExternalIdentity) -> dict[str, Any]:
    """A linked sign-in: which provider, the person's id and address there, when linked and last used."""
    last = row.last_login_at
    return {
        "backend": row.backend,
        "provider": row.provider,
        "subject": row.subject,
        "email": row.email,
        "linked_at": _iso(row.created_at),
        "last_login_at": _iso(last) if last else None,
    }


def _link_data(link: UserLink, images: list[str]) -> dict[str, Any]:
    icon = image_entry(link.icon) if link.icon in images else None
    created, updated = _iso(link.created_at), _iso(link.updated_at)
    lock = link.lock_json()  # whether it is locked; never the password's hash
    return {
        **link.to_json(),
        "icon": icon,
        "sensitive": lock["sensitive"],
        "has_passcode": lock["has_passcode"],
        "created_at": created,
        "updated_at": updated,
    }


def _product_data(product: Product, images: list[str]) -> dict[str, Any]:
    image = image_entry(product.image) if product.image in images else None
    data = product.to_json(image_url=image or "")
    data.pop("image_url")
    return {**data, "image": image, "created_at": _iso(product.created_at)}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _iso_or_none(value: datetime | None) -> str | None:
    return _iso(value) if value is not None else None


# ---------------------------------------------------------------- the signed download link


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=TOKEN_SALT)


def download_token(job: ExportJob) -> str:
    """A signed token naming the job, its owner and its file; valid for :data:`LINK_HOURS`."""
    return _serializer().dumps([job.id, job.user_id, job.file_name])


def job_for_download(token: str, user: User, now: datetime | None = None) -> tuple[ExportJob, Path]:
    """The ready job and zip a token names, for its owner only; :class:`ExportLinkRefused` otherwise."""
    try:
        job_id, user_id, file_name = _serializer().loads(token, max_age=LINK_HOURS * 3600)
    except SignatureExpired:
        raise ExportLinkRefused(410, "This download link has expired. Ask for a new export.") from None
    except (BadSignature, ValueError, TypeError):
        raise ExportLinkRefused(404, "This download link is not valid.") from None
    if user_id != user.id:
        raise ExportLinkRefused(403, "This export belongs to another account.")
    job = ExportJob.get_owned(job_id, user.id) if isinstance(job_id, int) else None
    path = export_path(job) if job is not None and job.file_name == file_name else None
    expired = job is None or job.expires_at is None or job.expires_at <= (now or utcnow())
    if job is None or path is None or expired or not path.is_file():
        raise ExportLinkRefused(410, "This export has expired or was removed. Ask for a new export.")
    return job, path


def status_for(user: User, now: datetime | None = None) -> ExportStatus:
    """The user's newest export and, when it may be downloaded, its signed link (a path on this site)."""
    job = ExportJob.latest_for(user.id)
    if job is None or job.status != READY or job.expires_at is None or job.expires_at <= (now or utcnow()):
        return ExportStatus(job, None)
    return ExportStatus(job, url_for("account_settings.download_export", token=download_token(job)))
