"""The public page's text meets WCAG AA contrast (4.5:1 for normal text), read from the shipped CSS: every
palette of every theme (``static/css/themes/``), and the page with overrides the server accepts.

``public.css`` is parsed one level deep, as it is written; a ``var(--name, fallback)`` is resolved with the
theme's palette and the overrides the server would write (``controllers/appearance.py``), so the test reads
the same values a browser would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conexoos.app.controllers.appearance import Appearance, contrast_problems, override_properties
from conexoos.app.controllers.themes import PALETTE_NAMES, THEMES, THEMES_FOLDER
from conexoos.app.utils.contrast import contrast, luminance

CSS = Path(__file__).resolve().parents[2] / "src/conexoos/app/static/css/public.css"
HEX = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?\b")


def rules() -> dict[str, dict[str, str]]:
    """Selector → declarations of public.css (one level, as the file is written)."""
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    parsed: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        declarations = {}
        for part in body.split(";"):
            name, _, value = part.partition(":")
            if value:
                declarations[name.strip()] = value.strip()
        for selector in re.split(r",(?![^(]*\))", selectors):
            parsed.setdefault(selector.strip(), {}).update(declarations)
    return parsed


def resolved(value: str, variables: dict[str, str]) -> str:
    """``value`` with every ``var(--name[, fallback])`` replaced as a browser would."""
    found = re.search(r"var\((--[\w-]+)(?:,([^()]*(?:\([^()]*\)[^()]*)*))?\)", value)
    if not found:
        return value.strip()
    name, fallback = found.group(1), found.group(2)
    replacement = variables.get(name)
    if replacement is None or replacement == "initial":
        replacement = fallback if fallback is not None else ""
    return resolved(
        value[: found.start()] + resolved(replacement, variables) + value[found.end() :], variables
    )


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777", "#fff") == pytest.approx(4.48, abs=0.01)
    assert luminance("#fff") == pytest.approx(1.0) and luminance("#000") == 0


def test_every_theme_file_is_named_and_the_other_way_round() -> None:
    assert {path.stem for path in THEMES_FOLDER.glob("*.css")} == set(THEMES)
    assert len(THEMES) >= 8 and {"light", "dark", "auto", "contrast", "classic", "midnight", "ocean"} <= set(
        THEMES
    )


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_a_theme_file_is_small_and_holds_custom_properties_only(theme: str) -> None:
    text = re.sub(r"/\*.*?\*/", "", (THEMES_FOLDER / f"{theme}.css").read_text(encoding="utf-8"), flags=re.S)
    assert len(text.encode()) < 1024
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        assert selector.strip().endswith(":root"), selector
        names = [part.partition(":")[0].strip() for part in body.split(";") if part.strip()]
        assert names and all(name.startswith("--") for name in names), body
    palettes = THEMES[theme].palettes
    assert len(palettes) == (2 if theme == "auto" else 1)
    assert all(set(PALETTE_NAMES) <= set(palette) for palette in palettes)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_a_dark_palette_declares_a_dark_colour_scheme(theme: str) -> None:
    """``public.css`` sets ``color-scheme: var(--scheme)``: without it, form fields (the sign-up's email,
    a lock's password) stayed bright white on a dark page (outside tester)."""
    text = re.sub(r"/\*.*?\*/", "", (THEMES_FOLDER / f"{theme}.css").read_text(encoding="utf-8"), flags=re.S)
    bodies = re.findall(r":root\{([^{}]*)\}", text)
    for palette, body in zip(THEMES[theme].palettes, bodies, strict=True):
        dark = luminance(palette["--page"]) < 0.18
        assert ("--scheme:dark" in body.split(";")) == dark, (theme, palette["--page"])
    assert rules()["body"].get("color-scheme") == "var(--scheme)"


def page_problems(variables: dict[str, str]) -> list[str]:
    """Every text of public.css that fails AA with these custom properties, and a focus ring under 3:1."""
    css = rules()
    backdrop = resolved(css[".page"]["background"], variables)
    page = HEX.findall(backdrop) or HEX.findall(resolved(css["body"]["background"], variables))
    card = resolved(css[".product"]["background"], variables)
    problems = []
    checked = 0
    for selector, declarations in css.items():
        colour = resolved(declarations.get("color", ""), variables)
        if not HEX.fullmatch(colour):
            continue
        own = resolved(declarations.get("background", ""), variables)
        behind = [own] if HEX.fullmatch(own) else page
        if selector.startswith(".product") and HEX.fullmatch(card):
            behind = [*behind, card]  # product texts sit on the card
        problems += [f"{selector}: {colour} on {b}" for b in behind if contrast(colour, b) < 4.5]
        checked += 1
    button_text = resolved(css[".link"]["color"], variables)
    hover = resolved(css[".link:hover"]["background"], variables)
    for behind in [hover] if HEX.fullmatch(hover) else page:
        if contrast(button_text, behind) < 4.5:
            problems.append(f".link:hover {button_text} on {behind}")
    focus = resolved(css[".link:focus-visible"]["outline"].split()[-1], variables)
    problems += [f"focus ring {focus} on {b}" for b in page if contrast(focus, b) < 3]  # WCAG 1.4.11
    assert checked >= 5  # body, .handle, .link, .empty, .product-description, footer a
    return problems


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_text_colour_of_every_theme_meets_aa(theme: str) -> None:
    for palette in THEMES[theme].palettes:
        assert page_problems(dict(palette)) == [], palette


OVERRIDES = {
    "dark solid, light text": Appearance(
        background="solid",
        background_color="#102030",
        text_color="#f5f5f5",
        button_color="#ffd166",
        button_text_color="#102030",
    ),
    "gradient": Appearance(
        background="gradient",
        background_color="#fef3c7",
        gradient_color="#e0f2fe",
        gradient_direction="down",
        text_color="#1f2937",
        button_color="#1d4ed8",
        button_text_color="#ffffff",
    ),
    "outline on pale": Appearance(background="solid", background_color="#fdf6e3", button_style="outline"),
    "image backdrop": Appearance(
        background="image", background_image="img/backgrounds/x.webp", backdrop_color="#ffffff"
    ),
    "only a pale background": Appearance(background="solid", background_color="#f0f0f0"),
    "shadow, square": Appearance(button_style="shadow", corner_radius=0, avatar_shape="square"),
}


@pytest.mark.parametrize("name", sorted(OVERRIDES))
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_what_the_server_accepts_meets_aa_on_the_page(app: object, theme: str, name: str) -> None:
    """The server's check and the CSS agree: an override it accepts leaves no failing text on the page in
    any scheme of the theme, and one it refuses would leave some."""
    appearance = OVERRIDES[name]
    with app.test_request_context():  # type: ignore[attr-defined]
        overrides = override_properties(appearance)
    on_page = [
        problem for palette in THEMES[theme].palettes for problem in page_problems({**palette, **overrides})
    ]
    refused = contrast_problems(appearance, THEMES[theme])
    assert bool(on_page) == bool(refused), (theme, name, on_page, refused)


def test_the_server_refuses_what_would_fail_on_the_page(app: object) -> None:
    refused = Appearance(background="solid", background_color="#777777", text_color="#999999")
    assert contrast_problems(refused, THEMES["classic"])
    with app.test_request_context():  # type: ignore[attr-defined]
        overrides = override_properties(refused)
    assert page_problems({**THEMES["classic"].palettes[0], **overrides})
