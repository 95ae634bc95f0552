"""``s3``: files as objects of a bucket in any S3-compatible store (AWS S3, MinIO, Ceph, Garage, R2...),
through boto3.

Files are served by proxying them through the app (``/media/...``), not by redirecting to a presigned URL:
pages keep their same-origin Content-Security-Policy (``img-src 'self'``), the store may sit on a private
network the visitors cannot reach, and every host answers with the same ETag and cache headers. The cost is
the bytes passing through a worker, which the long ``Cache-Control`` makes rare (browsers and proxies keep
each image, whose name never changes, for a year).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .base import FileMissing, Storage, StorageError, StorageFull, StoredFile, check_name, describe

SHA256_METADATA = "sha256"
"""User metadata holding the content's SHA-256 (S3's own ETag is an MD5, or not even that for multipart)."""
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
FULL_CODES = frozenset({"XMinioStorageFull", "InsufficientStorage", "507"})
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
_SESSION_LOCK = threading.Lock()
_boto3_session: Any = None
"""One boto3 session for every client of the process: it loads S3's service model once, not per app."""


class S3Storage(Storage):
    """Objects under ``PREFIX`` in ``BUCKET``; the boto3 client is made on first use, once per storage."""

    backend = "s3"

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = dict(settings)
        prefix = str(self.settings.get("PREFIX") or "").strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.bucket = str(self.settings.get("BUCKET") or "")
        self._client: Any = None
        self._lock = threading.Lock()

    def save(self, name: str, data: bytes, content_type: str | None = None) -> StoredFile:
        """One PUT: the store keeps the whole object or none of it."""
        stored = describe(check_name(name), data, content_type)
        self._call(
            "put_object",
            name,
            Body=data,
            ContentType=stored.content_type,
            Metadata={SHA256_METADATA: stored.sha256},
        )
        return stored

    def stat(self, name: str) -> StoredFile | None:
        """HEAD the object: size, type and the SHA-256 saved with it."""
        try:
            head = self._call("head_object", check_name(name))
        except FileMissing:
            return None
        digest = (head.get("Metadata") or {}).get(SHA256_METADATA) or str(head.get("ETag", "")).strip('"')
        return StoredFile(name, int(head["ContentLength"]), digest, str(head.get("ContentType") or ""))

    def read(self, name: str) -> bytes:
        """GET the object's bytes; FileMissing when there is none."""
        response = self._call("get_object", check_name(name))
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def delete(self, name: str) -> None:
        """DELETE the object (S3 answers the same whether it existed or not)."""
        self._call("delete_object", check_name(name))

    def names(self) -> Iterator[str]:
        """Every object under the prefix, page by page."""
        paginator = self._client_or_make().get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    yield str(item["Key"])[len(self.prefix) :]
        except Exception as error:  # botocore's errors share no base class worth naming; all are wrapped
            raise _storage_error(error, "list") from error

    def describe(self) -> str:
        """Bucket, prefix and endpoint (never the keys)."""
        endpoint = self.settings.get("ENDPOINT_URL") or "AWS"
        return f"s3 bucket {self.bucket!r} prefix {self.prefix!r} at {endpoint}"

    def _call(self, operation: str, name: str, **arguments: Any) -> Any:
        client = self._client_or_make()
        try:
            return getattr(client, operation)(Bucket=self.bucket, Key=self.prefix + name, **arguments)
        except Exception as error:  # ClientError, connection and credential errors: all are wrapped below
            if _error_code(error) in MISSING_CODES:
                raise FileMissing(name) from error
            raise _storage_error(error, f"{operation} {name!r}") from error

    def _client_or_make(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = make_client(self.settings)
            return self._client


def make_client(settings: dict[str, Any]) -> Any:
    """A boto3 S3 client for ``SERVICES.s3`` (empty keys: boto3's own chain, e.g. an instance role)."""
    global _boto3_session
    import boto3  # imported on first use: only projects storing media in S3 pay for it
    from botocore.config import Config

    style = settings.get("ADDRESSING_STYLE") or "auto"
    config = Config(
        s3={"addressing_style": style},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    with _SESSION_LOCK:  # making clients from one session is not thread-safe; using them is
        if _boto3_session is None:
            _boto3_session = boto3.session.Session()
        return _boto3_session.client(
            "s3",
            endpoint_url=settings.get("ENDPOINT_URL") or None,
            region_name=settings.get("REGION") or None,
            aws_access_key_id=settings.get("ACCESS_KEY_ID") or None,
            aws_secret_access_key=settings.get("SECRET_ACCESS_KEY") or None,
            config=config,
        )


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    code = str((response.get("Error") or {}).get("Code") or "")
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return "507" if status == 507 and not code else code


def _storage_error(error: BaseException, what: str) -> StorageError:
    code = _error_code(error)
    if code in FULL_CODES:
        return StorageFull(f"s3: {code}")
    return StorageError(f"s3 {what} failed: {type(error).__name__}: {error}")
