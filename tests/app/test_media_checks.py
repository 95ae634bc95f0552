"""The media store's health is seen before the uploads fail: ``config check --connect`` and ``/readyz`` try
the S3 bucket (the tests' own moto server), ``media migrate`` refuses a target that is not configured, and
``/media/...`` is served while the session store is down."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from conexoos.framework.storage.s3 import make_client
from tests.conftest import AppFactory, base_overrides
from tests.framework.helpers import free_port
from tests.framework.test_cli import invoke
from tests.support.cli import run_cli
from tests.support.moto_s3 import S3Server
from tests.support.redis_server import RedisServer

from .conftest import QUIET, RATE_LIMITS_OFF, sign_up
from .media_support import noisy_png, s3_server
from .test_media_migrate import migrate, write_config
from .test_uploads import upload

__all__ = ["s3_server"]


def connect_check(tmp_path: Path, s3: dict[str, Any]) -> Any:
    config = {
        "SERVER_ENV": {"ENV": "DEV", "INSTANCE_PATH": str(tmp_path / "instance"), "MEDIA": {"BACKEND": "s3"}},
        "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'app.db'}"}},
        "SERVICES": {"s3": s3},
    }
    path = tmp_path / "config.yml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return invoke("config", "check", "--connect", "--config", str(path))


def s3_line(result: Any) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("SERVICES.s3"))


def test_connect_check_tries_the_s3_bucket(tmp_path: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    answered = connect_check(tmp_path, s3_server.settings(bucket))
    assert answered.exit_code == 0, answered.output
    assert s3_line(answered) == f"SERVICES.s3 ({s3_server.endpoint}, {bucket}): ok"

    missing = connect_check(tmp_path, s3_server.settings("no-such-bucket"))
    assert missing.exit_code == 1, missing.output
    assert s3_line(missing) == (
        f"SERVICES.s3 ({s3_server.endpoint}, no-such-bucket): FAILED: bucket 'no-such-bucket' does not exist"
    )

    nowhere = f"http://127.0.0.1:{free_port()}"
    down = connect_check(tmp_path, {**s3_server.settings(bucket), "ENDPOINT_URL": nowhere})
    assert down.exit_code == 1, down.output
    assert s3_line(down) == (
        f"SERVICES.s3 ({nowhere}, {bucket}): FAILED: connection refused: nothing listens at {nowhere} "
        "(is the server running?)"
    )
    assert "test-secret" not in down.output


def s3_app(make_app: AppFactory, s3: dict[str, Any]) -> Any:
    overrides = {"SERVER_ENV": {"MEDIA": {"BACKEND": "s3"}}, "SERVICES": {"s3": s3}}
    return make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides))


def test_readyz_reports_the_s3_bucket_quickly_and_not_on_every_poll(
    make_app: AppFactory, s3_server: S3Server
) -> None:
    ready = s3_app(make_app, s3_server.settings(s3_server.new_bucket())).test_client().get("/readyz")
    assert (ready.status_code, ready.get_json()["checks"]["media"]) == (200, "ok")

    late_bucket = "media-created-later"
    client = s3_app(make_app, s3_server.settings(late_bucket)).test_client()
    missing = client.get("/readyz")
    assert missing.status_code == 200  # public pages work without the bucket: degraded, not down
    assert missing.get_json()["status"] == "degraded"
    assert missing.get_json()["checks"]["media"] == "down" and missing.get_json()["down"] == ["media"]
    assert client.get("/readyz?strict=1").status_code == 503
    make_client(s3_server.settings(late_bucket)).create_bucket(Bucket=late_bucket)
    # the bucket is there now; the last answer is kept
    assert client.get("/readyz").get_json()["checks"]["media"] == "down"

    stopped = s3_app(make_app, {**s3_server.settings(late_bucket), "ENDPOINT_URL": "http://10.255.255.1:9"})
    started = time.monotonic()
    unanswered = stopped.test_client().get("/readyz")  # a host that never answers: the probe gives up fast
    took = time.monotonic() - started
    media = unanswered.get_json()["checks"]["media"]
    assert (unanswered.status_code, media, took < 2.5) == (200, "down", True), (unanswered.status_code, took)


def test_readyz_sees_the_bucket_again_once_the_cached_answer_is_old(
    make_app: AppFactory, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conexoos.framework.storage import s3

    monkeypatch.setattr(s3, "PROBE_CACHE_SECONDS", 0.2)
    bucket = "media-back-soon"
    client = s3_app(make_app, s3_server.settings(bucket)).test_client()
    assert client.get("/readyz").get_json()["checks"]["media"] == "down"
    s3.make_client(s3_server.settings(bucket)).create_bucket(Bucket=bucket)
    time.sleep(0.3)
    assert client.get("/readyz").get_json()["checks"]["media"] == "ok"


def test_migrate_to_an_unconfigured_backend_says_what_is_missing_and_tries_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "config.yml", tmp_path, "local", {})
    result = migrate(config, monkeypatch, "--to", "s3")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "error: --to 's3' needs SERVICES.s3.BUCKET (and ENDPOINT_URL for a store other than AWS); add them "
        "or choose another BACKEND"
    ]
    unknown = migrate(config, monkeypatch, "--to", "ftp")
    assert unknown.exit_code == 2 and "'ftp' is not one of 'local', 'database', 's3'" in unknown.output


def test_migrate_to_the_database_without_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "site"  # a project without models may have no database at all
    project.mkdir()
    config = tmp_path / "config.yml"
    config.write_text(json.dumps({**base_overrides(tmp_path), "DATABASE": {}}))
    argv = ["--project", str(project), "--config", str(config), "media", "migrate", "--to", "database"]
    result = run_cli(monkeypatch, *argv)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "error: --to 'database' keeps media in the default database, and DATABASE has no connection; add one "
        "or choose another BACKEND"
    ]


def test_media_is_served_to_a_signed_in_owner_while_the_session_store_is_down(make_app: AppFactory) -> None:
    redis = RedisServer().start()
    try:
        overrides = {"SERVER_ENV": {"SESSION": "redis"}, "SERVICES": {"redis": redis.service}}
        app = make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), overrides))
        owner = sign_up(app, "owner")
        assert upload(owner, noisy_png(seed=7), "me.png").status_code == 302
        with app.app_context():
            avatar = db.session.scalar(select(User.avatar).where(User.username == "owner"))
        assert avatar
        redis.stop()
        assert owner.client.get("/dashboard").status_code == 503  # the store is really down
        image = owner.client.get(f"/media/{avatar}")
        assert image.status_code == 200 and image.data.startswith(b"RIFF")
        assert owner.client.get("/owner").status_code == 200
    finally:
        redis.stop()
        redis.close()
