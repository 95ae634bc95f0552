"""Brotli or gzip for text responses (HTML, CSS, JavaScript, JSON, SVG) above a size, as the client accepts.

Generated responses are compressed after the view, at a fast level (``SERVER_ENV.COMPRESSION``); the
compressed form of the last few bodies is kept, so a cached page is not compressed again per view. Static
files are compressed once per file, version and encoding at the highest level and kept in memory
(:func:`compress_file_response`), so a stylesheet costs a dictionary look-up, not a compression, per request.

Left alone: streamed and file-passthrough responses, partial (Range) responses, any status but 200 (a
304 made from a generated 200 by ``make_conditional`` gets the 200's ``Vary`` and weak ETag, no body),
responses that already carry ``Content-Encoding``, and ``Cache-Control: no-transform``. A compressed body's
ETag becomes weak: the compressed bytes are the same resource, and a weak ETag still matches the plain
one in ``If-None-Match`` (werkzeug's conditional checks compare weakly), so 304s keep working.
"""

from __future__ import annotations

import gzip
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import brotli
from flask import Flask, Request, Response, current_app, request

if TYPE_CHECKING:
    from .config import Settings

CONFIG_NAME = "CONEXOOS_COMPRESSION"
COMPRESSIBLE_TYPES = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    }
)
"""What is worth compressing. Images, fonts, archives and PDFs are compressed already."""
BROTLI = "br"
GZIP = "gzip"
STATIC_GZIP_LEVEL = 9
STATIC_BROTLI_QUALITY = 11
STATIC_CACHE_ENTRIES = 512
REMEMBERED_BODIES = 64
REMEMBERED_BODY_BYTES = 64 * 1024
"""Generated bodies up to this size have their compressed form kept (the last REMEMBERED_BODIES, per
worker: at most 8 MiB, a few hundred KiB for a few cached pages): the same bytes are not compressed
twice."""
"""Compressed static files kept in memory per worker (the product has about twenty)."""


@dataclass(frozen=True)
class Compression:
    """``SERVER_ENV.COMPRESSION``, typed."""

    enabled: bool
    min_size: int
    gzip_level: int
    brotli_quality: int


def install_compression(app: Flask, settings: Settings) -> None:
    """Compress the app's eligible responses after each view, as ``SERVER_ENV.COMPRESSION`` says."""
    section = settings.server["COMPRESSION"]
    options = Compression(
        enabled=bool(section["ENABLED"]),
        min_size=int(section["MIN_SIZE"]),
        gzip_level=int(section["GZIP_LEVEL"]),
        brotli_quality=int(section["BROTLI_QUALITY"]),
    )
    app.extensions[CONFIG_NAME] = options
    if options.enabled:
        app.after_request(compress_response)


def compression() -> Compression | None:
    """The current app's compression settings, or None when it was not installed or is turned off."""
    options: Compression | None = current_app.extensions.get(CONFIG_NAME)
    return options if options is not None and options.enabled else None


def is_compressible(mimetype: str | None) -> bool:
    """Whether a body of this type is worth compressing (text, JSON, SVG; ``+json`` types too)."""
    if not mimetype:
        return False
    return mimetype in COMPRESSIBLE_TYPES or mimetype.endswith("+json")


def chosen_encoding(incoming: Request) -> str | None:
    """``br`` or ``gzip``, whichever ``Accept-Encoding`` ranks higher (Brotli on a tie), or None.

    A coding with ``q=0`` is refused; ``*`` counts for a coding not named (an explicit ``br;q=0`` wins
    over ``*``, which werkzeug's ``Accept[...]`` does not do); ``identity`` alone or no header means none.
    """
    qualities = {value.lower(): quality for value, quality in incoming.accept_encodings}
    brotli_quality = qualities.get(BROTLI, qualities.get("*", 0))
    gzip_quality = qualities.get(GZIP, qualities.get("x-gzip", qualities.get("*", 0)))
    if brotli_quality <= 0 and gzip_quality <= 0:
        return None
    return BROTLI if brotli_quality >= gzip_quality else GZIP


