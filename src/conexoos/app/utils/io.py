"""``IOUtils``: the seed's file helper, saving uploaded images safely in the app's media storage.

Every image is decoded and re-encoded with Pillow, so what is stored is pixels we produced, never the
uploaded bytes: EXIF (and GPS) is dropped, polyglot files lose their payload, and size and pixel caps stop
decompression bombs before the pixels are decoded.

Decoding is bounded: before any decoder runs, the peak memory of the whole upload is estimated from the
header and the file's size (``peak_estimate``: the dimensions, the mode, for a JPEG the scale it is decoded
at and whether libjpeg must keep every coefficient, then shrinking and re-encoding) and an upload over
``MAX_PEAK_BYTES`` is refused with a message naming its size and the largest accepted. JPEGs are decoded at
a reduced scale, WebPs without Pillow's extra canvases, and the full-size picture is reduced band by band
and dropped before it is resized and turned upright, so the peak stays under 64 MB per upload (measured
by ``bench/upload_memory.py``, which also shows the estimate is never below what it measures). Multi-frame
files (MPO from phones, animated GIF and WebP) keep their first frame.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from conexoos.framework.lazy import lazy_module
from conexoos.framework.storage import LocalStorage, Storage, StorageError

from .image_header import ImageHeader, read_header

# Pillow is imported at the first upload, not with the app (see framework/lazy.py).
if TYPE_CHECKING:
    from PIL import ExifTags, Image, ImageOps, WebPImagePlugin
else:
    ExifTags = lazy_module("PIL.ExifTags")
    Image = lazy_module("PIL.Image")
    ImageOps = lazy_module("PIL.ImageOps")
    WebPImagePlugin = lazy_module("PIL.WebPImagePlugin")

ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP", "GIF"})
JPEG_FORMATS = frozenset({"JPEG", "MPO"})
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MEGABYTE = 1024 * 1024
PEAK_TARGET_BYTES = 64 * MEGABYTE
"""Issue #9: the peak memory of one upload, its bytes included, measured by bench/upload_memory.py."""
SAFETY_MARGIN_BYTES = 4 * MEGABYTE
"""Kept free below the target for what the estimate does not model (allocator slack, Python objects)."""
MAX_PEAK_BYTES = PEAK_TARGET_BYTES - SAFETY_MARGIN_BYTES
"""An upload whose ``peak_estimate`` is over this is refused before it is decoded."""
OVERHEAD_BYTES = 2 * MEGABYTE
"""Measured growth of an upload beyond its bytes and pixels: decoders' buffers, Python objects."""
WEBP_BYTES_PER_PIXEL = 12
"""libwebp's canvas and disposed-frame canvas, and the frame it copies out to Python: 4 bytes each."""
ENCODE_BYTES_PER_PIXEL = {"RGB": 20, "RGBA": 36}
"""The fitted picture, its upright copy and libwebp's encoder, per output pixel (measured: libwebp's
method 4 needs 12 bytes a pixel for RGB; for RGBA the lossless coding of the alpha plane needs 32 at
method 4 and 27 at method 3, hence ``WEBP_METHODS``)."""
WEBP_METHODS = {"RGB": 4, "RGBA": 3}
"""libwebp's effort per mode (0 fast to 6 slow)."""
BAND_PIXELS = 250_000
"""Pixels of the full-size image converted and reduced at a time."""
FORMAT_NAMES = {"PNG": "PNG", "GIF": "GIF", "WEBP": "WebP", "JPEG": "JPEG", "MPO": "JPEG"}
UPRIGHT_AFTER_TURN = {5, 6, 7, 8}
"""EXIF orientations that swap width and height."""
SIZES = {"img/avatars": (400, 400), "img/products": (1200, 1200), "img/link-icons": (96, 96)}
DEFAULT_SIZE = (1200, 1200)
logger = logging.getLogger(__name__)
DAMAGED = "The image is damaged or truncated: it cannot be decoded. Export it again, or upload another file."
"""The decoder's own words (``image file is truncated (5 bytes not processed)``) go to the DEBUG log."""


class InvalidImage(ValueError):
    """An upload that is not an image we accept; the message tells the person why."""


class NotAnImage(InvalidImage):
    """A file that is no image of an accepted format (a text, an SVG, a BMP): a form that takes other files
    too (the media library's PDFs) says so in its own words."""


class TooCostly(InvalidImage):
    """An image whose decoding, fitted in the box asked for, would take the upload over ``MAX_PEAK_BYTES``
    (a smaller box may need a stronger reduction, and so less memory)."""


