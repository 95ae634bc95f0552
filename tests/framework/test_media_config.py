"""``SERVER_ENV.MEDIA`` and ``SERVICES.s3``: validated like every key, the secret key never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from conexoos.framework import ConfigError, load_settings
from conexoos.framework.storage import DatabaseStorage, LocalStorage, S3Storage, build_storage

from .helpers import write_files

S3 = (
    "SERVICES:\n  s3:\n    ENDPOINT_URL: http://127.0.0.1:9000\n    BUCKET: media\n"
    "    ACCESS_KEY_ID: conexoos\n    SECRET_ACCESS_KEY: s3-very-secret\n"
)


def settings_of(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    return load_settings(write_files(tmp_path, {"config.yml": text}) / "config.yml", environ={})


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings_of(tmp_path, text)
    return caught.value.problems


def test_the_default_is_the_uploads_folder_of_the_instance(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, "SERVER_ENV:\n  INSTANCE_PATH: inst\n")
    storage = build_storage(settings)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "inst" / "uploads").resolve()


def test_each_backend_is_built_from_its_keys(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, "SERVER_ENV:\n  MEDIA:\n    BACKEND: s3\n" + S3)
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("media", "")
    assert "s3-very-secret" not in storage.describe()
    assert isinstance(build_storage(settings, "database"), DatabaseStorage)


def test_s3_needs_a_bucket(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "SERVER_ENV:\n  MEDIA:\n    BACKEND: s3\n") == [
        "SERVER_ENV.MEDIA.BACKEND: 's3' needs SERVICES.s3.BUCKET (and ENDPOINT_URL for a store other than "
        "AWS); add them or choose another BACKEND"
    ]


def test_database_needs_a_database(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "SERVER_ENV:\n  MEDIA:\n    BACKEND: database\nDATABASE: {}\n")
    assert problems == [
        "SERVER_ENV.MEDIA.BACKEND: 'database' keeps media in the default database, and DATABASE has no "
        "connection; add one or choose another BACKEND"
    ]


def test_an_unknown_backend_or_addressing_style_is_one_line(tmp_path: Path) -> None:
    text = "SERVER_ENV:\n  MEDIA:\n    BACKEND: nfs\n" + S3 + "    ADDRESSING_STYLE: sideways\n"
    problems = problems_of(tmp_path, text)
    assert any(line.startswith("SERVER_ENV.MEDIA.BACKEND: 'nfs' is not valid") for line in problems), problems
    assert any(line.startswith("SERVICES.s3.ADDRESSING_STYLE: 'sideways'") for line in problems), problems


def test_the_secret_access_key_is_redacted(tmp_path: Path) -> None:
    redacted = settings_of(tmp_path, S3).redacted()
    assert redacted["SERVICES"]["s3"]["SECRET_ACCESS_KEY"] == "***"
    assert redacted["SERVICES"]["s3"]["ACCESS_KEY_ID"] == "conexoos"
    assert "s3-very-secret" not in repr(redacted)
