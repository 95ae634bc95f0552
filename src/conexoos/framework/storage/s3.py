"""``s3``: files as objects of a bucket in any S3-compatible store (AWS S3, MinIO, Ceph, Garage, R2...),
through boto3.

Files are served by proxying them through the app (``/media/...``), not by redirecting to a presigned URL:
pages keep their same-origin Content-Security-Policy (``img-src 'self'``), the store may sit on a private
network the visitors cannot reach, and every host answers with the same ETag and cache headers. The cost is
the bytes passing through a worker, which ``Cache-Control`` makes rare (browsers and proxies keep each
image for its ``max-age``, then ask again: a 304, read from the object's metadata alone).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from ..database_errors import REFUSED, message_cause
from ..schema import SERVICES, Key
from .base import (
    FileMissing,
    Storage,
    StorageError,
    StorageFull,
    StorageUnreachable,
    StoredFile,
    check_name,
    describe,
)

SHA256_METADATA = "sha256"
"""User metadata holding the content's SHA-256 (S3's own ETag is an MD5, or not even that for multipart)."""
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
FULL_CODES = frozenset({"XMinioStorageFull", "InsufficientStorage", "507"})


def _default(key: str) -> int:
    declared = SERVICES["s3"]
    assert isinstance(declared, dict)
    entry = declared[key]
    assert isinstance(entry, Key)
    return int(entry.default)


CONNECT_TIMEOUT, READ_TIMEOUT, ATTEMPTS = (
    _default("CONNECT_TIMEOUT"),
    _default("READ_TIMEOUT"),
    _default("ATTEMPTS"),
)
"""The schema's defaults, for a settings dict that does not come through the schema (a test's, a probe's)."""
PROBE_TIMEOUT = 1.0
"""Seconds a readiness probe (``/readyz``) waits for the store to connect, then to answer."""
PROBE_CACHE_SECONDS = 5.0
"""How long a probe's result is reused: ``/readyz`` polled every second HEADs the bucket every 5 s."""
BUCKET_MISSING_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})
DENIED_CODES = frozenset({"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})
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
        self._probe_lock = threading.Lock()  # one probe at a time; uploads do not wait for it
        self._probe_client: Any = None
        self._probed: tuple[float, str | None] | None = None

    def unreachable(self) -> str | None:
        """None when the bucket answers, else why not in words; HEADs it at most every few seconds, with
        short timeouts (for ``/readyz``)."""
        with self._probe_lock:
            now = time.monotonic()
            if self._probed is not None and now - self._probed[0] < PROBE_CACHE_SECONDS:
                return self._probed[1]
            if self._probe_client is None:
                self._probe_client = make_client(self.settings, timeout=PROBE_TIMEOUT, attempts=1)
            problem = probe_bucket(self._probe_client, self.settings)
            self._probed = (time.monotonic(), problem)
            return problem

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


def bucket_problem(settings: dict[str, Any], timeout: float) -> str | None:
    """None when ``SERVICES.s3``'s bucket answers (one HEAD, no retry, ``timeout`` seconds to connect and
    to read), else the cause in words (``config check --connect``)."""
    client = make_client(settings, timeout=timeout, attempts=1)
    try:
        return probe_bucket(client, settings)
    finally:
        client.close()


def probe_bucket(client: Any, settings: dict[str, Any]) -> str | None:
    """HEAD the bucket with ``client``: None when it answers, else the cause in words (no secret)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    bucket = str(settings.get("BUCKET") or "")
    endpoint = settings.get("ENDPOINT_URL") or "AWS"
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = _error_code(error)
        if code in BUCKET_MISSING_CODES:
            return f"bucket {bucket!r} does not exist"
        if code in DENIED_CODES:
            return f"access to bucket {bucket!r} denied ({code}): check ACCESS_KEY_ID and SECRET_ACCESS_KEY"
        return f"the store answered an error ({code or type(error).__name__}: {error})"
    except (ConnectTimeoutError, ReadTimeoutError):
        return f"no answer: {endpoint} did not answer in time"
    except EndpointConnectionError as error:
        return _connection_cause(error, endpoint)
    except NoCredentialsError:
        return "no credentials: set SERVICES.s3.ACCESS_KEY_ID and SECRET_ACCESS_KEY (or give the host a role)"
    except BotoCoreError as error:
        return f"{type(error).__name__}: {error}"
    return None


def _connection_cause(error: BaseException, endpoint: str) -> str:
    inner = getattr(error, "kwargs", {}).get("error") or error
    message = " ".join(str(inner).split())
    cause = message_cause(message)
    if cause is REFUSED:
        return f"connection refused: nothing listens at {endpoint} (is the server running?)"
    if cause is not None:
        return f"{cause.summary} ({endpoint})"
    return f"cannot connect to {endpoint} ({message})"


def make_client(settings: dict[str, Any], timeout: float | None = None, attempts: int | None = None) -> Any:
    """A boto3 S3 client for ``SERVICES.s3`` (empty keys: boto3's own chain, e.g. an instance role).

    ``timeout`` (seconds to connect, and to read) and ``attempts`` make a probe's client: quick, no retry;
    otherwise ``CONNECT_TIMEOUT``, ``READ_TIMEOUT`` and ``ATTEMPTS`` of the settings bound every call."""
    global _boto3_session
    import boto3  # imported on first use: only projects storing media in S3 pay for it
    from botocore.config import Config

    style = settings.get("ADDRESSING_STYLE") or "auto"
    config = Config(
        s3={"addressing_style": style},
        connect_timeout=timeout or settings.get("CONNECT_TIMEOUT") or CONNECT_TIMEOUT,
        read_timeout=timeout or settings.get("READ_TIMEOUT") or READ_TIMEOUT,
        # total_max_attempts counts the first call too; botocore's max_attempts would count retries only.
        retries={"total_max_attempts": attempts or settings.get("ATTEMPTS") or ATTEMPTS, "mode": "standard"},
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
    if _is_unreachable(error):
        return StorageUnreachable(
            f"s3 {what} failed: the store did not answer ({type(error).__name__}: {error})"
        )
    return StorageError(f"s3 {what} failed: {type(error).__name__}: {error}")


def _is_unreachable(error: BaseException) -> bool:
    """A timeout, or no connection at all (botocore's connection errors, after its retries)."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    return isinstance(error, ConnectTimeoutError | ReadTimeoutError | BotoConnectionError)
