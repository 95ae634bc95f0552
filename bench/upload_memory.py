"""Peak memory of one image upload, each case in a fresh process, next to two baselines from the same run.

For every case the script writes the file once, then starts three fresh Python processes that each import
Pillow and the app, reset the peak resident size, read the file's bytes, do one thing and report how much
the peak grew above the resident size at the mark:

- ``bytes only``: nothing more (the floor: the upload's bytes in memory);
- ``naive Pillow``: ``Image.open(...).convert("RGB")`` then ``thumbnail`` (what most upload code does);
- ``IOUtils``: the product's ``save_image`` (a refused upload counts too: refusing must be cheap); with
  ``--library``, the media library's ``renditions`` (480, 960 and 1600 boxes) instead.

The peak is the kernel's high-water mark of resident memory (``VmHWM``, what ``ru_maxrss`` reports), reset
at the mark by writing 5 to ``/proc/self/clear_refs``: without the reset a child inherits the parent's mark
through fork and exec and a growth below it would read as zero. Linux only.

Usage::

    .venv/bin/python bench/upload_memory.py            # every case
    .venv/bin/python bench/upload_memory.py --keep DIR # keep the generated files in DIR
    .venv/bin/python bench/upload_memory.py --only webp # the cases whose name contains "webp"
    .venv/bin/python bench/upload_memory.py --library   # the media library's renditions, not product images
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw

from conexoos.app.utils.image_header import read_header
from conexoos.app.utils.io import MAX_PIXELS, UploadShape, peak_estimate

TARGET_MB = 64
CHILD = r"""
import io, sys, tempfile
from pathlib import Path
from PIL import Image
from conexoos.app.utils.io import IOUtils, InvalidImage, renditions

def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

mode, path = sys.argv[1], sys.argv[2]
Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from the resident size now
before = status_kb("VmRSS")
data = Path(path).read_bytes()  # counted: an upload's bytes are part of what it costs
outcome = "-"
if mode == "naive":
    try:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image.thumbnail((1200, 1200))
        outcome = "%dx%d" % image.size
    except Exception as error:  # the baseline's own failures are part of what it shows
        outcome = type(error).__name__
elif mode == "ioutils":
    class Upload:
        filename = "upload"
        stream = io.BytesIO(data)
    try:
        stored = IOUtils(Path(tempfile.mkdtemp())).save_image(Upload(), folder="img/products")
        outcome = "stored"
    except InvalidImage:
        outcome = "refused (400)"
elif mode == "library":
    class Upload:
        filename = "upload"
        stream = io.BytesIO(data)
    try:
        largest = renditions(Upload(), (480, 960, 1600))[-1]
        outcome = "stored, largest %dx%d" % (largest.width, largest.height)
    except InvalidImage:
        outcome = "refused (422)"
