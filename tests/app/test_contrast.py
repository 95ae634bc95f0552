"""The public page's text meets WCAG AA contrast (4.5:1 for normal text), read from the shipped CSS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conexoos.app.controllers.themes import THEMES

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


def theme_variables(css: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Theme key → its custom properties (``--page`` → ``#f4f1ec``), from the ``.theme-*`` rules."""
    return {
        selector.removeprefix(".theme-"): declarations
        for selector, declarations in css.items()
        if selector.startswith(".theme-")
    }


def resolved(value: str, variables: dict[str, str]) -> str:
    """``value`` with a ``var(--name)`` replaced by the theme's colour."""
    found = re.fullmatch(r"var\((--[\w-]+)\)", value.strip())
    return variables[found.group(1)] if found else value.strip()


def test_every_theme_in_the_stylesheet_is_named_and_the_other_way_round() -> None:
    assert set(theme_variables(rules())) == set(THEMES)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_text_colour_of_every_theme_meets_aa(theme: str) -> None:
    css = rules()
    variables = theme_variables(css)[theme]
    page = resolved(css[PAGE_BACKGROUND_RULE]["background"], variables)
    card = resolved(css[".product"]["background"], variables)
    checked = 0
    for selector, declarations in css.items():
        colour = resolved(declarations.get("color", ""), variables)
        if selector.startswith(".theme-") or not colour.startswith("#"):
            continue
        background = resolved(declarations.get("background", page), variables)
        assert contrast(colour, background) >= 4.5, f"{theme} {selector}: {colour} on {background}"
        if selector.startswith(".product"):  # product texts sit on the card
            assert contrast(colour, card) >= 4.5, f"{theme} {selector}: {colour} on the card {card}"
        checked += 1
    button_text = resolved(css[".link"]["color"], variables)
    assert contrast(button_text, resolved(css[".link:hover"]["background"], variables)) >= 4.5
    focus = resolved(css[".link:focus-visible"]["outline"].split()[-1], variables)
    assert contrast(focus, page) >= 3, f"{theme}: the focus ring {focus} on {page}"  # WCAG 1.4.11
    assert checked >= 5  # body, .handle, .link, .empty, .product-description, footer a
