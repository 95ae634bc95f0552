"""``IOUtils``: the seed's file helper, saving uploaded images safely under the instance folder.

Every image is decoded and re-encoded with Pillow, so what is stored is pixels we produced, never the
uploaded bytes: EXIF (and GPS) is dropped, polyglot files lose their payload, and size and pixel caps stop
decompression bombs before the pixels are decoded.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Protocol

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
SIZES = {"img/avatars": (400, 400), "img/products": (1200, 1200)}
DEFAULT_SIZE = (1200, 1200)


class InvalidImage(ValueError):
    """An upload that is not an image we accept; the message tells the person why."""


class Upload(Protocol):
    """What a form file (werkzeug FileStorage) offers."""

    filename: str | None
    stream: IO[bytes]


@dataclass(frozen=True)
class IOUtils:
    """Saves and deletes user images below ``root`` (the ``uploads`` folder of the instance)."""

    root: Path

    def save_image(
        self, form_image: Upload | None, folder: str = "img/products", default: str = "default_product.jpg"
    ) -> str:
        """Store ``form_image`` re-encoded under ``folder``; its relative path, or ``default`` if none."""
        return self._save_file(form_image, folder, default=default)

    def delete(self, relative_path: str | None) -> None:
        """Remove a stored file (a default image or nothing is ignored)."""
        if not relative_path or "/" not in relative_path:
            return
        target = self._resolve(relative_path)
        target.unlink(missing_ok=True)

    def path_of(self, relative_path: str) -> Path:
        """The absolute path of a stored file; ValueError when it would leave the uploads folder."""
        return self._resolve(relative_path)

    def _save_file(self, upload: Upload | None, folder: str, default: str) -> str:
        if upload is None or not upload.filename:
            return default
        size = SIZES.get(folder, DEFAULT_SIZE)
        image = _decode(_read_capped(upload.stream), size)
        encoded = _encode(image, size)
        name = f"{folder}/{secrets.token_hex(16)}.webp"
        _write_atomically(self._resolve(name), encoded)
        return name

    def _resolve(self, relative_path: str) -> Path:
        target = (self.root / relative_path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"{relative_path!r} is outside the uploads folder")
        return target


def _read_capped(stream: IO[bytes]) -> bytes:
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidImage(f"The image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise InvalidImage("The file is empty.")
    return data


def _decode(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Decode ``data``; a JPEG is decoded straight at a scale near ``size`` (1/2 to 1/8), which takes a
    fraction of the memory and time of the full picture."""
    try:
        image = Image.open(BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise InvalidImage("Upload a PNG, JPEG, WebP or GIF image.")
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise InvalidImage(f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS:,} pixels.")
        if image.format == "JPEG":
            longest = max(size)  # the picture may still turn a quarter with its EXIF orientation
            image.draft("RGB", (longest, longest))
        image.load()
    except InvalidImage:
        raise
    except Image.DecompressionBombError:
        raise InvalidImage(
            f"The image's dimensions are too large; the limit is {MAX_PIXELS:,} pixels."
        ) from None
    except UnidentifiedImageError:
        raise InvalidImage(
            "This file is not an image we can read. Upload a PNG, JPEG, WebP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"The image is damaged or truncated ({error}).") from None
    return image


def _encode(image: Image.Image, size: tuple[int, int]) -> bytes:
    """Orient, convert and shrink in place where possible: a full-size copy of a 40 MP picture is 160 MB."""
    ImageOps.exif_transpose(image, in_place=True)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if has_alpha else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    image.thumbnail(size, Image.Resampling.LANCZOS)
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    output = BytesIO()
    clean.save(output, format="WEBP", quality=85, method=4)
    return output.getvalue()


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
