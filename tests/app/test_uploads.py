"""Avatar uploads through the settings form: re-encoded, EXIF-free, randomly named, served with long caching;
anything that is not a sane image is a 400 that writes nothing."""

from __future__ import annotations

import logging
import re
import struct
import subprocess
import sys
import zlib
from html import unescape
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import ExifTags, Image

from conexoos.app.models.persistent import User
from conexoos.framework import db

from .conftest import Account

STORED_NAME = re.compile(r"^img/avatars/[0-9a-f]{32}\.webp$")


def encode(
    image_format: str, size: tuple[int, int] = (640, 480), mode: str = "RGB", **options: object
) -> bytes:
    """A real image made with Pillow."""
    image = Image.new(mode, size, (200, 40, 40, 255)[: len(mode)] if mode != "L" else 128)
    for x in range(0, size[0], 8):  # some detail, so the encoders have something to keep
        image.putpixel((x, x % size[1]), (0, 0, 0, 255)[: len(mode)] if mode != "L" else 0)
    output = BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


def jpeg_with_gps() -> bytes:
    """A 300×200 JPEG whose EXIF carries a camera name, GPS coordinates and 'rotate 90°'."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.Orientation] = 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (40.0, 26.0, 46.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (79.0, 58.0, 56.0)
    data = encode("JPEG", (300, 200), exif=exif)
    assert Image.open(BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload really has GPS
    return data


def png_header(width: int, height: int) -> bytes:
    """A PNG declaring ``width``×``height`` that holds almost no data: cheap to build, costly to decode."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def uploads_root(app: Flask) -> Path:
    return Path(app.extensions["conexoos"].settings.instance_path) / "uploads"


def files_under(root: Path) -> set[str]:
    """Every file below ``root`` (temporary ones included)."""
    return (
        {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
        if root.exists()
        else set()
    )


def stored_profile(app: Flask, user_id: int) -> tuple[str | None, str, str]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return user.avatar, user.display_name, user.bio


def upload(account: Account, data: bytes, filename: str, display_name: str = "New name"):  # type: ignore[no-untyped-def]
    return account.client.post(
        "/dashboard/settings",
        content_type="multipart/form-data",
        data={
            "csrf_token": account.csrf,
            "display_name": display_name,
            "bio": "bio",
            "avatar": (BytesIO(data), filename),
        },
    )


VALID = [
    pytest.param(lambda: encode("PNG", (640, 480), "RGBA"), "me.png", id="png"),
    pytest.param(jpeg_with_gps, "holiday.jpg", id="jpeg-with-gps"),
    pytest.param(lambda: encode("WEBP", (500, 500)), "me.webp", id="webp"),
]


@pytest.mark.parametrize(("make", "filename"), VALID)
def test_a_valid_image_is_stored_re_encoded_and_served(
    app: Flask, alice: Account, make, filename: str
) -> None:  # type: ignore[no-untyped-def]
    original = make()
    response = upload(alice, original, filename)
    assert response.status_code == 302, response.get_data(as_text=True)

    avatar, display_name, _ = stored_profile(app, alice.id)
    assert display_name == "New name"
    assert avatar is not None and STORED_NAME.match(avatar), avatar
    assert Path(filename).stem not in avatar
    stored = (uploads_root(app) / avatar).read_bytes()
    assert stored != original
    image = Image.open(BytesIO(stored))
    image.load()  # decodes completely
    assert image.format == "WEBP"
    assert max(image.size) <= 400
    assert not image.getexif() and "exif" not in image.info
    assert b"SpyCam" not in stored and b"GPS" not in stored

    served = alice.client.get(f"/media/{avatar}")
    assert served.status_code == 200
    assert served.mimetype == "image/webp"
    assert served.get_data() == stored
    assert (
        served.headers["Cache-Control"] == "public, max-age=3600"
    )  # replaced or deleted: gone within the hour
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert f"/media/{avatar}" in alice.client.get(f"/{alice.username}").get_data(as_text=True)


def test_exif_orientation_is_applied_before_it_is_dropped(app: Flask, alice: Account) -> None:
    upload(alice, jpeg_with_gps(), "rotated.jpg")
    avatar, _, _ = stored_profile(app, alice.id)
    width, height = Image.open(uploads_root(app) / str(avatar)).size
    assert height > width  # 300×200 with "rotate 90°" is a portrait picture


def test_each_upload_gets_a_new_random_name_and_the_old_file_goes(app: Flask, alice: Account) -> None:
    data = encode("PNG")
    upload(alice, data, "same.png")
    first, _, _ = stored_profile(app, alice.id)
    upload(alice, data, "same.png")
    second, _, _ = stored_profile(app, alice.id)
    assert first != second
    assert not (uploads_root(app) / str(first)).exists()
    assert files_under(uploads_root(app)) == {second}


def test_saving_without_a_file_keeps_the_avatar(app: Flask, alice: Account) -> None:
    upload(alice, encode("PNG"), "me.png")
    avatar, _, _ = stored_profile(app, alice.id)
    response = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Other", "bio": ""}
    )
    assert response.status_code == 302
    assert stored_profile(app, alice.id)[0] == avatar


