"""What an image file claims about itself, read from its first bytes without decoding a pixel.

Used to refuse an upload whose decoding would cost too much before any decoder runs: libwebp allocates
its canvases as soon as a WebP file is opened, and libjpeg holds every DCT coefficient of the picture
(about 2 bytes per pixel and component, whatever the scale it decodes at) for progressive JPEGs and for
JPEGs whose first scan does not carry every component. A PNG's colour type tells the bytes per pixel.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0..SOF15 but DHT, JPG, DAC
JPEG_PROGRESSIVE_MARKERS = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
JPEG_START_OF_SCAN = 0xDA
JPEG_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: no length field
GIF_BLOCK_STARTS = frozenset(b"!,;")
"""What follows a GIF's logical screen (and colour table): an extension, an image, or the trailer."""
VP8_START_CODE = b"\x9d\x01\x2a"
VP8L_SIGNATURE = 0x2F


PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
"""Pillow's mode for each PNG colour type (16-bit grey opens as ``I;16``, 16-bit colour as 8-bit)."""
JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
"""The mode Pillow decodes a JPEG of 1, 3 or 4 components to (YCbCr is decoded straight to RGB)."""


@dataclass(frozen=True)
class ImageHeader:
    """Dimensions a file declares, the mode Pillow will decode it to (``""`` when the header does not say),
    and for a JPEG the bytes of DCT coefficients libjpeg keeps (0 if none)."""

    kind: str
    width: int
    height: int
    coefficient_bytes: int = 0
    mode: str = ""

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


def read_header(data: bytes) -> ImageHeader | None:
    """The header of a PNG, GIF, WebP or JPEG file; None for anything else, or a header that is cut short
    or does not hold together (a PNG's IHDR with a wrong length or checksum, a GIF's screen followed by no
    block, a WebP bitstream without its signature, a JPEG frame segment cut short): such dimensions are
    only bytes that happen to follow a signature, so they are not believed (Pillow then says whether the
    file is an image at all). A header declaring no width or height is returned as it is.

    For a GIF this is the logical screen; a first frame reaching beyond it is found when Pillow opens it.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _gif(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
    except (struct.error, IndexError):
        return None
    return None


def _believed(header: ImageHeader, complete: bool) -> ImageHeader | None:
    """``header`` when the bytes around it hold together (or it declares no size, refused for that)."""
    return header if complete or not (header.width and header.height) else None


def _png(data: bytes) -> ImageHeader | None:
    if data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    mode = "I;16" if (depth, colour) == (16, 0) else PNG_MODES.get(colour, "")
    (length,) = struct.unpack(">I", data[8:12])
    (checksum,) = struct.unpack(">I", data[29:33])
    complete = length == 13 and checksum == zlib.crc32(data[12:29])
    return _believed(ImageHeader("PNG", width, height, mode=mode), complete)


def _gif(data: bytes) -> ImageHeader | None:
    width, height, flags = struct.unpack("<HHB", data[6:11])
    colour_table = 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0
    after_screen = 13 + colour_table
    complete = len(data) > after_screen and data[after_screen] in GIF_BLOCK_STARTS
    return _believed(ImageHeader("GIF", width, height), complete)


def _webp(data: bytes) -> ImageHeader | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageHeader("WEBP", width, height) if len(data) >= 30 else None
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        header = ImageHeader("WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        return header if len(data) >= 25 and data[20] == VP8L_SIGNATURE else None
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        header = ImageHeader("WEBP", width & 0x3FFF, height & 0x3FFF)
        return _believed(header, data[23:26] == VP8_START_CODE)
    return None


def _jpeg(data: bytes) -> ImageHeader | None:
    """Walk the marker segments up to the first scan: the frame's size, sampling and scan layout."""
    position, frame = 2, None
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segment = data[position + 4 : position + 2 + length]
        if marker in JPEG_FRAME_MARKERS and frame is None:
            if not _complete_frame(segment, length):
                return None
            frame = (marker, segment)
        elif marker == JPEG_START_OF_SCAN:
            return _jpeg_frame(frame, scan_components=segment[0]) if frame else None
        position += 2 + length
    return _jpeg_frame(frame, scan_components=None) if frame else None


def _complete_frame(segment: bytes, length: int) -> bool:
    """Whether a frame segment holds all its ``length`` says, and a component entry for each component."""
    return len(segment) == length - 2 and len(segment) >= 6 and len(segment) >= 6 + 3 * segment[5]


def _jpeg_frame(frame: tuple[int, bytes], scan_components: int | None) -> ImageHeader:
    marker, segment = frame
    height, width, count = struct.unpack(">HHB", segment[1:6])
    sampling = [(segment[7 + 3 * index] >> 4, segment[7 + 3 * index] & 0x0F) for index in range(count)]
    # Without the first scan (a cut file) assume the worst: a decoder would buffer the whole picture.
    buffered = marker in JPEG_PROGRESSIVE_MARKERS or scan_components is None or scan_components < count
    coefficients = _coefficient_bytes(width, height, sampling) if buffered else 0
    return ImageHeader("JPEG", width, height, coefficients, JPEG_MODES.get(count, ""))


def _coefficient_bytes(width: int, height: int, sampling: list[tuple[int, int]]) -> int:
    """libjpeg's whole-image coefficient buffer: one 16-bit value per pixel of each (subsampled) component."""
    most_h = max((h for h, _ in sampling), default=1) or 1
    most_v = max((v for _, v in sampling), default=1) or 1
    return sum(2 * (width * h // most_h + 8) * (height * v // most_v + 8) for h, v in sampling)
