"""The looks a public page can have: each theme is one small stylesheet of custom properties,
``static/css/themes/<key>.css``, and is named here once (this list is the single source: the admin's
choice, the creator's choice, the public page's ``<link>``, and the contrast and Lighthouse tests).

A page wears its creator's theme, or the site's ``default_theme`` (chosen in /admin/settings) when the
creator chose none. ``tests/app/test_contrast.py`` checks every palette of every theme against WCAG AA,
and :mod:`.appearance` reads the palettes to check a creator's overrides before they are saved.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THEMES_FOLDER = Path(__file__).resolve().parents[1] / "static" / "css" / "themes"
_DECLARATION = re.compile(r"(--[a-z-]+):(#[0-9a-f]{3,6})")
_RULE = re.compile(r":root\{([^{}]*)\}")


@dataclass(frozen=True)
class Theme:
    """A theme: ``key`` names its stylesheet (and the page's ``theme-<key>`` class), ``label`` is shown."""

    key: str
    label: str

    @property
    def name(self) -> str:
        """The label without its description in brackets: ``Classic``."""
        return self.label.split(" (", 1)[0]

    @property
    def stylesheet(self) -> str:
        """The theme's file under ``static/`` (for ``url_for('static', filename=...)``)."""
        return f"css/themes/{self.key}.css"

    @property
    def palettes(self) -> list[dict[str, str]]:
        """The colours of each scheme the theme has (one, or light then dark for ``auto``)."""
        return theme_palettes(self.key)


THEMES: dict[str, Theme] = {
    theme.key: theme
    for theme in (
        Theme("classic", "Classic (dark buttons on warm paper)"),
        Theme("midnight", "Midnight (dark page, golden buttons)"),
        Theme("ocean", "Ocean (blue buttons on a pale blue page)"),
        Theme("forest", "Forest (deep green buttons on a sage page)"),
        Theme("light", "Light (white page, blue buttons)"),
        Theme("dark", "Dark (near-black page, light blue buttons)"),
        Theme("auto", "Auto (light or dark, as the visitor's device prefers)"),
        Theme("contrast", "High contrast (white and yellow on black)"),
    )
}
DEFAULT_THEME = "classic"
PALETTE_NAMES = (
    "--page",
    "--text",
    "--muted",
    "--button",
    "--button-text",
    "--button-hover",
    "--card",
    "--focus",
)
"""The custom properties every palette of every theme sets (a dark palette sets ``--scheme:dark`` too, the
page's ``color-scheme`` in ``public.css``: dark form fields)."""


def theme_key(stored: Any) -> str:
    """The theme a stored value names; the default for anything else (a theme removed since, say)."""
    return stored if isinstance(stored, str) and stored in THEMES else DEFAULT_THEME


@functools.cache
def theme_palettes(key: str) -> list[dict[str, str]]:
    """Each ``:root{...}`` rule of the theme's stylesheet as ``{"--page": "#f4f1ec", ...}``, in file order.

    ValueError names the file and the property when a palette lacks one of :data:`PALETTE_NAMES`.
    """
    path = THEMES_FOLDER / f"{key}.css"
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    palettes = [dict(_DECLARATION.findall(body.replace(" ", ""))) for body in _RULE.findall(text)]
    for palette in palettes or [{}]:
        missing = [name for name in PALETTE_NAMES if name not in palette]
        if missing:
            raise ValueError(f"{path.name} does not set {', '.join(missing)} as a #rgb or #rrggbb colour")
    return palettes
