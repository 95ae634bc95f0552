"""Shared by the media library's tests: PDFs written byte by byte (so each hostile shape is exactly what the
test says), images with EXIF, and an administrator's upload through the real form."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from PIL import Image
from werkzeug.test import TestResponse

from .conftest import Account


def build_pdf(objects: Sequence[bytes], header: bytes = b"%PDF-1.7\n", trailer_extra: bytes = b"") -> bytes:
    """A PDF of ``objects`` (numbered from 1; object 1 is the catalog) with a correct xref table."""
    out = bytearray(header + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra
    out += b">>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def one_page_pdf(catalog: bytes = b"", page: bytes = b"", more: Sequence[bytes] = ()) -> bytes:
    """A one-page PDF; ``catalog`` and ``page`` are added to those dictionaries, ``more`` objects from 4."""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page + b">>",
            *more,
        ]
    )


def photo_with_exif(size: tuple[int, int] = (2000, 1500)) -> bytes:
    """A JPEG with EXIF (camera, GPS position, an orientation that turns it a quarter)."""
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to show upright
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPSLatitude
    output = BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes(), quality=80)
    return output.getvalue()


def png(size: tuple[int, int]) -> bytes:
    """A plain PNG of ``size``."""
    output = BytesIO()
    Image.new("RGB", size, (20, 90, 160)).save(output, format="PNG")
    return output.getvalue()


def upload(staff: Account, data: bytes, filename: str, alt_text: str = "", title: str = "") -> TestResponse:
    """Post the upload form of ``/admin/media`` as ``staff``, with its CSRF token."""
    return staff.client.post(
        "/admin/media",
        data={
            "csrf_token": staff.csrf,
            "file": (BytesIO(data), filename),
            "alt_text": alt_text,
            "title": title,
        },
        content_type="multipart/form-data",
    )
