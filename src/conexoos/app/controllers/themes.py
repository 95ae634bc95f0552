"""The looks a public page can have, each a set of colours in ``static/css/public.css``.

A theme is named here once (its key is the CSS class ``theme-<key>``, its label what the admin reads); the
site's ``default_theme`` setting picks the one every public page wears. The colours live in the
stylesheet, where ``tests/app/test_contrast.py`` checks each theme against WCAG AA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Theme:
    """A theme: ``key`` names its CSS class, ``label`` is shown to the operator."""

    key: str
    label: str


THEMES: dict[str, Theme] = {
    theme.key: theme
    for theme in (
        Theme("classic", "Classic (dark buttons on warm paper)"),
        Theme("midnight", "Midnight (dark page, golden buttons)"),
        Theme("ocean", "Ocean (blue buttons on a pale blue page)"),
    )
}
DEFAULT_THEME = "classic"


def theme_key(stored: Any) -> str:
    """The theme a stored value names; the default for anything else (a theme removed since, say)."""
    return stored if isinstance(stored, str) and stored in THEMES else DEFAULT_THEME