class Upload(Protocol):
    """What a form file (werkzeug FileStorage) offers."""

    filename: str | None
    stream: IO[bytes]


@dataclass(frozen=True)
class EncodedImage:
    """One re-encoded rendition of an upload, not stored yet: its WebP bytes and size in pixels."""

    data: bytes
    width: int
    height: int


def renditions(
    form_image: Upload, sizes: Sequence[int], floor: int = SIZES["img/products"][0]
) -> list[EncodedImage]:
    """The upload decoded once and re-encoded as WebP fitted in each ``sizes``×``sizes`` box, smallest
    first; never upscaled, so an image smaller than a box gives one rendition at its own size for it (and
    the boxes it fits in give nothing more). Checked and bounded as :meth:`IOUtils.save_image` is.

    Every image a product image may be is accepted: when decoding for the largest box would pass the memory
    target, the picture is reduced by a larger whole factor, down to a fit in ``floor``×``floor`` (the
    product images' box), and the largest rendition is that smaller picture."""
    data = _read_capped(form_image.stream)
    image, orientation = _affordable_first_frame(data, max(sizes), floor)
    if orientation:
        image.getexif()[ExifTags.Base.Orientation] = orientation
        ImageOps.exif_transpose(image, in_place=True)
    made: list[EncodedImage] = []
    for box in sorted(sizes):
        fitted = _fit(image.size, (box, box))
        if made and fitted == (made[-1].width, made[-1].height):
            continue  # the image is smaller than this box: no upscaled copy
        resized = image if fitted == image.size else image.resize(fitted, Image.Resampling.LANCZOS)
        made.append(EncodedImage(_encode(resized, None), *fitted))
    return made


def _affordable_first_frame(data: bytes, largest: int, floor: int) -> tuple[Image.Image, int | None]:
    """The first frame fitted in the largest box, from ``largest`` down to ``floor``, whose decoding stays
    under the memory target; a refusal is decided from the header before any pixel is decoded, so trying
    a smaller box costs nothing. The refusal for ``floor`` is the one raised."""
    boxes = _boxes(read_header(data), largest, floor)
    for box in boxes[:-1]:
        try:
            return _shrunk_first_frame(data, (box, box))
        except TooCostly:
            continue
    return _shrunk_first_frame(data, (boxes[-1], boxes[-1]))


