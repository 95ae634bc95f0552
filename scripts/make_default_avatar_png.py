"""Draw ``src/conexoos/app/static/img/default_avatar.png``: the default avatar (``default_avatar.svg``, a grey
figure on a warm grey square) as a PNG, the link-preview image (``og:image``) of a public page whose creator
has no picture. Link-card fetchers (Facebook, X, LinkedIn, Slack) ignore an SVG; every one reads a PNG.

The shapes are the SVG's, in its 96-unit square, drawn four times larger than :data:`SIZE` and reduced, so
that their edges are smooth; the few colours of the result are kept as a palette (the file stays small).

    python scripts/make_default_avatar_png.py           # writes the PNG (commit it)
    python scripts/make_default_avatar_png.py --check   # exits 1 when the committed PNG draws otherwise
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

OUTPUT = Path(__file__).resolve().parents[1] / "src/conexoos/app/static/img/default_avatar.png"
SIZE = 600
"""Its width and height in pixels (``profiles.DEFAULT_SOCIAL_IMAGE`` says the same to the fetchers)."""
UNITS = 96
"""The SVG's viewBox: every coordinate below is in these units."""
SMOOTHING = 4
BACKGROUND = "#d9d4cd"
FIGURE = "#8a837b"
HEAD = (48, 38, 18)
"""The head's centre and radius (``<circle cx="48" cy="38" r="18">``)."""
SHOULDERS = ((14, 92), (18, 72), (32, 62), (48, 62), (64, 62), (78, 72), (82, 92))
"""``M14 92c4-20 18-30 34-30s30 10 34 30z`` in absolute points: a start, then two cubic curves of three
points each (the second's first control point mirrors the first's last one)."""
CURVE_STEPS = 64
TOLERANCE = 8
"""How far (0-255, any channel, any pixel) ``--check`` lets a drawing differ: another Pillow may smooth the
edges or choose the palette a little differently."""


def cubic(start: tuple[float, float], *controls: tuple[float, float]) -> list[tuple[float, float]]:
    """Points along the cubic Bézier curve from ``start`` through ``controls`` (two handles and its end)."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = start, *controls
    points = []
    for step in range(1, CURVE_STEPS + 1):
        t = step / CURVE_STEPS
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        points.append((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3))
    return points


def draw() -> Image.Image:
    """The avatar at :data:`SIZE` pixels square, with a palette of its colours."""
    scale = SIZE * SMOOTHING / UNITS
    large = Image.new("RGB", (SIZE * SMOOTHING,) * 2, BACKGROUND)
    pen = ImageDraw.Draw(large)
    x, y, radius = (value * scale for value in HEAD)
    pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=FIGURE)
    outline = [SHOULDERS[0], *cubic(*SHOULDERS[0:4]), *cubic(*SHOULDERS[3:7])]
    pen.polygon([(px * scale, py * scale) for px, py in outline], fill=FIGURE)
    small = large.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    return small.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed PNG, write nothing")
    image = draw()
    if parser.parse_args().check:
        with Image.open(OUTPUT) as committed:
            same = committed.size == image.size and all(
                largest <= TOLERANCE
                for _, largest in ImageChops.difference(
                    committed.convert("RGB"), image.convert("RGB")
                ).getextrema()
            )
        if not same:
            print(f"{OUTPUT} differs: run scripts/make_default_avatar_png.py", file=sys.stderr)
        return 0 if same else 1
    image.save(OUTPUT, optimize=True)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