def test_the_settings_show_the_avatar_and_removing_it_brings_back_the_default(
    app: Flask, alice: Account
) -> None:
    assert "Remove the avatar" not in alice.client.get("/dashboard/settings").get_data(as_text=True)
    upload(alice, encode("PNG"), "me.png")
    avatar, _, _ = stored_profile(app, alice.id)
    settings = alice.client.get("/dashboard/settings").get_data(as_text=True)
    assert f'src="http://localhost/media/{avatar}"' in settings  # what the page shows now
    assert 'name="remove_avatar"' in settings
    assert f"/media/{avatar}" in alice.client.get(f"/{alice.username}").get_data(as_text=True)

    response = alice.client.post(
        "/dashboard/settings",
        data={"csrf_token": alice.csrf, "display_name": "Alice", "bio": "", "remove_avatar": "y"},
    )
    assert response.status_code == 302
    assert stored_profile(app, alice.id)[0] is None
    assert files_under(uploads_root(app)) == set()  # the file went with it
    page = alice.client.get(f"/{alice.username}").get_data(as_text=True)
    assert f"/media/{avatar}" not in page  # the cached page was replaced
    assert re.search(r'<img class="avatar" src="http://localhost/static/', page)


def test_a_new_file_wins_over_removing_the_avatar(app: Flask, alice: Account) -> None:
    upload(alice, encode("PNG"), "me.png")
    first, _, _ = stored_profile(app, alice.id)
    response = alice.client.post(
        "/dashboard/settings",
        data={
            "csrf_token": alice.csrf,
            "display_name": "Alice",
            "bio": "",
            "remove_avatar": "y",
            "avatar": (BytesIO(encode("JPEG")), "new.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    second, _, _ = stored_profile(app, alice.id)
    assert second is not None and second != first
    assert files_under(uploads_root(app)) == {second}


def test_without_an_avatar_the_default_image_stands_in(alice: Account) -> None:
    html = alice.client.get(f"/{alice.username}").get_data(as_text=True)
    match = re.search(r'<img class="avatar" src="http://localhost(/static/[^"]+)"', html)
    assert match
    assert alice.client.get(match.group(1)).status_code == 200


REFUSED = [
    pytest.param(lambda: b"just some text, not an image\n", "notes.png", "not an image", id="text-file"),
    pytest.param(lambda: b"", "empty.png", "empty", id="empty-file"),
    pytest.param(
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "x.svg",
        "not an image",
        id="svg",
    ),
    pytest.param(
        lambda: encode("PNG", (800, 600))[:2000],
        "cut.png",
        "truncated: it cannot be decoded.",
        id="truncated-png",
    ),
    pytest.param(
        lambda: jpeg_with_gps()[:-400], "cut.jpg", "truncated: it cannot be decoded.", id="truncated-jpeg"
    ),
    pytest.param(lambda: png_header(30000, 30000), "bomb.png", "pixels", id="30000x30000"),
    pytest.param(lambda: png_header(7000, 7000), "big.png", "pixels", id="7000x7000"),
    pytest.param(lambda: encode("BMP", (10, 10)), "old.bmp", "PNG, JPEG, WebP", id="bmp"),
    pytest.param(lambda: b"GIF89a" + bytes(20), "empty.gif", "no width or height", id="gif-0x0"),
    pytest.param(lambda: b"GIF89a<script>", "x.gif", "not an image we can read", id="gif-script"),
    pytest.param(
        lambda: png_header(30000, 30000)[:29] + b"\x00" * 4,
        "bad.png",
        "not an image we can read",
        id="png-bad-crc",
    ),
    pytest.param(lambda: png_header(0, 50), "flat.png", "no width or height", id="png-0x50"),
]


@pytest.mark.parametrize(("make", "filename", "reason"), REFUSED)
def test_a_bad_upload_is_a_422_with_a_clear_message_and_writes_nothing(
    app: Flask,
    alice: Account,
    make,  # type: ignore[no-untyped-def]
    filename: str,
    reason: str,
) -> None:
    assert upload(alice, encode("PNG"), "first.png", display_name="Before").status_code == 302
    before_files = files_under(uploads_root(app))
    before_profile = stored_profile(app, alice.id)

    response = upload(alice, make(), filename, display_name="After")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.search(r'id="avatar-errors" class="errors">(.*?)</div>', html, re.S)
    assert errors and reason.lower() in errors.group(1).lower(), html[-1500:]
    assert files_under(uploads_root(app)) == before_files
    assert stored_profile(app, alice.id) == before_profile


@pytest.mark.parametrize(("make", "filename", "reason"), REFUSED[:1] + REFUSED[3:4] + REFUSED[5:6])
def test_a_bad_avatar_and_a_refused_field_are_named_in_one_answer(
    app: Flask,
    alice: Account,
    make,  # type: ignore[no-untyped-def]
    filename: str,
    reason: str,
) -> None:
    """A bio over 300 characters beside a bad avatar named the bio only; the avatar, read when it was
    stored, was refused on the next save (outside tester)."""
    before = stored_profile(app, alice.id)
    _, avatar_errors = refused_with_a_long_bio(alice, make(), filename)
    assert reason.lower() in avatar_errors.lower()
    assert NOT_KEPT not in unescape(avatar_errors)  # the image's own refusal, not the note
    assert files_under(uploads_root(app)) == set()
    assert stored_profile(app, alice.id) == before


def refused_with_a_long_bio(alice: Account, avatar: bytes, filename: str) -> tuple[str, str]:
    """Post the profile with ``avatar`` and a bio over 300 characters: the page (a 422 naming the bio) and
    what it says under the avatar."""
    response = alice.client.post(
        "/dashboard/settings",
        content_type="multipart/form-data",
        data={
            "csrf_token": alice.csrf,
            "display_name": "After",
            "bio": "b" * 301,
            "avatar": (BytesIO(avatar), filename),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    bio_errors = re.search(r'id="bio-errors" class="errors">(.*?)</div>', html, re.S)
    avatar_errors = re.search(r'id="avatar-errors" class="errors">(.*?)</div>', html, re.S)
    assert bio_errors and "300" in bio_errors.group(1)
    assert avatar_errors
    return html, avatar_errors.group(1)


NOT_KEPT = "The image you chose was not kept: choose it again before you save."
"""As on the Appearance page under its background image (tests/app/test_appearance.py)."""


def test_a_good_avatar_beside_a_refused_bio_is_not_kept_and_the_page_says_so(
    app: Flask, alice: Account
) -> None:
    """A good avatar beside a bio over 300 characters was dropped without a word: the page drawn again has
    an empty file input (browsers never fill one), so it says under the avatar to choose it again, as the
    Appearance page does for its background image. The bio takes the focus, the note does not."""
    before = stored_profile(app, alice.id)
    html, avatar_errors = refused_with_a_long_bio(alice, encode("PNG"), "me.png")
    assert unescape(avatar_errors) == f"<p>{NOT_KEPT}</p>"
    avatar_input = re.search(r'<input[^>]*id="avatar"[^>]*>', html)
    assert avatar_input and 'aria-invalid="true"' in avatar_input.group(0)
    assert "autofocus" not in avatar_input.group(0) and html.count("autofocus") == 1
    assert re.search(r'<textarea[^>]*autofocus[^>]*id="bio"|<textarea[^>]*id="bio"[^>]*autofocus', html)
    assert files_under(uploads_root(app)) == set()
    assert stored_profile(app, alice.id) == before
    without_file = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "After", "bio": "b" * 301}
    )
    assert without_file.status_code == 422 and NOT_KEPT not in unescape(without_file.get_data(as_text=True))


def test_an_accepted_avatar_is_decoded_once(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conexoos.app.utils import io as image_io

    decoded: list[tuple[int, int]] = []
    shrink = image_io._shrunk_first_frame

    def counted(data: bytes, size: tuple[int, int]):  # type: ignore[no-untyped-def]
        decoded.append(size)
        return shrink(data, size)

    monkeypatch.setattr(image_io, "_shrunk_first_frame", counted)
    assert upload(alice, encode("PNG"), "me.png").status_code == 302
    avatar = stored_profile(app, alice.id)[0]
    assert decoded == [(400, 400)] and files_under(uploads_root(app)) == {avatar}


def test_an_upload_over_the_size_cap_is_refused(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conexoos.app.utils import io as io_utils

    monkeypatch.setattr(io_utils, "MAX_UPLOAD_BYTES", 10_000)
    response = upload(alice, encode("PNG", (400, 400)) + b"\x00" * 20_000, "large.png")
    assert response.status_code == 422
    assert "larger than" in response.get_data(as_text=True)
    assert files_under(uploads_root(app)) == set()
    assert stored_profile(app, alice.id)[0] is None


TOO_LARGE_AVATAR = (
    "The avatar you chose is too large to send: this site takes at most 16 MB in one form, and with it this "
    "one came to about 17 MB. An image may be at most 8 MB. Nothing was saved: your profile settings are as "
    "they were, and the changes you made on the form were lost. Choose a smaller image, make your changes "
    "again and save."
)


def test_an_avatar_over_the_request_limit_is_a_413_page_naming_the_field_and_linking_back(
    app: Flask, alice: Account
) -> None:
    """Without JavaScript the page said "The request is larger than 16 MB" and linked to the home page
    only: not which field, nor how large an image may be, nor the way back (outside tester)."""
    before = stored_profile(app, alice.id)
    response = upload(alice, b"\x00" * (17 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    page = unescape(response.get_data(as_text=True))
    assert TOO_LARGE_AVATAR in page
    assert '<a href="/dashboard/settings">Back to your profile settings</a>' in page
    assert stored_profile(app, alice.id) == before


def test_the_413_page_says_the_limit_without_the_settings_name(
    app: Flask, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """A creator read "(its MAX_CONTENT_LENGTH)" on the page: the setting's name is for the operator's log
    (outside tester)."""
    with caplog.at_level(logging.INFO, logger="conexoos.http_errors"):
        response = upload(alice, b"\x00" * (17 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    assert "MAX_CONTENT_LENGTH" not in response.get_data(as_text=True)
    logged = [record.getMessage() for record in caplog.records if record.name == "conexoos.http_errors"]
    assert any(
        "over MAX_CONTENT_LENGTH (16777216 bytes)" in line and "/dashboard/settings" in line
        for line in logged
    )


def test_other_413s_of_the_profile_form_keep_the_frameworks_words(alice: Account) -> None:
    """A client asking for JSON, and a form over its field limit (no image at fault), get the generic 413."""
    huge = {"csrf_token": alice.csrf, "avatar": (BytesIO(b"\x00" * (17 * 1024 * 1024)), "huge.png")}
    as_json = alice.client.post(
        "/dashboard/settings",
        data=huge,
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 413
    assert as_json.get_json()["error"]["message"].startswith("The request is larger than 16 MB")
    long_bio = alice.client.post(
        "/dashboard/settings",
        data={"csrf_token": alice.csrf, "display_name": "x", "bio": "b" * 600_000},
        content_type="multipart/form-data",
    )
    assert long_bio.status_code == 413
    page = unescape(long_bio.get_data(as_text=True))
    assert "A field of this form is larger than 0.5 MB" in page and "avatar" not in page.split("<main", 1)[1]


def test_media_does_not_serve_outside_the_uploads_folder(app: Flask, alice: Account) -> None:
    (Path(app.instance_path) / "secret.txt").write_text("secret")
    for path in ("/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/img/avatars/missing.webp"):
        response = alice.client.get(path)
        assert response.status_code == 404, path
        assert b"secret" not in response.get_data()


PEAK_MEMORY_SCRIPT = """
import io, sys
from pathlib import Path
from PIL import Image
from conexoos.app.utils.io import IOUtils

def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

class Upload:
    filename = "camera-picture"
    stream = io.BytesIO(Path(sys.argv[1]).read_bytes())

# The peak restarts from the resident size here: a child inherits its parent's through fork and exec.
Path("/proc/self/clear_refs").write_text("5")
before = status_kb("VmRSS")
root = Path(sys.argv[2])  # the test's own folder, removed by pytest
stored = IOUtils(root).save_image(Upload(), folder="img/avatars")
growth = status_kb("VmHWM") - before
print(growth // 1024, *Image.open(root / stored).size)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads the peak resident size from /proc")
@pytest.mark.parametrize(
    ("image_format", "size"),
    [("JPEG", (7200, 5400)), ("PNG", (4000, 3000)), ("WEBP", (2400, 1800))],
)
def test_a_large_picture_is_shrunk_within_64_mb(
    tmp_path: Path, image_format: str, size: tuple[int, int]
) -> None:
    """A 39 MP JPEG is 156 MB decoded at full size: it is decoded at a reduced scale. A 12 MP PNG is
    reduced band by band, never copied at full size; a 4.3 MP WebP is decoded without Pillow's extra
    canvases; each is turned upright by its EXIF orientation (bench/upload_memory.py measures more
    cases, next to Pillow's naive open, convert and thumbnail)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    picture = tmp_path / "picture"
    Image.new("RGB", size, "teal").save(picture, format=image_format, exif=exif)
    result = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY_SCRIPT, str(picture), str(tmp_path / "stored")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    growth_mb, width, height = (int(value) for value in result.stdout.split())
    assert growth_mb < 64, f"{image_format}: peak memory grew by {growth_mb} MB"
    assert (width, height) == (300, 400)  # turned upright by its EXIF orientation, then fitted in 400×400
