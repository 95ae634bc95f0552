"""The public page's text meets WCAG AA contrast (4.5:1 for normal text), read from the shipped CSS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "src/conexoos/app/static/css/public.css"
PAGE_BACKGROUND_RULE = "body"


def rules() -> dict[str, dict[str, str]]:
    """Selector → declarations of public.css (one level, as the file is written)."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    parsed: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (part.partition(":") for part in body.split(";"))
            if value
        )
        for selector in selectors.split(","):
            parsed.setdefault(selector.strip(), {}).update(declarations)
    return parsed


def luminance(hex_color: str) -> float:
    """Relative luminance of #rgb or #rrggbb (WCAG 2.x)."""
    digits = hex_color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(2 * char for char in digits)
    channels = [int(digits[index : index + 2], 16) / 255 for index in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777", "#fff") == pytest.approx(4.48, abs=0.01)


def test_every_text_colour_on_the_public_page_meets_aa() -> None:
    css = rules()
    page = css[PAGE_BACKGROUND_RULE]["background"]
    checked = 0
    for selector, declarations in css.items():
        colour = declarations.get("color")
        if not colour or not colour.startswith("#"):
            continue
        background = declarations.get("background", page)
        assert contrast(colour, background) >= 4.5, f"{selector}: {colour} on {background}"
        checked += 1
    hover = css[".link:hover"]["background"]
    assert contrast(css[".link"]["color"], hover) >= 4.5
    assert checked >= 4  # body, .handle, .link, .empty, footer a
