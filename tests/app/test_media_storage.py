"""The storage contract, held by each backend: local (a folder), database (SQLite, and PostgreSQL and
MariaDB in the matrix) and s3 (moto's S3 server in its own process)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from conexoos.framework.storage import (
    DatabaseStorage,
    FileMissing,
    InvalidName,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
)
from tests.support.moto_s3 import S3Server

from .media_support import s3_server

__all__ = ["s3_server"]
pytestmark = pytest.mark.database_matrix

EVERY_BYTE = bytes(range(256)) * 40
AVATAR = "img/avatars/0123456789abcdef0123456789abcdef.webp"


@pytest.fixture(params=["local", "database", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """Each backend, empty; the database one inside the product app's context."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "media")
    elif request.param == "database":
        app: Flask = request.getfixturevalue("app")
        with app.app_context():
            yield DatabaseStorage()
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        yield S3Storage(server.settings(server.new_bucket(), prefix="site-a"))


def test_a_saved_file_reads_back_whole_with_its_size_hash_and_type(storage: Storage) -> None:
    saved = storage.save(AVATAR, EVERY_BYTE, "image/webp")
    assert saved.size == len(EVERY_BYTE)
    assert saved.sha256 == hashlib.sha256(EVERY_BYTE).hexdigest() == saved.etag
    assert storage.read(AVATAR) == EVERY_BYTE
    assert storage.open(AVATAR).read() == EVERY_BYTE
    assert storage.exists(AVATAR)
    stat = storage.stat(AVATAR)
    assert stat is not None
    assert (stat.size, stat.sha256, stat.content_type) == (len(EVERY_BYTE), saved.sha256, "image/webp")


def test_saving_a_name_again_replaces_the_file(storage: Storage) -> None:
    storage.save(AVATAR, b"first version")
    storage.save(AVATAR, b"second")
    assert storage.read(AVATAR) == b"second"
    stat = storage.stat(AVATAR)
    assert stat is not None and stat.size == len(b"second")
    assert list(storage.names()) == [AVATAR]


def test_a_missing_file_is_missing_everywhere_and_deleting_it_is_harmless(storage: Storage) -> None:
    assert storage.stat(AVATAR) is None
    assert not storage.exists(AVATAR)
    with pytest.raises(FileMissing):
        storage.read(AVATAR)
    storage.delete(AVATAR)  # nothing to delete: no error


def test_delete_removes_only_that_file(storage: Storage) -> None:
    other = "img/products/ffff.webp"
    storage.save(AVATAR, b"a")
    storage.save(other, b"b")
    storage.delete(AVATAR)
    assert not storage.exists(AVATAR)
    assert storage.read(other) == b"b"
    assert list(storage.names()) == [other]


def test_names_lists_every_file_in_nested_folders_and_nothing_else(storage: Storage) -> None:
    names = {"a.txt", "img/avatars/1.webp", "img/products/2.webp", "img/products/3.webp"}
    for name in names:
        storage.save(name, name.encode())
    assert set(storage.names()) == names
    assert {name: storage.read(name) for name in names} == {name: name.encode() for name in names}


def test_a_name_that_could_escape_or_hide_is_refused(storage: Storage) -> None:
    for name in ["../escape.webp", "/etc/passwd", ".hidden", "img/../../x", "img//x", "", "a\\b", "ü.webp"]:
        with pytest.raises(InvalidName):
            storage.save(name, b"x")
        with pytest.raises(InvalidName):
            storage.read(name)
        with pytest.raises(InvalidName):
            storage.delete(name)
    assert list(storage.names()) == []


def test_local_writes_leave_no_temporary_file_behind(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    storage.save(AVATAR, EVERY_BYTE)
    storage.save(AVATAR, b"replaced")
    files = [path.relative_to(tmp_path / "media").as_posix() for path in (tmp_path / "media").rglob("*")]
    assert sorted(files) == ["img", "img/avatars", AVATAR]


def test_an_unreachable_s3_endpoint_is_a_storage_error_naming_it() -> None:
    storage = S3Storage(
        {"ENDPOINT_URL": "http://127.0.0.1:9", "BUCKET": "media", "REGION": "us-east-1",
         "ACCESS_KEY_ID": "a", "SECRET_ACCESS_KEY": "hidden-secret"}
    )  # fmt: skip
    with pytest.raises(StorageError) as raised:
        storage.save(AVATAR, b"x")
    assert "127.0.0.1:9" in str(raised.value)
    assert "hidden-secret" not in str(raised.value)