growth = status_kb("VmHWM") - before
print(growth, outcome)
"""


def camera_jpeg() -> bytes:
    """A 39 MP camera picture (7200×5400, 4:2:0, EXIF 'rotate 90°'), detailed enough to weigh what such
    pictures weigh (under the 8 MB upload cap)."""
    return _save(_noisy((7200, 5400)), "JPEG", quality=80, exif=_rotated())


def progressive(size: tuple[int, int]) -> Callable[[], bytes]:
    """A progressive JPEG (4:2:0), as photo editors export them: libjpeg keeps every coefficient."""
    return lambda: _save(_noisy(size), "JPEG", quality=85, progressive=True)


def photo_png(size: tuple[int, int], mode: str = "RGB") -> Callable[[], bytes]:
    """A photo saved as PNG (RGB, or RGBA with a gradient alpha): noisy, so close to the 8 MB cap."""
    return lambda: _save(_with_mode(_noisy(size), mode), "PNG", compress_level=9)


def screenshot_png(size: tuple[int, int], mode: str = "RGB") -> Callable[[], bytes]:
    """A screenshot: flat panels, text-like stripes, a photo inset; small, as screenshots compress."""

    def make() -> bytes:
        image = Image.new("RGB", size, (246, 246, 248))
        draw = ImageDraw.Draw(image)
        for top in range(80, size[1] - 40, 28):
            for left in range(40, size[0] // 2, 220):
                draw.rectangle((left, top, left + 160, top + 10), fill=(40, 40, 60))
        draw.rectangle((0, 0, size[0], 60), fill=(30, 90, 200))
        image.paste(_noisy((size[0] // 3, size[1] // 3)), (size[0] * 3 // 5, size[1] // 4))
        return _save(_with_mode(image, mode), "PNG", optimize=True)

    return make


def palette_png(size: tuple[int, int]) -> Callable[[], bytes]:
    """A palette PNG with a transparent colour: 1 byte a pixel, reduced to RGBA a band at a time."""
    return lambda: _save(
        _noisy(size).convert("P", palette=Image.Palette.ADAPTIVE), "PNG", transparency=0, compress_level=9
    )


def animated_gif(size: tuple[int, int]) -> Callable[[], bytes]:
    """An animated GIF of two frames (64 colours): the first one is kept."""

    def make() -> bytes:
        frames = [_noisy(size, seed=seed).quantize(64) for seed in (1, 2)]
        return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    return make


def bomb_png() -> bytes:
    """A 100 kB PNG that inflates to 30000×30000 pixels (2.7 GB of RGB): zeros compress 1000 to 1."""
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    row = b"\x00" * (1 + 30000 * 3)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(30000)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def mpo() -> bytes:
    """A phone's multi-picture JPEG: two 12 MP frames in one file (Pillow writes MPO with save_all)."""
    frames = [_noisy((4000, 3000)), _noisy((4000, 3000), seed=7)]
    return _save(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=80)


def webp(size: tuple[int, int], mode: str = "RGB", **options: object) -> Callable[[], bytes]:
    """A WebP photo (lossy unless ``lossless=True``), RGBA with a gradient alpha."""
    return lambda: _save(_with_mode(_noisy(size), mode), "WEBP", **{"quality": 80, **options})


def animated_webp(size: tuple[int, int]) -> Callable[[], bytes]:
    """An animated WebP of two RGBA frames: the first one is kept."""

    def make() -> bytes:
        frames = [_noisy(size, seed=seed).convert("RGBA") for seed in (1, 2)]
        return _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, quality=80)

    return make


CASES: dict[str, Callable[[], bytes]] = {
    "camera JPEG 7200×5400": camera_jpeg,
    "MPO 2 × 4000×3000": mpo,
    "progressive JPEG 4032×3024": progressive((4032, 3024)),
    "progressive JPEG 4400×3300": progressive((4400, 3300)),
    "progressive JPEG 4800×3600": progressive((4800, 3600)),
    "progressive JPEG 6000×4000": progressive((6000, 4000)),
    "PNG screenshot 4000×3000": screenshot_png((4000, 3000)),
    "PNG screenshot 4100×3075": screenshot_png((4100, 3075)),
    "PNG photo 4000×3000": photo_png((4000, 3000)),
    "PNG photo 3800×2850": photo_png((3800, 2850)),
    "PNG RGBA screenshot 3464×2309": screenshot_png((3464, 2309), "RGBA"),
    "PNG RGBA screenshot 4100×3075": screenshot_png((4100, 3075), "RGBA"),
    "PNG RGBA photo 3500×2300": photo_png((3500, 2300), "RGBA"),
    "palette PNG 4000×3000": palette_png((4000, 3000)),
    "bomb PNG 30000×30000": bomb_png,
    "animated GIF 2 × 3000×2000": animated_gif((3000, 2000)),
    "WebP 2000×2000": webp((2000, 2000)),
    "WebP 2540×1905": webp((2540, 1905)),
    "WebP RGBA 2000×2000": webp((2000, 2000), "RGBA"),
    "WebP RGBA 2200×2200": webp((2200, 2200), "RGBA"),
    "WebP lossless RGBA 2000×2000": webp((2000, 2000), "RGBA", lossless=True),
    "animated WebP 2 × 2000×2000": animated_webp((2000, 2000)),
    "WebP 2700×2025": webp((2700, 2025)),
}