def _boxes(header: ImageHeader | None, largest: int, floor: int) -> list[int]:
    """``largest``, then the boxes, down to ``floor``, at which the picture's reduction factor grows."""
    if largest <= floor:
        return [largest]
    longest = max(header.width, header.height) if header is not None else 0
    growing = [longest // factor for factor in range(2, longest // max(1, floor) + 1)]
    return [largest, *sorted({box for box in growing if floor < box < largest}, reverse=True), floor]


class IOUtils:
    """Saves and deletes user images in the app's media storage (or, given a folder, a local one).

    A save is whole or nothing (see :mod:`conexoos.framework.storage`); a full disk raises StorageFull,
    which the framework answers with a 507."""

    def __init__(self, storage: Storage | Path) -> None:
        self.storage = storage if isinstance(storage, Storage) else LocalStorage(Path(storage))

    def save_image(
        self, form_image: Upload | None, folder: str = "img/products", default: str = "default_product.jpg"
    ) -> str:
        """Store ``form_image`` re-encoded under ``folder``; its name, or ``default`` if none."""
        if form_image is None or not form_image.filename:
            return default
        return self.store(encode_upload(form_image, folder), folder)

    def store(self, image: EncodedImage, folder: str) -> str:
        """Store an image :func:`encode_upload` made under ``folder`` (a new random name); its name."""
        name = f"{folder}/{secrets.token_hex(16)}.webp"
        self.storage.save(name, image.data, "image/webp")
        return name

    def delete(self, relative_path: str | None) -> None:
        """Remove a stored file (a default image or nothing is ignored).

        Called once the rows no longer name the file (or to undo a save whose row failed): a storage that
        cannot delete it then leaves an unused file behind, logged as a WARNING with the cause, rather
        than turning a change that was saved (or the error that undid it) into another error."""
        if not relative_path or "/" not in relative_path:
            return
        try:
            self.storage.delete(relative_path)
        except StorageError as error:
            logger.warning("left unused file %s in %s: %s", relative_path, self.storage.describe(), error)


def encode_upload(form_image: Upload, folder: str) -> EncodedImage:
    """``form_image`` decoded, fitted in ``folder``'s box, turned upright and re-encoded as WebP, not stored
    (:meth:`IOUtils.store` stores it); ``InvalidImage`` says why an upload is refused. Only the WebP is
    kept: the upload's bytes and decoded pixels are dropped on the way, as :meth:`IOUtils.save_image` did."""
    image, orientation = _shrunk_first_frame(_read_capped(form_image.stream), SIZES.get(folder, DEFAULT_SIZE))
    data = _encode(image, orientation)
    return EncodedImage(data, *image.size)


def _read_capped(stream: IO[bytes]) -> bytes:
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidImage(f"The image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise InvalidImage("The file is empty.")
    return data


def _shrunk_first_frame(data: bytes, size: tuple[int, int]) -> tuple[Image.Image, int | None]:
    """The first frame of ``data`` fitted in ``size`` (not yet upright), and its EXIF orientation.

    The cost is checked from the header before any decoder runs, and again once Pillow has read the file's
    mode. The full-size image is reduced by a whole factor band by band (converted and, for transparency,
    premultiplied a band at a time) and dropped before the Lanczos resize of what is left."""
    header = read_header(data)
    if header is not None and not (header.width and header.height):
        raise InvalidImage("This image says it has no width or height; it cannot be shown.")
    if header is not None:
        mode = header.mode or _cheapest_mode(header.kind)
        _check_cost(UploadShape(header.kind, header.width, header.height, mode, header, len(data), size))
    if header is not None and header.kind == "WEBP":
        image, orientation = _webp_first_frame(data, header, size)
    else:
        image = _open(data, header, size)
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    mode = _target_mode(_cost_mode(image))
    box = (size[1], size[0]) if orientation in UPRIGHT_AFTER_TURN else size
    reduced = _reduce(image, box, _working_mode(mode))
    del image  # the full-size pixels go before the resize allocates anything
    reduced.thumbnail(box, Image.Resampling.LANCZOS)
    return (reduced if reduced.mode == mode else reduced.convert(mode)), orientation


def _open(data: bytes, header: ImageHeader | None, size: tuple[int, int]) -> Image.Image:
    """Open and decode a PNG, GIF or JPEG (first frame) once its cost is known to be bounded; a JPEG is
    decoded straight at a scale near ``size`` (1/2 to 1/8): a fraction of the memory and time."""
    try:
        image = Image.open(BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise NotAnImage("Upload a PNG, JPEG, WebP or GIF image.")
        if image.format == "WEBP":  # Pillow read a WebP header that read_header could not: cut short
            raise InvalidImage(DAMAGED)
        _check_cost(UploadShape(str(image.format), *image.size, _cost_mode(image), header, len(data), size))
        if image.format in JPEG_FORMATS:
            longest = max(size)  # the picture may still turn a quarter with its EXIF orientation
            image.draft("RGB", _fit(image.size, (longest, longest)))
        image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(
            f"The image's dimensions are too large; the limit is {MAX_PIXELS:,} pixels."
        ) from None
    except Image.UnidentifiedImageError:
        raise NotAnImage("This file is not an image we can read. Upload a PNG, JPEG, WebP or GIF.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        logger.debug("image refused as damaged: %s", error)
        raise InvalidImage(DAMAGED) from None
    return image


def _webp_first_frame(
    data: bytes, header: ImageHeader, size: tuple[int, int]
) -> tuple[Image.Image, int | None]:
    """The first frame of a WebP, still or animated, and its EXIF orientation.

    Pillow's WebP plugin holds four canvases at once (libwebp's frame and disposed frame, the frame it
    copies out, the image it decodes that copy into): 16 bytes a pixel. Driving libwebp's animation decoder
    (the one the plugin uses) directly, the copied-out frame becomes the image without another copy, and
    libwebp's canvases are freed before anything else is allocated: 12 bytes a pixel at the peak, then 4."""
    try:
        decoder = WebPImagePlugin._webp.WebPAnimDecoder(data)
        info = decoder.get_info()
        width, height = info[0] if isinstance(info[0], tuple) else info[:2]  # Pillow < 11: w, h, ...
        rawmode = str(info[-1])
        _check_cost(UploadShape("WEBP", width, height, rawmode, header, len(data), size))
        exif = decoder.get_chunk("EXIF")
        frame = decoder.get_next()
        del decoder  # libwebp's two canvases and its copy of the file go now
        if frame is None:
            raise InvalidImage(DAMAGED)
        image = Image.frombuffer(rawmode, (width, height), frame[0], "raw", rawmode, 0, 1)
    except InvalidImage:
        raise
    except (OSError, ValueError, TypeError) as error:
        logger.debug("image refused as damaged: %s", error)
        raise InvalidImage(DAMAGED) from None
    return image, _orientation(exif)


def _orientation(exif: bytes | None) -> int | None:
    if not exif:
        return None
    tags = Image.Exif()
    tags.load(exif)
    value = tags.get(ExifTags.Base.Orientation)
    return value if isinstance(value, int) else None


def _reduce(image: Image.Image, box: tuple[int, int], mode: str) -> Image.Image:
    """``image`` in ``mode`` (RGB, or RGBa: premultiplied alpha), reduced by the largest whole factor that
    keeps it at least as large as its fit in ``box``; converted and reduced a band of rows at a time, so no
    full-size copy is made beyond the reduced image itself."""
    factor = _reduce_factor(image.size, box)
    if factor == 1 and image.mode == mode:
        return image
    width, height = image.size
    rows = factor * max(1, BAND_PIXELS // (width * factor))
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(top + rows, height)))
        if band.mode != mode:
            band = band.convert("RGBA").convert(mode) if mode == "RGBa" else band.convert(mode)
        reduced.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return reduced


def _reduce_factor(image_size: tuple[int, int], box: tuple[int, int]) -> int:
    """The largest whole factor that keeps ``image_size`` at least as large as its fit in ``box``."""
    return max(1, image_size[0] // box[0], image_size[1] // box[1])


@dataclass(frozen=True)
class UploadShape:
    """What one upload's memory depends on: the first frame's ``width``×``height`` in format ``kind``, the
    ``mode`` Pillow decodes it to (``P+alpha``: palette with a transparent colour), its ``header`` (for a
    JPEG, the coefficients libjpeg keeps), the file's size in bytes, and the ``size`` it is fitted in."""

    kind: str
    width: int
    height: int
    mode: str
    header: ImageHeader | None
    file_bytes: int
    size: tuple[int, int]

    def scaled(self, width: int, height: int) -> UploadShape:
        """The same upload at ``width``×``height`` (a JPEG's coefficients scale with its pixels)."""
        header = self.header and ImageHeader(
            self.header.kind,
            width,
            height,
            self.header.coefficient_bytes * width * height // max(1, self.width * self.height),
            self.header.mode,
        )
        return replace(self, width=width, height=height, header=header)


def peak_estimate(upload: UploadShape) -> int:
    """Bytes one upload holds at its peak: its file's bytes, then the most the steps that follow hold at
    once (decoding, reducing band by band, the Lanczos resize, re-encoding). Calibrated against
    ``bench/upload_memory.py``: never below what it measures."""
    kind, width, height, mode, header = upload.kind, upload.width, upload.height, upload.mode, upload.header
    file_bytes, size = upload.file_bytes, upload.size
    box = (max(size), max(size))  # the box may turn with the EXIF orientation: the larger of the two
    stored = _stored_bytes_per_pixel(mode)
    target = _target_mode(mode)
    if kind == "WEBP":
        decoding = file_bytes + width * height * WEBP_BYTES_PER_PIXEL  # + the decoder's copy of the file
        stored = 4
    elif kind in JPEG_FORMATS:
        scale = _jpeg_scale((width, height), _fit((width, height), box))
        width, height = -(-width // scale), -(-height // scale)
        coefficients = header.coefficient_bytes if header is not None and header.kind == "JPEG" else 0
        decoding = coefficients + width * height * stored
    else:
        decoding = width * height * stored
    return (
        file_bytes
        + OVERHEAD_BYTES
        + max(decoding, _shrinking_bytes(width, height, stored, mode, target, box))
    )


def _shrinking_bytes(
    width: int, height: int, stored: int, mode: str, target: str, box: tuple[int, int]
) -> int:
    """What ``_reduce`` then ``thumbnail`` and ``_encode`` hold at their peak, the decoded image included."""
    factor = _reduce_factor((width, height), box)
    reduced_size = (-(-width // factor), -(-height // factor))
    copied = not (factor == 1 and mode == _working_mode(target))
    reduced = reduced_size[0] * reduced_size[1] * 4 if copied else 0
    band = max(BAND_PIXELS, width * factor) * (stored + 8)  # the band, converted, premultiplied
    reducing = width * height * stored + reduced + band
    final = _fit(reduced_size, box)
    # Lanczos: a horizontal pass to the final width, then the vertical one; RGBa turned back into RGBA.
    lanczos = final[0] * reduced_size[1] * 4 + final[0] * final[1] * (8 if target == "RGBA" else 4)
    resizing = (reduced if copied else width * height * stored) + lanczos
    encoding = final[0] * final[1] * ENCODE_BYTES_PER_PIXEL[target]
    return max(reducing, resizing, encoding)


def _fit(image_size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    ratio = min(box[0] / image_size[0], box[1] / image_size[1], 1.0)
    return max(1, round(image_size[0] * ratio)), max(1, round(image_size[1] * ratio))


def _stored_bytes_per_pixel(mode: str) -> int:
    """Pillow keeps one-band 8-bit modes in 1 byte a pixel, 16-bit ones in 2, everything else in 4."""
    return 1 if mode in ("1", "L", "P", "P+alpha") else 2 if mode.startswith("I;16") else 4


def _working_mode(target: str) -> str:
    """Shrinking RGBA works on premultiplied alpha (RGBa), so transparent pixels do not bleed their colour;
    Pillow would premultiply a full-size copy itself."""
    return "RGBa" if target == "RGBA" else target


def _target_mode(mode: str) -> str:
    """RGBA for modes with transparency, else RGB."""
    return "RGBA" if mode in ("RGBA", "LA", "PA", "La", "RGBa", "P+alpha") else "RGB"


def _cost_mode(image: Image.Image) -> str:
    return "P+alpha" if image.mode == "P" and "transparency" in image.info else image.mode


def _cheapest_mode(kind: str) -> str:
    # Before Pillow has opened the file, when the header does not say: never too strict.
    return "RGB" if kind in ("WEBP", "JPEG") else "P"


def _check_cost(upload: UploadShape) -> None:
    kind, width, height, header = upload.kind, upload.width, upload.height, upload.header
    if width * height > MAX_PIXELS:
        raise InvalidImage(f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS:,} pixels.")
    if peak_estimate(upload) <= MAX_PEAK_BYTES:
        return
    progressive = kind in JPEG_FORMATS and header is not None and header.coefficient_bytes > 0
    label = "progressive JPEG" if progressive else "JPEG" if kind in JPEG_FORMATS else FORMAT_NAMES[kind]
    largest = largest_accepted(upload)
    raise TooCostly(
        f"The image is {width}×{height} pixels ({width * height / 1e6:.1f} MP): too many pixels to "
        f"process as {label}. The largest {label} of this shape accepted is about {largest[0]}×{largest[1]} "
        f"({largest[0] * largest[1] / 1e6:.1f} MP)"
        + ("; a baseline (non-progressive) JPEG may be larger." if progressive else ".")
    )


def largest_accepted(upload: UploadShape) -> tuple[int, int]:
    """The largest image of ``upload``'s proportions, mode and file size that is accepted."""

    def scaled(scale: float) -> tuple[int, int]:
        return max(1, int(upload.width * scale)), max(1, int(upload.height * scale))

    def accepted(scale: float) -> bool:
        w, h = scaled(scale)
        return peak_estimate(upload.scaled(w, h)) <= MAX_PEAK_BYTES and w * h <= MAX_PIXELS

    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if accepted(middle) else (low, middle)
    return scaled(low)


def _jpeg_scale(image_size: tuple[int, int], fitted: tuple[int, int]) -> int:
    """The reduction Pillow's ``draft`` asks libjpeg for to decode at least ``fitted``: 1, 2, 4 or 8."""
    ratio = min(image_size[0] // fitted[0], image_size[1] // fitted[1])
    return next((scale for scale in (8, 4, 2) if ratio >= scale), 1)


def _encode(image: Image.Image, orientation: int | None) -> bytes:
    """Turn the shrunk picture upright and encode its pixels alone as WebP: no EXIF, ICC profile or XMP
    (Pillow's WebP writer takes metadata only from what ``save`` is given, and it is given none)."""
    if orientation:
        image.getexif()[ExifTags.Base.Orientation] = orientation
        ImageOps.exif_transpose(image, in_place=True)
    image.info = {}
    output = BytesIO()
    method = WEBP_METHODS[image.mode]
    image.save(output, format="WEBP", quality=85, method=method, exif=b"", xmp=b"", icc_profile=None)
    return output.getvalue()
