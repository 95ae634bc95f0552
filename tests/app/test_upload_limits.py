"""Decoding an upload costs a bounded amount: files that claim huge dimensions, or whose pixels would take
too much memory, are refused (422 under the field) before any decoder runs; multi-frame files (MPO,
animated GIF and WebP) keep their first frame. Peak memory is measured by ``bench/upload_memory.py``."""

from __future__ import annotations

import re
import struct
import warnings
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image, ImageFile, WebPImagePlugin
from werkzeug.test import TestResponse

from conexoos.app.utils.image_header import read_header
from conexoos.app.utils.io import InvalidImage, IOUtils

from .conftest import Account
from .test_uploads import encode, files_under, png_header, stored_profile, upload, uploads_root

RED, BLUE = (220, 20, 20), (20, 20, 220)


class FileUpload:
    """What a form file offers (werkzeug's FileStorage): a name and a stream."""

    def __init__(self, data: bytes) -> None:
        self.filename = "picture"
        self.stream = BytesIO(data)


def save_product_image(root: Path, data: bytes) -> str:
    """Store ``data`` as a product image (fitted in 1200×1200: the largest box, so the costliest)."""
    return IOUtils(root).save_image(FileUpload(data), folder="img/products")


def gif_header(screen: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """A GIF with a ``screen`` logical screen and one ``frame``-sized image holding a few bytes of LZW."""
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", *screen, 0, 0, 0)
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, *frame, 0x80)
        + b"\x00\x00\x00\xff\xff\xff"
        + b"\x02\x02\x44\x01\x00\x3b"
    )


def webp_header(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) declaring ``width``×``height`` and nothing else."""
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def jpeg_header(width: int, height: int, progressive: bool = False) -> bytes:
    """A JPEG's start: SOI and a frame header for ``width``×``height`` (4:2:0), then the first scan."""
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    marker = b"\xff\xc2" if progressive else b"\xff\xc0"
    scan = b"\xff\xda" + struct.pack(">HB", 12, 3) + b"\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + marker + struct.pack(">H", 2 + len(frame)) + frame + scan + b"\x00" * 64


