"""WCAG 2.x contrast between two colours written ``#rgb`` or ``#rrggbb`` (the only forms we accept)."""

from __future__ import annotations

import re

from conexoos.app.utils.text import escaped_invisibles

COLOUR = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")
"""A colour as a creator may give it (lower case, after :func:`parse_colour`)."""
AA_TEXT = 4.5
"""WCAG 1.4.3, normal text."""
AA_NON_TEXT = 3.0
"""WCAG 1.4.11, a focus ring or another part of the interface."""


def parse_colour(value: str) -> str:
    """``value`` as a lower-case ``#rgb``/``#rrggbb`` colour; ValueError for anything else."""
    colour = value.strip().lower()
    if not COLOUR.fullmatch(colour):
        typed = escaped_invisibles(value[:40])  # as typed: a backslash once, not as Python writes it
        raise ValueError(f'"{typed}" is not a colour: write it as #rgb or #rrggbb, e.g. #1a56db.')
    return colour


def long_hex(colour: str) -> str:
    """A ``#rgb`` or ``#rrggbb`` colour as ``#rrggbb`` (the only form ``<input type="color">`` takes)."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(2 * char for char in digits)
    return f"#{digits}"


def luminance(colour: str) -> float:
    """Relative luminance of a ``#rgb`` or ``#rrggbb`` colour."""
    digits = long_hex(colour)[1:]
    channels = [int(digits[index : index + 2], 16) / 255 for index in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """The contrast ratio of two colours, from 1 to 21."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ratio_text(ratio: float) -> str:
    """A ratio as people read it, rounded down so that a failing one never shows as passing: ``2.9:1``."""
    return f"{int(ratio * 10) / 10:g}:1"
