"""``IOUtils``: the seed's file helper, saving uploaded images safely under the instance folder.

Every image is decoded and re-encoded with Pillow, so what is stored is pixels we produced, never the
uploaded bytes: EXIF (and GPS) is dropped, polyglot files lose their payload, and size and pixel caps stop
decompression bombs before the pixels are decoded.

Decoding is bounded: before any decoder runs, the memory it will need is estimated from the header (the
dimensions, the mode, and for a JPEG the scale it is decoded at and whether libjpeg must keep every
coefficient) and an upload over ``MAX_DECODE_BYTES`` is refused. JPEGs are decoded at a reduced scale, and
pictures are shrunk before they are turned upright, so the peak stays under 64 MB per upload (measured by
``bench/upload_memory.py``). Multi-frame files (MPO from phones, animated GIF and WebP) keep their first
frame.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Protocol

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .image_header import ImageHeader, read_header

ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP", "GIF"})
JPEG_FORMATS = frozenset({"JPEG", "MPO"})
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_DECODE_BYTES = 40 * 1024 * 1024
"""Memory the decoded pixels of one upload may take, on top of its bytes (at most MAX_UPLOAD_BYTES)."""
WEBP_BYTES_PER_PIXEL = 16
"""libwebp's canvas and previous-frame canvas, the frame handed to Python, Pillow's image: 4 bytes each."""
RESIZE_BYTES_PER_PIXEL = 1
"""Pillow's thumbnail first reduces RGB by a whole factor: a copy of at most a quarter of a 4-byte image."""
UPRIGHT_AFTER_TURN = {5, 6, 7, 8}
"""EXIF orientations that swap width and height."""
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
        # No name holds the full-size image once _encode has shrunk it: its memory goes at once.
        encoded = _encode(_decode(_read_capped(upload.stream), size), size)
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
    """Decode the first frame of ``data`` once its cost is known to be bounded; a JPEG is decoded straight
    at a scale near ``size`` (1/2 to 1/8), which takes a fraction of the memory and time of the picture."""
    header = read_header(data)
    if header is not None:
        _check_cost(header.kind, header.width, header.height, _header_mode(header), header, size)
    try:
        image = Image.open(BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise InvalidImage("Upload a PNG, JPEG, WebP or GIF image.")
        _check_cost(str(image.format), *image.size, _cost_mode(image), header, size)
        if image.format in JPEG_FORMATS:
            longest = max(size)  # the picture may still turn a quarter with its EXIF orientation
            image.draft("RGB", (longest, longest))
        image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(
            f"The image's dimensions are too large; the limit is {MAX_PIXELS:,} pixels."
        ) from None
    except UnidentifiedImageError:
        raise InvalidImage(
            "This file is not an image we can read. Upload a PNG, JPEG, WebP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise InvalidImage(f"The image is damaged or truncated ({error}).") from None
    return image


def decode_cost(
    kind: str, width: int, height: int, mode: str, header: ImageHeader | None, size: tuple[int, int]
) -> int:
    """Bytes the decoded pixels of an image of ``mode`` take until it is shrunk to fit ``size``.

    ``mode`` is Pillow's mode, with ``P+alpha`` for a palette image with a transparent colour.
    """
    if kind in JPEG_FORMATS:
        scale = _jpeg_scale(width, height, max(size))
        pixels = -(-width // scale) * -(-height // scale)
        coefficients = header.coefficient_bytes if header is not None and header.kind == "JPEG" else 0
        return pixels * _bytes_per_pixel(mode) + coefficients
    if kind == "WEBP":
        return width * height * (WEBP_BYTES_PER_PIXEL + _resize_bytes_per_pixel(_target_mode(mode)))
    return width * height * _bytes_per_pixel(mode)


def _bytes_per_pixel(mode: str) -> int:
    """The decoded image, its RGB or RGBA copy when the mode needs converting, and what shrinking it takes
    (Pillow keeps RGB in 4 bytes a pixel, one-band 8-bit modes in 1, 16-bit ones in 2)."""
    stored = 1 if mode in ("1", "L", "P", "P+alpha") else 2 if mode.startswith("I;16") else 4
    target = _target_mode(mode)
    return stored + (0 if mode == target else 4) + _resize_bytes_per_pixel(target)


def _resize_bytes_per_pixel(target: str) -> int:
    # Pillow shrinks RGBA through a full-size premultiplied copy; RGB is first reduced by a whole factor.
    return 4 if target == "RGBA" else RESIZE_BYTES_PER_PIXEL


def _target_mode(mode: str) -> str:
    """RGBA for modes with transparency, else RGB."""
    return "RGBA" if mode in ("RGBA", "LA", "PA", "La", "RGBa", "P+alpha") else "RGB"


def _cost_mode(image: Image.Image) -> str:
    return "P+alpha" if image.mode == "P" and "transparency" in image.info else image.mode


def _check_cost(
    kind: str, width: int, height: int, mode: str, header: ImageHeader | None, size: tuple[int, int]
) -> None:
    if width * height > MAX_PIXELS:
        raise InvalidImage(f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS:,} pixels.")
    if decode_cost(kind, width, height, mode, header, size) > MAX_DECODE_BYTES:
        label = "JPEG" if kind in JPEG_FORMATS else kind
        raise InvalidImage(
            f"The image is {width}×{height} pixels: too many pixels to process as {label} "
            f"(at most {MAX_DECODE_BYTES // (1024 * 1024)} MB decoded). Upload a smaller picture, "
            "or a JPEG that is not progressive."
        )


def _header_mode(header: ImageHeader) -> str:
    # Before Pillow has opened the file: the cheapest mode the format decodes to, so never too strict.
    return "P" if header.kind == "GIF" else "RGB"


def _jpeg_scale(width: int, height: int, longest: int) -> int:
    """The reduction Pillow's ``draft`` asks libjpeg for to fit ``longest``×``longest``: 1, 2, 4 or 8."""
    ratio = min(width // longest, height // longest)
    return next((scale for scale in (8, 4, 2) if ratio >= scale), 1)


def _encode(image: Image.Image, size: tuple[int, int]) -> bytes:
    """Convert, shrink, then turn upright: turning a full-size 40 MP picture would copy 160 MB."""
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    mode = _target_mode(_cost_mode(image))
    if image.mode != mode:
        image = image.convert(mode)
    box = (size[1], size[0]) if orientation in UPRIGHT_AFTER_TURN else size
    image.thumbnail(box, Image.Resampling.LANCZOS)
    if orientation:
        image.getexif()[ExifTags.Base.Orientation] = orientation
        ImageOps.exif_transpose(image, in_place=True)
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