def compress_response(response: Response) -> Response:
    """After-request hook: compress ``response`` in place when it is eligible and the client accepts it."""
    options = compression()
    if options is None or not _eligible(response, options):
        return response
    response.vary.add("Accept-Encoding")
    encoding = chosen_encoding(request)
    if encoding is None:
        return response
    if response.status_code == 304:  # the Vary and the (weak) ETag the compressed 200 carries, as a 304 must
        _weaken_etag(response)
        return response
    body = response.get_data()
    level = options.brotli_quality if encoding == BROTLI else options.gzip_level
    if len(body) <= REMEMBERED_BODY_BYTES:
        compressed = _remembered_compression(body, encoding, level)
    else:
        compressed = _compress(body, encoding, level)
    _replace_body(response, compressed, encoding)
    return response


def _compress(body: bytes, encoding: str, level: int) -> bytes:
    if encoding == BROTLI:
        return brotli.compress(body, quality=level)
    return gzip.compress(body, compresslevel=level, mtime=0)


@lru_cache(maxsize=REMEMBERED_BODIES)
def _remembered_compression(body: bytes, encoding: str, level: int) -> bytes:
    """:func:`_compress`, kept for the same bytes: a page served from the page cache is the same body
    for every visitor, and hashing it costs a tenth of compressing it again."""
    return _compress(body, encoding, level)


def compress_file_response(response: Response, path: Path) -> Response:
    """Swap a static file's 200 response for its cached compressed form, when eligible and accepted.

    ``response`` comes from ``send_file`` for ``path`` (conditional handling done; a 304 gets the weak
    ETag the compressed 200 carries); the compressed bytes are made once per file version (path,
    modification time, size) and encoding.
    """
    options = compression()
    if options is None or response.status_code not in (200, 206, 304):
        return response
    if not is_compressible(mimetypes.guess_type(path.name)[0]):
        return response
    stat = path.stat()
    if stat.st_size < options.min_size:
        return response
    response.vary.add("Accept-Encoding")  # a 206 too: it is of the plain file as the 200 it stands for is not
    if response.status_code == 206 or _excluded(response):
        return response
    encoding = chosen_encoding(request)
    if encoding is None:
        return response
    if response.status_code == 304:  # the ETag the 200 would carry, as a 304 must
        _weaken_etag(response)
        return response
    compressed = _compressed_file(str(path), stat.st_mtime_ns, stat.st_size, encoding)
    response.close()  # the open file send_file passed through is not sent
    response.direct_passthrough = False
    _replace_body(response, compressed, encoding)
    response.headers.pop("Accept-Ranges", None)  # byte ranges would be of the plain file
    return response


def _eligible(response: Response, options: Compression) -> bool:
    """A 200 worth compressing, or the 304 standing for one (``make_conditional`` keeps its body)."""
    if response.status_code not in (200, 304) or response.direct_passthrough or response.is_streamed:
        return False
    if not is_compressible(response.mimetype) or _excluded(response):
        return False
    length = response.content_length
    return length is not None and length >= options.min_size


def _excluded(response: Response) -> bool:
    """Already encoded, partial, or marked ``no-transform``."""
    if "Content-Encoding" in response.headers or "Content-Range" in response.headers:
        return True
    return bool(response.cache_control.no_transform)


def _replace_body(response: Response, compressed: bytes, encoding: str) -> None:
    response.set_data(compressed)  # sets Content-Length too
    response.headers["Content-Encoding"] = encoding
    _weaken_etag(response)


def _weaken_etag(response: Response) -> None:
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)


@lru_cache(maxsize=STATIC_CACHE_ENTRIES)
def _compressed_file(path: str, modified_ns: int, size: int, encoding: str) -> bytes:
    """The file at ``path`` compressed at the highest level, cached per version (mtime and size)."""
    body = Path(path).read_bytes()
    if encoding == BROTLI:
        return brotli.compress(body, quality=STATIC_BROTLI_QUALITY)
    return gzip.compress(body, compresslevel=STATIC_GZIP_LEVEL, mtime=0)
