"""The site's storage limit holds when uploads overlap: 20 parallel uploads into room for 3 leave exactly 3
items, and the refused ones leave no file behind. Real requests from their own threads, released together
(as in test_plan_limits_concurrency.py); run on SQLite, PostgreSQL and MariaDB (``database_matrix``)."""

from __future__ import annotations

from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import MediaItem
from conexoos.app.utils.io import renditions
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from conexoos.framework.database import create_schema
from conexoos.framework.storage import media_storage
from tests.app.staff_support import make_staff
from tests.conftest import AppFactory

from .conftest import QUIET, RATE_LIMITS_OFF, TEMPLATE_CACHE, _no_fsync, sign_up
from .media_library_support import png
from .test_plan_limits_concurrency import PARALLEL, _pool_options, at_once

pytestmark = pytest.mark.database_matrix

ROOM_FOR = 3
PICTURE = png((40, 40))


class _Upload:
    filename = "p.png"

    def __init__(self) -> None:
        self.stream = BytesIO(PICTURE)


STORED_BYTES = sum(len(piece.data) for piece in renditions(_Upload(), (480, 960, 1600)))


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product with a library that has room for three of the pictures, and a pool for 20 threads."""
    limit = {"MAX_TOTAL_BYTES": STORED_BYTES * ROOM_FOR + STORED_BYTES // 2}
    overrides = deep_merge(
        deep_merge(RATE_LIMITS_OFF, QUIET),
        {
            "APP": {"MEDIA_LIBRARY": limit},
            "FLASK": {"CONFIG": {"SQLALCHEMY_ENGINE_OPTIONS": _pool_options()}},
        },
    )
    built = make_app(overrides=overrides, schema=False)
    built.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with built.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _no_fsync)
    create_schema(built, built.extensions["conexoos"].settings)
    return built


def test_parallel_uploads_never_pass_the_site_limit(app: Flask) -> None:
    boss = make_staff(app, sign_up(app, "boss"), "admin")

    def post(client: FlaskClient, number: int) -> TestResponse:
        return client.post(
            "/admin/media",
            data={"csrf_token": boss.csrf, "file": (BytesIO(PICTURE), f"p{number}.png"), "alt_text": "P"},
            content_type="multipart/form-data",
        )

    statuses = at_once(app, boss, post)
    assert sorted(statuses) == [302] * ROOM_FOR + [422] * (PARALLEL - ROOM_FOR), statuses
    with app.app_context():
        kept = db.session.scalars(db.select(MediaItem)).all()
        names = sorted(name for name in media_storage().names() if name.startswith("library/"))
        assert len(kept) == ROOM_FOR
        assert names == sorted(r.name for item in kept for r in item.renditions)
