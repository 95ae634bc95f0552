"""Peak memory of one image upload, each case in a fresh process, next to two baselines from the same run.

For every case the script writes the file once, then starts three fresh Python processes that each import
Pillow and the app, reset the peak resident size, read the file's bytes, do one thing and report how much
the peak grew above the resident size at the mark:

- ``bytes only``: nothing more (the floor: the upload's bytes in memory);
- ``naive Pillow``: ``Image.open(...).convert("RGB")`` then ``thumbnail`` (what most upload code does);
- ``IOUtils``: the product's ``save_image`` (a refused upload counts too: refusing must be cheap).

The peak is the kernel's high-water mark of resident memory (``VmHWM``, what ``ru_maxrss`` reports), reset
at the mark by writing 5 to ``/proc/self/clear_refs``: without the reset a child inherits the parent's mark
through fork and exec and a growth below it would read as zero. Linux only.

Usage::

    .venv/bin/python bench/upload_memory.py            # every case
    .venv/bin/python bench/upload_memory.py --keep DIR # keep the generated files in DIR
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

from PIL import ExifTags, Image

TARGET_MB = 64
CHILD = r"""
import io, sys, tempfile
from pathlib import Path
from PIL import Image
from conexoos.app.utils.io import IOUtils, InvalidImage

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
growth = status_kb("VmHWM") - before
print(growth, outcome)
"""


def camera_jpeg() -> bytes:
    """A 39 MP camera picture (7200×5400, 4:2:0, EXIF 'rotate 90°'), detailed enough to weigh what such
    pictures weigh (under the 8 MB upload cap)."""
    return _save(_noisy((7200, 5400)), "JPEG", quality=80, exif=_rotated())


def progressive_jpeg() -> bytes:
    """A 12 MP progressive JPEG: libjpeg keeps every coefficient, whatever the scale."""
    return _save(_noisy((4000, 3000)), "JPEG", quality=85, progressive=True)


def progressive_jpeg_accepted() -> bytes:
    """A 7.7 MP progressive JPEG (3200×2400): its coefficients fit in the budget."""
    return _save(_noisy((3200, 2400)), "JPEG", quality=85, progressive=True)


def large_png() -> bytes:
    """A 12 MP RGB PNG (4000×3000): refused, decoding and shrinking it would take 60 MB."""
    return _save(_noisy((4000, 3000)), "PNG", compress_level=9)


def palette_png() -> bytes:
    """A 4.4 MP palette PNG with transparency (2100×2100): 1 byte a pixel, then 4 as RGBA, then 4 more
    while Pillow shrinks it."""
    image = _noisy((2100, 2100)).convert("P", palette=Image.Palette.ADAPTIVE)
    return _save(image, "PNG", transparency=0, compress_level=9)


def animated_gif() -> bytes:
    """An animated GIF of three 1600×1600 frames: the first one is kept."""
    frames = [
        _noisy((1600, 1600), seed=seed).convert("P", palette=Image.Palette.ADAPTIVE) for seed in (1, 2, 3)
    ]
    output = BytesIO()
    frames[0].save(output, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return output.getvalue()


def png_at_the_cap() -> bytes:
    """An RGB PNG near the cap: 3400×2400 (8.2 MP), 39 MB decoded and shrunk."""
    return _save(_noisy((3400, 2400)), "PNG", compress_level=1)


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
    output = BytesIO()
    frames[0].save(output, format="MPO", save_all=True, append_images=frames[1:], quality=80)
    return output.getvalue()


def webp_at_the_cap() -> bytes:
    """A WebP near the cap: 1500×1500, 38 MB with libwebp's canvases."""
    return _save(_noisy((1500, 1500)), "WEBP", quality=80)


CASES: dict[str, Callable[[], bytes]] = {
    "camera JPEG 7200×5400": camera_jpeg,
    "progressive JPEG 4000×3000": progressive_jpeg,
    "progressive JPEG 3200×2400": progressive_jpeg_accepted,
    "MPO 2 × 4000×3000": mpo,
    "PNG 4000×3000": large_png,
    "PNG 3400×2400": png_at_the_cap,
    "palette PNG 2100×2100": palette_png,
    "bomb PNG 30000×30000": bomb_png,
    "animated GIF 3 × 1600×1600": animated_gif,
    "WebP 1500×1500": webp_at_the_cap,
}


def _noisy(size: tuple[int, int], seed: int = 1) -> Image.Image:
    # Noise at an eighth of the size, scaled up: detail encoders cannot squeeze away, built in a second.
    small = Image.effect_noise((size[0] // 8, size[1] // 8), 48 + seed).convert("RGB")
    return small.resize(size, Image.Resampling.BILINEAR)


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
    arguments = parser.parse_args()
    folder = arguments.keep or Path(tempfile.mkdtemp(prefix="upload-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"peak memory growth per upload, MB (target: IOUtils under {TARGET_MB} MB)\n")
    print("| case | file | bytes only | naive Pillow | IOUtils | IOUtils outcome |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for number, (name, make) in enumerate(CASES.items()):
        path = folder / f"case-{number}"
        path.write_bytes(make())
        floor, _ = measure("bytes", path)
        naive, naive_outcome = measure("naive", path)
        ours, outcome = measure("ioutils", path)
        worst = max(worst, ours)
        naive_cell = f"{naive:.1f}" + ("" if "x" in naive_outcome else f" ({naive_outcome})")
        size_mb = path.stat().st_size / (1024 * 1024)
        print(f"| {name} | {size_mb:.1f} MB | {floor:.1f} | {naive_cell} | **{ours:.1f}** | {outcome} |")
    print(f"\nworst IOUtils peak: {worst:.1f} MB ({'under' if worst < TARGET_MB else 'OVER'} {TARGET_MB} MB)")


if __name__ == "__main__":
    main()