def first_frame_files() -> dict[str, bytes]:
    """Two-frame files whose first frame is red and second blue, as phones and editors save them."""
    red, blue = Image.new("RGB", (320, 240), RED), Image.new("RGB", (320, 240), BLUE)
    files = {}
    for name, image_format, options in (
        ("phone.mpo", "MPO", {}),
        ("anim.gif", "GIF", {"duration": 100, "loop": 0}),
        ("anim.webp", "WEBP", {"duration": 100, "loop": 0, "lossless": True}),
    ):
        output = BytesIO()
        red.save(output, format=image_format, save_all=True, append_images=[blue], **options)
        files[name] = output.getvalue()
    return files


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any pixel decoding (or libwebp's canvas allocation) fails the test loudly instead."""

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a decoder ran for an upload that should have been refused from its header")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)
    monkeypatch.setattr(WebPImagePlugin._webp, "WebPAnimDecoder", forbidden)


def assert_refused(app: Flask, account: Account, response: TestResponse, reason: str) -> None:
    """A 422 whose avatar error names ``reason``; no file written, the profile unchanged."""
    assert response.status_code == 422, response.status_code
    html = response.get_data(as_text=True)
    errors = re.search(r'id="avatar-errors" class="errors">(.*?)</div>', html, re.S)
    assert errors and reason in errors.group(1), html[-800:]
    assert files_under(uploads_root(app)) == set()
    assert stored_profile(app, account.id)[0] is None


HUGE_CLAIMS = {
    "png-30000x30000": (lambda: png_header(30000, 30000), "bomb.png"),
    "png-7000x7000": (lambda: png_header(7000, 7000), "big.png"),
    "gif-screen-65535x65535": (lambda: gif_header((65535, 65535), (1, 1)), "bomb.gif"),
    "webp-16384x16384": (lambda: webp_header(16384, 16384), "bomb.webp"),
    "jpeg-65000x65000": (lambda: jpeg_header(65000, 65000), "bomb.jpg"),
}


@pytest.mark.parametrize("case", HUGE_CLAIMS.values(), ids=HUGE_CLAIMS.keys())
@pytest.mark.usefixtures("no_decoding")
def test_a_small_file_claiming_huge_dimensions_is_refused_before_it_is_decoded(
    app: Flask, alice: Account, case: tuple[Callable[[], bytes], str]
) -> None:
    make, filename = case
    data = make()
    assert len(data) < 200  # tiny, yet it claims more pixels than a server could hold
    response = upload(alice, data, filename)
    assert_refused(app, alice, response, "the limit is 40,000,000 pixels")


TOO_COSTLY = {
    # Under the pixel cap, but just over each format's limit (README "Uploads"), avatars and products alike.
    "png-4500x3375": (lambda: png_header(4500, 3375), "big.png", "as PNG"),
    "webp-2700x2025": (lambda: webp_header(2700, 2025), "big.webp", "as WebP"),
    "progressive-jpeg-5600x4200": (
        lambda: jpeg_header(5600, 4200, progressive=True),
        "p.jpg",
        "as progressive JPEG",
    ),
}


@pytest.mark.parametrize("case", TOO_COSTLY.values(), ids=TOO_COSTLY.keys())
@pytest.mark.usefixtures("no_decoding")
def test_an_image_too_costly_to_decode_is_refused_naming_its_size(
    app: Flask, alice: Account, case: tuple[Callable[[], bytes], str, str]
) -> None:
    make, filename, reason = case
    response = upload(alice, make(), filename)
    assert_refused(app, alice, response, reason)
    html = response.get_data(as_text=True)
    assert "too many pixels" in html
    assert re.search(r"The largest [\w ]+ of this shape accepted is about \d+×\d+", html), html[-800:]


JUST_OVER_FOR_PRODUCTS = {
    # The largest product image accepted (README "Uploads": 4165×3123 PNG, 2599×1949 WebP, 4497×3372
    # progressive JPEG at 4:3) plus 3 to 15 %; the dimensions are named, with the largest accepted.
    "png-4300x3225": (lambda: png_header(4300, 3225), "4300×3225", "PNG"),
    "webp-2700x2025": (lambda: webp_header(2700, 2025), "2700×2025", "WebP"),
    "progressive-jpeg-5200x3900": (lambda: jpeg_header(5200, 3900, True), "5200×3900", "progressive JPEG"),
}


@pytest.mark.parametrize("case", JUST_OVER_FOR_PRODUCTS.values(), ids=JUST_OVER_FOR_PRODUCTS.keys())
@pytest.mark.usefixtures("no_decoding")
def test_a_product_image_just_over_its_format_limit_is_refused_before_decoding(
    tmp_path: Path, case: tuple[Callable[[], bytes], str, str]
) -> None:
    make, dimensions, label = case
    with pytest.raises(InvalidImage) as refused:
        save_product_image(tmp_path, make())
    message = str(refused.value)
    assert f"The image is {dimensions} pixels" in message
    assert f"too many pixels to process as {label}. The largest {label} of this shape accepted" in message
    assert files_under(tmp_path) == set()


def noisy(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A photo-like picture (smooth noise) in ``mode``; RGBA gets an alpha gradient."""
    image = Image.effect_noise((size[0] // 8, size[1] // 8), 48).convert("RGB").resize(size)
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(size))
    return image


def screenshot(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Flat panels and a photo inset, as screenshots are (they compress to a few hundred kB)."""
    image = Image.new(mode, size, (246, 246, 248, 255)[: len(mode)])
    image.paste(noisy((size[0] // 4, size[1] // 4), mode), (size[0] // 2, size[1] // 3))
    return image


def saved(image: Image.Image, image_format: str, **options: object) -> bytes:
    output = BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


COMMON_SIZES = {
    "webp-2000x2000": (lambda: saved(noisy((2000, 2000)), "WEBP", quality=80), "RGB"),
    "webp-rgba-2000x2000": (lambda: saved(noisy((2000, 2000), "RGBA"), "WEBP", quality=80), "RGBA"),
    "webp-lossless-rgba-2000x2000": (
        lambda: saved(noisy((2000, 2000), "RGBA"), "WEBP", lossless=True, method=0),
        "RGBA",
    ),
    "png-screenshot-4000x3000": (lambda: saved(screenshot((4000, 3000)), "PNG"), "RGB"),
    "png-rgba-3464x2309": (lambda: saved(screenshot((3464, 2309), "RGBA"), "PNG"), "RGBA"),
    "progressive-jpeg-4032x3024": (
        lambda: saved(noisy((4032, 3024)), "JPEG", quality=90, progressive=True),
        "RGB",
    ),
}


@pytest.mark.parametrize("case", COMMON_SIZES.values(), ids=COMMON_SIZES.keys())
def test_common_large_pictures_are_stored_as_product_images(
    tmp_path: Path, case: tuple[Callable[[], bytes], str]
) -> None:
    """What people upload: 4 MP WebP (with alpha, lossless too), 12 MP PNG screenshots, 8 MP RGBA PNG,
    12 MP progressive JPEG from a photo editor."""
    make, mode = case
    data = make()
    assert len(data) <= 8 * 1024 * 1024
    stored = Image.open(tmp_path / save_product_image(tmp_path, data))
    assert stored.format == "WEBP"
    assert max(stored.size) == 1200
    assert stored.mode == mode


def test_an_animated_webp_of_4_megapixels_is_stored_as_its_first_frame(tmp_path: Path) -> None:
    red, blue = Image.new("RGBA", (2000, 2000), RED + (255,)), Image.new("RGBA", (2000, 2000), BLUE + (255,))
    data = saved(red, "WEBP", save_all=True, append_images=[blue], duration=100, quality=80)
    stored = Image.open(tmp_path / save_product_image(tmp_path, data)).convert("RGB")
    assert stored.size == (1200, 1200)
    red_level, _, blue_level = stored.getpixel((600, 600))  # type: ignore[misc]
    assert red_level > 150 and blue_level < 80, (red_level, blue_level)


def test_transparent_pixels_do_not_bleed_their_colour_into_the_shrunk_picture(tmp_path: Path) -> None:
    """Reducing works on premultiplied alpha: the red of fully transparent pixels must not tint the white
    half's edge pink (a plain average of RGBA, reducing by 3 across the edge, would)."""
    image = Image.new("RGBA", (4000, 3000), (255, 0, 0, 0))
    image.paste((255, 255, 255, 255), (0, 0, 2000, 3000))
    stored = Image.open(tmp_path / save_product_image(tmp_path, saved(image, "PNG")))
    assert stored.mode == "RGBA"
    edge = [stored.getpixel((x, 450)) for x in range(590, 610)]
    visible = [pixel for pixel in edge if pixel[3] > 64]  # type: ignore[index]
    assert visible and all(min(pixel[:3]) > 200 for pixel in visible), edge  # type: ignore[index]


def test_a_baseline_camera_jpeg_of_the_same_size_is_not_refused_by_its_header() -> None:
    """Only a progressive JPEG (or one whose first scan lacks components) keeps every coefficient."""
    baseline, progressive = read_header(jpeg_header(6000, 4000)), read_header(jpeg_header(6000, 4000, True))
    assert baseline is not None and progressive is not None
    assert (baseline.width, baseline.height) == (6000, 4000)
    assert baseline.coefficient_bytes == 0
    assert progressive.coefficient_bytes >= 6000 * 4000 * 3  # 2 bytes × (1 + ¼ + ¼) a pixel


@pytest.mark.parametrize("frame", [(12000, 12000), (30000, 30000)], ids=["bomb-warning", "bomb-error"])
@pytest.mark.parametrize("warnings_are_errors", [False, True], ids=["default", "warnings-as-errors"])
def test_a_gif_whose_first_frame_outgrows_its_screen_is_refused_never_a_500(
    app: Flask,
    alice: Account,
    frame: tuple[int, int],
    warnings_are_errors: bool,
) -> None:
    """The screen is 1×1, so only Pillow sees the size; its DecompressionBombWarning (an error when
    warnings are errors, as under ``python -W error``) and DecompressionBombError are refused (4xx)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error" if warnings_are_errors else "ignore", Image.DecompressionBombWarning)
        response = upload(alice, gif_header((1, 1), frame), "frame.gif")
    assert_refused(app, alice, response, "pixels")


@pytest.mark.parametrize("filename", ["phone.mpo", "anim.gif", "anim.webp"])
def test_a_multi_frame_file_is_stored_as_its_first_frame(app: Flask, alice: Account, filename: str) -> None:
    data = first_frame_files()[filename]
    opened = Image.open(BytesIO(data))
    assert getattr(opened, "n_frames", 1) == 2  # really two frames
    response = upload(alice, data, filename.replace(".mpo", ".jpg"))
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    avatar, _, _ = stored_profile(app, alice.id)
    stored = Image.open(Path(uploads_root(app)) / str(avatar)).convert("RGB")
    red, green, blue = stored.getpixel((stored.width // 2, stored.height // 2))  # type: ignore[misc]
    assert red > 150 and blue < 80, (red, green, blue)  # the first, red frame


def test_a_large_camera_jpeg_is_still_accepted(app: Flask, alice: Account) -> None:
    data = encode("JPEG", (7000, 5000), quality=60)
    assert len(data) < 8 * 1024 * 1024
    response = upload(alice, data, "camera.jpg")
    assert response.status_code == 302
    avatar, _, _ = stored_profile(app, alice.id)
    assert max(Image.open(Path(uploads_root(app)) / str(avatar)).size) == 400
