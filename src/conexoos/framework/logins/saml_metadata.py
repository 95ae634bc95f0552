"""The identity provider's SAML metadata: a local file, or a URL fetched at start and cached.

A URL's copy is kept in the instance folder, so that a restart while the identity provider is down still
starts with the last good metadata; the copy is fetched again when it is older than the configured age.
A fetched document replaces the copy only once it was accepted (``accept`` raised nothing), so a broken
or truncated answer never overwrites good metadata.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ConfigError

log = logging.getLogger("conexoos.logins.saml")

FETCH_TIMEOUT = 10.0
"""Seconds one fetch of the metadata may take (to connect, then between bytes)."""
MAX_METADATA_BYTES = 5 * 1024 * 1024
RETRY_SECONDS = 30.0
"""After a failed fetch, how long a worker waits before trying again (a login does not wait each time)."""
LOOPBACK_NAMES = ("localhost",)


class MetadataUnavailable(Exception):
    """No copy of the identity provider's metadata is known: the URL failed and nothing is cached."""


def is_url(source: str) -> bool:
    """Whether ``IDP_METADATA`` names a URL rather than a file."""
    return urlsplit(source).scheme in ("http", "https")


def metadata_source_problem(source: str) -> str | None:
    """Why ``source`` cannot be used (plain http to a host that is not this machine), or None."""
    parts = urlsplit(source)
    if is_url(source) and (parts.username is not None or parts.password is not None):
        return "the URL must not hold credentials (they would be logged with it); the metadata is public"
    if parts.scheme == "https" or not is_url(source):
        return None
    if _is_loopback(parts.hostname or ""):
        return None
    return f"{source!r} is plain http: use https (plain http is accepted only for localhost)"


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class IdpMetadata:
    """Where the current metadata document is on disk, fetching and caching it when it is a URL."""

    def __init__(self, source: str, cache_folder: Path, max_age: float, key: str) -> None:
        self.source = source
        self.max_age = max_age
        self._key = key
        self._cache = cache_folder / f"idp-metadata-{hashlib.sha256(source.encode()).hexdigest()[:16]}.xml"
        self._failed_at = 0.0
        self._lock = threading.Lock()

    @property
    def is_url(self) -> bool:
        return is_url(self.source)

    def current(self) -> Path:
        """The file to read now; raises :class:`MetadataUnavailable` when a URL has no cached copy."""
        if not self.is_url:
            return self._local_file()
        if self._cache.exists():
            return self._cache
        raise MetadataUnavailable(f"{self._key}: {self.source} could not be fetched and no copy is cached")

    def is_stale(self) -> bool:
        """Whether a URL's copy is missing or older than the configured age (a file never is)."""
        if not self.is_url:
            return False
        try:
            age = time.time() - self._cache.stat().st_mtime
        except FileNotFoundError:
            return True
        return age >= self.max_age

    def refresh(self, accept: Callable[[Path], None]) -> bool:
        """Fetch the URL again and keep the answer when ``accept(path)`` takes it; True when replaced.

        A failure is logged with its cause and the old copy stays; fetches are spaced by RETRY_SECONDS. A
        ConfigError from ``accept`` (the document does not hold the configured IdP) is raised after that.
        """
        if not self.is_url:
            return False
        with self._lock:
            if time.monotonic() - self._failed_at < RETRY_SECONDS and self._failed_at:
                return False
            try:
                self.fetch(accept)
            except ConfigError:
                self._failed_at = time.monotonic()
                raise
            except Exception as error:  # noqa: BLE001 - any failure keeps the old copy; the cause is logged
                self._failed_at = time.monotonic()
                kept = "the cached copy stays in use" if self._cache.exists() else "no copy is cached"
                log.warning("%s: fetching %s failed (%s); %s", self._key, self.source, error, kept)
                return False
            self._failed_at = 0.0
            return True

    def fetch(self, accept: Callable[[Path], None]) -> None:
        """Download the URL and keep it as the cached copy when ``accept(path)`` raises nothing; raises
        whatever the download or ``accept`` raised."""
        document = self._download()
        self._cache.parent.mkdir(parents=True, exist_ok=True)
        candidate = self._cache.with_suffix(f".{os.getpid()}.tmp")
        candidate.write_bytes(document)
        try:
            accept(candidate)
            os.replace(candidate, self._cache)
        finally:
            candidate.unlink(missing_ok=True)
        log.info(
            "%s: fetched %s (%d bytes), cached in %s", self._key, self.source, len(document), self._cache
        )

    def _download(self) -> bytes:
        request = urllib.request.Request(self.source, headers={"Accept": "application/samlmetadata+xml"})
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as answer:
            document: bytes = answer.read(MAX_METADATA_BYTES + 1)
        if len(document) > MAX_METADATA_BYTES:
            raise ValueError(f"the document is larger than {MAX_METADATA_BYTES} bytes")
        return document

    def _local_file(self) -> Path:
        path = Path(self.source)
        if not path.is_file():
            raise ConfigError(
                [f"{self._key}: {self.source} is not a file; give a metadata file or an https URL"]
            )
        return path