def _noisy(size: tuple[int, int], seed: int = 1) -> Image.Image:
    # Noise at an eighth of the size, scaled up: detail encoders cannot squeeze away, built in a second.
    small = Image.effect_noise((size[0] // 8, size[1] // 8), 48 + seed).convert("RGB")
    return small.resize(size, Image.Resampling.BILINEAR)


def _with_mode(image: Image.Image, mode: str) -> Image.Image:
    if mode != "RGBA":
        return image
    alpha = Image.linear_gradient("L").resize(image.size)
    image = image.convert("RGBA")
    image.putalpha(alpha)
    return image


def _rotated() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return exif


def _save(image: Image.Image, image_format: str, **options: object) -> bytes:
    output = BytesIO()
    image.save(output, format=image_format, **options)
    return output.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def estimate(data: bytes) -> str:
    """IOUtils' estimate of the peak in MB (what it refuses an upload on), or why there is none."""
    try:
        image = Image.open(BytesIO(data))
    except Image.DecompressionBombError:
        return "- (bomb)"
    if image.width * image.height > MAX_PIXELS:
        return "- (pixels)"
    mode = "P+alpha" if image.mode == "P" and "transparency" in image.info else image.mode
    if image.format == "WEBP" and mode == "RGB":
        mode = "RGBX"
    upload = UploadShape(str(image.format), *image.size, mode, read_header(data), len(data), (1200, 1200))
    cost = peak_estimate(upload)
    return f"{cost / (1024 * 1024):.1f}"


def measure(mode: str, path: Path) -> tuple[float, str]:
    """Peak memory growth in MB of one fresh process doing ``mode`` on ``path``, and what came of it."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    growth_kb, outcome = result.stdout.strip().split(" ", 1)
    return int(growth_kb) / 1024, outcome


def main() -> None:
    """Generate each case, measure it three ways, print a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, help="folder to keep the generated images in")
    parser.add_argument("--only", default="", help="run the cases whose name contains this text")
    parser.add_argument("--library", action="store_true", help="measure the media library's renditions")
    arguments = parser.parse_args()
    folder = arguments.keep or Path(tempfile.mkdtemp(prefix="upload-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"peak memory growth per upload, MB (target: IOUtils under {TARGET_MB} MB)\n")
    print("| case | file | bytes only | naive Pillow | IOUtils | IOUtils estimate | IOUtils outcome |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for number, (name, make) in enumerate(CASES.items()):
        if arguments.only.lower() not in name.lower():
            continue
        path = folder / f"case-{number}"
        data = make()
        path.write_bytes(data)
        floor, _ = measure("bytes", path)
        naive, naive_outcome = measure("naive", path)
        ours, outcome = measure("library" if arguments.library else "ioutils", path)
        worst = max(worst, ours)
        naive_cell = f"{naive:.1f}" + ("" if "x" in naive_outcome else f" ({naive_outcome})")
        size_mb = path.stat().st_size / (1024 * 1024)
        guess = "-" if arguments.library else estimate(data)  # the estimate is for the product images' box
        cells = [name, f"{size_mb:.1f} MB", f"{floor:.1f}", naive_cell, f"**{ours:.1f}**", guess]
        print("| " + " | ".join([*cells, outcome]) + " |", flush=True)
    print(f"\nworst IOUtils peak: {worst:.1f} MB ({'under' if worst < TARGET_MB else 'OVER'} {TARGET_MB} MB)")


if __name__ == "__main__":
    main()
