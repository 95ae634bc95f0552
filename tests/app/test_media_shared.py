"""Two hosts, one upload, read from both: two apps from the factory with their own instance folders,
sharing the database (and, for ``s3``, a bucket of moto's S3 server), as behind a round-robin balancer."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conexoos.app.models.persistent import Product, User
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.fixtures.empty_database import database_url
from tests.support.moto_s3 import S3Server

from .conftest import QUIET, RATE_LIMITS_OFF, sign_up
from .media_support import noisy_png, s3_server
from .test_uploads import upload

__all__ = ["s3_server"]
pytestmark = pytest.mark.database_matrix


def media_settings(backend: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The configuration both hosts share for ``backend``."""
    if backend != "s3":
        return {"SERVER_ENV": {"MEDIA": {"BACKEND": backend}}}
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    return {"SERVER_ENV": {"MEDIA": {"BACKEND": "s3"}}, "SERVICES": {"s3": server.settings(bucket, "media")}}


def two_hosts(make_app: AppFactory, tmp_path: Path, shared: dict[str, Any]) -> tuple[Flask, Flask]:
    """Host A and host B: one database, one media configuration, an instance folder each."""
    common = deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), shared)
    host_a = make_app(overrides=deep_merge(common, {"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "a")}}))
    host_b = make_app(
        overrides=deep_merge(common, {"SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "b")}}),
        database_url=database_url(host_a),
    )
    return host_a, host_b


def stored_names(app: Flask, user_id: int) -> tuple[str, str]:
    """The user's avatar and first product image, as the rows name them."""
    with app.app_context():
        user = db.session.get(User, user_id)
        product = db.session.scalars(db.select(Product).where(Product.owner_id == user_id)).one()
        assert user is not None and user.avatar
        return user.avatar, product.image


@pytest.mark.parametrize("backend", ["database", "s3"])
def test_an_upload_through_one_host_is_served_by_the_other(
    make_app: AppFactory, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    host_a, host_b = two_hosts(make_app, tmp_path, media_settings(backend, request))
    alice = sign_up(host_a, "alice")
    assert upload(alice, noisy_png(seed=1), "me.png").status_code == 302
    created = alice.api("POST", "/api/add/product", {"title": "Book", "price": 100, "currency": "EUR",
                                                     "buy_url": "https://shop.example/b"})  # fmt: skip
    product_id = created.get_json()["id"]
    image = alice.client.post(
        f"/api/product/{product_id}/image",
        data={"image": (io.BytesIO(noisy_png((300, 200), seed=2)), "book.png")},
        headers={"X-CSRFToken": alice.csrf},
        content_type="multipart/form-data",
    )
    assert image.status_code == 200, image.get_data(as_text=True)

    visitor_a, visitor_b = host_a.test_client(), host_b.test_client()
    for name in stored_names(host_a, alice.id):
        from_a, from_b = visitor_a.get(f"/media/{name}"), visitor_b.get(f"/media/{name}")
        assert (from_a.status_code, from_b.status_code) == (200, 200), name
        assert from_b.data == from_a.data and from_b.data[8:12] == b"WEBP"
        assert from_b.headers["ETag"] == from_a.headers["ETag"]
        assert from_b.headers["Content-Type"] == "image/webp"
        assert from_b.headers["Cache-Control"] == "public, max-age=3600"
        again = visitor_b.get(f"/media/{name}", headers={"If-None-Match": from_a.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        weakly = visitor_b.get(f"/media/{name}", headers={"If-None-Match": "W/" + from_a.headers["ETag"]})
        assert weakly.status_code == 304, "If-None-Match compares weakly (RFC 9110 13.1.2)"
    avatar, _ = stored_names(host_b, alice.id)
    assert f"/media/{avatar}" in visitor_b.get("/alice").get_data(as_text=True)
    for host in ("a", "b"):  # nothing was kept on either host's own disk
        assert not (tmp_path / host / "uploads").exists()


def test_with_the_local_backend_each_host_only_has_its_own_files(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """What the shared backends fix: the embedded default keeps files on the host that received them."""
    host_a, host_b = two_hosts(make_app, tmp_path, {})
    alice = sign_up(host_a, "alice")
    assert upload(alice, noisy_png(seed=3), "me.png").status_code == 302
    with host_a.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.avatar
        avatar = user.avatar
    assert host_a.test_client().get(f"/media/{avatar}").status_code == 200
    assert host_b.test_client().get(f"/media/{avatar}").status_code == 404
    assert (tmp_path / "a" / "uploads" / avatar).is_file()


def test_an_unreachable_store_is_a_503_that_saves_nothing(make_app: AppFactory, tmp_path: Path) -> None:
    s3 = {"ENDPOINT_URL": "http://127.0.0.1:9", "BUCKET": "media", "REGION": "us-east-1",
          "ACCESS_KEY_ID": "a", "SECRET_ACCESS_KEY": "b"}  # fmt: skip
    app = make_app(
        overrides=deep_merge(
            deep_merge(RATE_LIMITS_OFF, QUIET),
            {"SERVER_ENV": {"MEDIA": {"BACKEND": "s3"}}, "SERVICES": {"s3": s3}},
        )
    )
    alice = sign_up(app, "alice")
    response = upload(alice, noisy_png(seed=6), "me.png")
    assert response.status_code == 503
    assert "nothing was saved" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.avatar is None
    assert app.test_client().get("/media/img/avatars/00.webp").status_code == 503
