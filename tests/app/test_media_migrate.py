"""``conexoos media migrate --to BACKEND``: local → database → s3 with every file intact; idempotent,
resumable, and a copy that differs is replaced."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from flask import Flask

from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from conexoos.framework.storage import DatabaseStorage, LocalStorage, S3Storage
from tests.conftest import AppFactory, base_overrides
from tests.support.cli import run_cli
from tests.support.moto_s3 import S3Server

from .conftest import QUIET, RATE_LIMITS_OFF, sign_up
from .media_support import noisy_png, s3_server
from .test_uploads import upload

__all__ = ["s3_server"]
EXTRA = {"img/products/aaaa.webp": b"RIFF....WEBPproduct", "img/odd/bytes.bin": bytes(range(256)) * 64}


def write_config(path: Path, tmp_path: Path, backend: str, s3: dict[str, Any]) -> Path:
    tree = deep_merge(deep_merge(base_overrides(tmp_path), deep_merge(RATE_LIMITS_OFF, QUIET)), {
        "SERVER_ENV": {"MEDIA": {"BACKEND": backend}}, "SERVICES": {"s3": s3},
    })  # fmt: skip
    path.write_text(yaml.safe_dump(tree))
    return path


def migrate(config: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    return run_cli(monkeypatch, "--config", str(config), "media", "migrate", *args)


def digests(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def test_media_moves_from_local_to_database_to_s3_intact(
    make_app: AppFactory, tmp_path: Path, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = s3_server.settings(s3_server.new_bucket(), prefix="conexoos")
    config = write_config(tmp_path / "config.yml", tmp_path, "local", s3)
    app = make_app(config=str(config))
    alice = sign_up(app, "alice")
    assert upload(alice, noisy_png(seed=5), "me.png").status_code == 302
    local = LocalStorage(tmp_path / "instance" / "uploads")
    for name, data in EXTRA.items():
        local.save(name, data)
    (local.root / "img" / ".upload-half-written").write_bytes(b"never a stored file")
    originals = {name: local.read(name) for name in local.names()}
    assert len(originals) == 3
    with app.app_context():  # an earlier run copied one file, and left another one wrong
        done, damaged = sorted(EXTRA)
        DatabaseStorage().save(done, EXTRA[done])
        DatabaseStorage().save(damaged, b"truncated")

    first = migrate(config, monkeypatch, "--to", "database")
    assert first.exit_code == 0, first.output
    assert "3 files: 2 copied, 1 already there, 0 failed" in first.output
    assert "set SERVER_ENV.MEDIA.BACKEND: database" in first.output
    again = migrate(config, monkeypatch, "--to", "database")
    assert "3 files: 0 copied, 3 already there, 0 failed" in again.output
    with app.app_context():
        assert digests({name: DatabaseStorage().read(name) for name in originals}) == digests(originals)

    write_config(config, tmp_path, "database", s3)
    to_s3 = migrate(config, monkeypatch, "--to", "s3")
    assert to_s3.exit_code == 0, to_s3.output
    assert "3 files: 3 copied, 0 already there, 0 failed" in to_s3.output
    bucket = S3Storage(s3)
    assert sorted(bucket.names()) == sorted(originals)
    assert digests({name: bucket.read(name) for name in originals}) == digests(originals)

    write_config(config, tmp_path, "s3", s3)
    served = make_app(config=str(config), schema=False)
    avatar = avatar_of(served, alice.id)
    response = served.test_client().get(f"/media/{avatar}")
    assert response.status_code == 200 and response.data == originals[avatar]


def test_migrating_to_the_backend_in_use_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: AppFactory
) -> None:
    config = write_config(tmp_path / "config.yml", tmp_path, "local", {})
    make_app(config=str(config))
    result = migrate(config, monkeypatch, "--to", "local")
    assert result.exit_code == 2
    assert "already in local" in result.output


def avatar_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None and user.avatar
        return user.avatar
