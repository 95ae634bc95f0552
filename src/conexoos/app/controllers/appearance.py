"""A creator's page appearance: the choices, their validation, their contrast, and the CSS they become.

Nothing a creator types reaches a stylesheet as it was typed: a colour is parsed as ``#rgb``/``#rrggbb``,
every other value is a key of one of the lists below (or a number in its range), and the CSS custom
properties of the page are written by :func:`override_properties` from those parsed values and this
module's constants only. An override whose text would be hard to read (WCAG AA) is refused with the
ratio measured, e.g. ``Text on background: 2.9:1, needs 4.5:1``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields, replace

from flask import url_for
from markupsafe import Markup

from conexoos.app.models.persistent import PageAppearance, User
from conexoos.app.utils.chosen_image import ChosenImage
from conexoos.app.utils.contrast import AA_TEXT, contrast, long_hex, parse_colour, ratio_text
from conexoos.app.utils.csp import allow_style
from conexoos.framework import db

from .suspension import refuse_if_suspended
from .themes import THEMES, Theme

BACKGROUNDS = {
    "theme": "The theme's",
    "solid": "One colour",
    "gradient": "A gradient of two colours",
    "image": "An image (with a backdrop behind the text)",
}
GRADIENT_DIRECTIONS = {"down": "180deg", "right": "90deg", "down-right": "135deg", "up-right": "45deg"}
"""Direction key → the angle written in the CSS."""
GRADIENT_LABELS = {
    "down": "Top to bottom",
    "right": "Left to right",
    "down-right": "Diagonal, down",
    "up-right": "Diagonal, up",
}
COLOUR_CHOICES = {"theme": "The theme's colours", "custom": "My own colours"}
"""The ``colors`` field: the theme's text and button colours, or the creator's own."""
BUTTON_STYLES = {"fill": "Filled", "outline": "Outline", "shadow": "Filled, with a shadow"}
FONTS = {
    "system": ("The device's own", "system-ui,-apple-system,Segoe UI,Roboto,sans-serif"),
    "humanist": (
        "Humanist sans",
        "Seravek,Gill Sans Nova,Ubuntu,Calibri,DejaVu Sans,source-sans-pro,sans-serif",
    ),
    "serif": ("Book serif", "Charter,Bitstream Charter,Sitka Text,Cambria,Georgia,serif"),
    "rounded": (
        "Rounded",
        "ui-rounded,Hiragino Maru Gothic ProN,Quicksand,Comfortaa,Manjari,Arial Rounded MT,sans-serif",
    ),
    "mono": (
        "Monospace",
        "ui-monospace,Cascadia Code,Source Code Pro,Menlo,Consolas,DejaVu Sans Mono,monospace",
    ),
}
"""Font key → (label, a stack of fonts already on people's devices: nothing is downloaded)."""
AVATAR_SHAPES = {"circle": "50%", "rounded": "22%", "square": "0"}
RADIUS_MIN, RADIUS_MAX = 0, 32
"""The buttons' corner radius, in CSS pixels."""
SHADOW = "0 .25rem .6rem rgba(0,0,0,.35)"
BACKGROUND_FOLDER = "img/backgrounds"
OVERRIDE_NAMES = (
    "--page-bg",
    "--backdrop",
    "--link-bg",
    "--link-hover",
    "--link-text",
    "--link-shadow",
    "--radius",
    "--font",
    "--avatar-radius",
)
"""The custom properties only overrides set (``public.css`` falls back to the theme's when they are unset)."""

FORM_FIELDS = ("theme", "background", "colors", "button_style", "corner_radius", "font", "avatar_shape")
"""The fields the settings form always sends (an empty ``theme`` or ``corner_radius`` is the theme's own);
a post without one is refused, never read as the default."""


@dataclass(frozen=True)
class Appearance:
    """The parsed choices (None: the theme's own)."""

    theme: str | None = None
    background: str = "theme"
    background_color: str | None = None
    gradient_color: str | None = None
    gradient_direction: str | None = None
    background_image: str | None = None
    backdrop_color: str | None = None
    text_color: str | None = None
    button_color: str | None = None
    button_text_color: str | None = None
    button_style: str = "fill"
    corner_radius: int | None = None
    font: str = "system"
    avatar_shape: str = "circle"


@dataclass(frozen=True)
class Look:
    """What a creator's pages wear (their public page, a link's lock page, a sign-up form's answers): the
    theme's key (the body's ``theme-<key>`` class), its stylesheet under ``static/`` and the overrides' CSS
    (``templates/public/_theme.html`` writes all three into the page's head)."""

    theme: str
    stylesheet: str
    style: Markup


class AppearanceRefused(ValueError):
    """Choices that cannot be saved: ``errors`` maps a form field (or ``contrast``) to its message.

    ``readable``: the choices with each refused field at its default, when every colour the choices use
    was read (their contrast can still be measured, so that a form names all its problems at once); None
    when a colour itself was refused or the form lacked fields."""

    def __init__(self, errors: dict[str, str], readable: Appearance | None = None) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.readable = readable


def stored(user: User) -> Appearance:
    """The user's saved appearance (the defaults when none was saved)."""
    row = db.session.get(PageAppearance, user.id)
    return from_row(row)


def from_row(row: PageAppearance | None) -> Appearance:
    """An :class:`Appearance` of a row (the defaults for none)."""
    if row is None:
        return Appearance()
    return Appearance(**{field.name: getattr(row, field.name) for field in fields(Appearance)})


def parse_form(form: Mapping[str, str], before: Appearance) -> Appearance:
    """Validate the settings form; :class:`AppearanceRefused` names every bad field.

    Colours of a part that is not used (a gradient's second colour on a solid background) are dropped, so
    a row never holds a value the page does not show.
    """
    errors: dict[str, str] = {
        name: f"The form sent no “{name}”: reload the page and save again (nothing was changed)."
        for name in FORM_FIELDS
        if name not in form
    }
    if errors:
        raise AppearanceRefused(errors)  # a save names every field: none is reset by leaving it out
    background = _choice(form, "background", BACKGROUNDS, errors, "theme")
    custom_colours = _choice(form, "colors", COLOUR_CHOICES, errors, "theme") == "custom"
    values = {
        "theme": _choice(form, "theme", THEMES, errors, "") or None,
        "background": background,
        "button_style": _choice(form, "button_style", BUTTON_STYLES, errors, "fill"),
        "font": _choice(form, "font", FONTS, errors, "system"),
        "avatar_shape": _choice(form, "avatar_shape", AVATAR_SHAPES, errors, "circle"),
        "corner_radius": _radius(form, errors),
        "background_color": _colour(form, "background_color", errors, background in ("solid", "gradient")),
        "gradient_color": _colour(form, "gradient_color", errors, background == "gradient"),
        "gradient_direction": _choice(form, "gradient_direction", GRADIENT_DIRECTIONS, errors, "down")
        if background == "gradient"
        else None,
        "backdrop_color": _colour(form, "backdrop_color", errors, background == "image"),
        "background_image": before.background_image if background == "image" else None,
    }
    for name in ("text_color", "button_color", "button_text_color"):
        values[name] = _colour(form, name, errors, custom_colours)
    if errors:
        raise AppearanceRefused(errors, _readable(values, errors))
    return Appearance(**values)  # type: ignore[arg-type]


_DEFAULTS = {field.name: field.default for field in fields(Appearance)}


def _readable(values: Mapping[str, object], errors: Mapping[str, str]) -> Appearance | None:
    """The choices ``values`` with each refused field at its default (a refused ``colors`` choice already
    reads as the theme's colours), or None when a colour was refused: its contrast cannot be measured."""
    if any(name in COLOUR_FALLBACKS for name in errors):
        return None
    kept = {name: _DEFAULTS[name] if name in errors else value for name, value in values.items()}
    return Appearance(**kept)  # type: ignore[arg-type]


def _choice(
    form: Mapping[str, str], name: str, allowed: Mapping[str, object], errors: dict[str, str], default: str
) -> str:
    value = form.get(name, "") or default
    if value and value not in allowed:
        errors[name] = f"Choose one of: {', '.join(allowed)}."
    return value


def _radius(form: Mapping[str, str], errors: dict[str, str]) -> int | None:
    text = form.get("corner_radius", "").strip()
    if not text:
        return None
    number = text.isascii() and text.isdigit() and len(text) <= len(str(RADIUS_MAX))
    if not number or not RADIUS_MIN <= int(text) <= RADIUS_MAX:
        errors["corner_radius"] = (
            f"The corner radius is a whole number of pixels from {RADIUS_MIN} to {RADIUS_MAX}."
        )
        return None
    return int(text)


def _colour(form: Mapping[str, str], name: str, errors: dict[str, str], used: bool) -> str | None:
    if not used:
        return None
    try:
        return parse_colour(form.get(name, ""))
    except ValueError as error:
        errors[name] = str(error)
        return None


def backgrounds(appearance: Appearance, palette: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, colour) of every colour the page's text may sit on."""
    if appearance.background == "solid" and appearance.background_color:
        return [("background", appearance.background_color)]
    if appearance.background == "gradient" and appearance.background_color and appearance.gradient_color:
        return [
            ("the gradient's first colour", appearance.background_color),
            ("the gradient's second colour", appearance.gradient_color),
        ]
    if appearance.background == "image" and appearance.backdrop_color:
        return [("the text backdrop", appearance.backdrop_color)]
    return [("background", palette["--page"])]


def contrast_problems(appearance: Appearance, theme: Theme) -> list[str]:
    """What fails WCAG AA, e.g. ``Text on background: 2.9:1, needs 4.5:1`` (empty: it may be saved).

    Checked for each scheme of the theme (light and dark for ``auto``): the text on each colour behind it,
    the button text on the button, and an outline button's text (the button colour) on the page.
    """
    problems: list[str] = []
    for index, palette in enumerate(theme.palettes):
        scheme = ("", " (dark scheme)")[index] if len(theme.palettes) > 1 else ""
        text = appearance.text_color or palette["--text"]
        button = appearance.button_color or palette["--button"]
        button_text = appearance.button_text_color or palette["--button-text"]
        pairs = [(f"Text on {name}", text, colour) for name, colour in backgrounds(appearance, palette)]
        if appearance.button_style == "outline":
            pairs += [
                (f"Button text on {name}", button, colour)
                for name, colour in backgrounds(appearance, palette)
            ]
        else:
            pairs.append(("Button text on the button", button_text, button))
        for label, foreground, behind in pairs:
            ratio = contrast(foreground, behind)
            message = f"{label}{scheme}: {ratio_text(ratio)}, needs {AA_TEXT:g}:1"
            if ratio < AA_TEXT and message not in problems:
                problems.append(message)
    return problems


def contrast_errors(appearance: Appearance, theme: Theme) -> dict[str, str]:
    """``{"contrast": message}`` naming every pair that fails AA (empty when all pass)."""
    problems = contrast_problems(appearance, theme)
    return {"contrast": " ".join(f"{problem}." for problem in problems)} if problems else {}


def override_properties(appearance: Appearance) -> dict[str, str]:
    """The CSS custom properties the choices set over the theme's (empty for the defaults)."""
    properties: dict[str, str] = {}
    properties.update(_background_properties(appearance))
    if appearance.text_color:
        properties["--text"] = appearance.text_color
    if appearance.text_color or appearance.background != "theme":
        # The theme's muted grey, card and focus ring were chosen for its own page colour, not this one.
        properties.update({"--muted": "var(--text)", "--focus": "var(--text)", "--card": "transparent"})
    if appearance.button_color and appearance.button_text_color:
        properties.update(
            {
                "--button": appearance.button_color,
                "--button-hover": appearance.button_color,
                "--button-text": appearance.button_text_color,
            }
        )
    if appearance.button_style == "outline":
        properties.update(
            {"--link-bg": "transparent", "--link-hover": "transparent", "--link-text": "var(--button)"}
        )
    elif appearance.button_style == "shadow":
        properties["--link-shadow"] = SHADOW
    if appearance.corner_radius is not None:
        properties["--radius"] = f"{appearance.corner_radius}px"
    if appearance.font != "system":
        properties["--font"] = FONTS[appearance.font][1]
    if appearance.avatar_shape != "circle":
        properties["--avatar-radius"] = AVATAR_SHAPES[appearance.avatar_shape]
    return properties


def _background_properties(appearance: Appearance) -> dict[str, str]:
    first = appearance.background_color
    if appearance.background == "solid" and first:
        return {"--page": first, "--page-bg": first}
    if appearance.background == "gradient" and first and appearance.gradient_color:
        angle = GRADIENT_DIRECTIONS[appearance.gradient_direction or "down"]
        return {"--page": first, "--page-bg": f"linear-gradient({angle},{first},{appearance.gradient_color})"}
    backdrop = appearance.backdrop_color
    if appearance.background == "image" and backdrop and appearance.background_image:
        image = url_for("media.serve", filename=appearance.background_image)
        return {
            "--page": backdrop,
            "--backdrop": backdrop,
            "--page-bg": f"{backdrop} url({image}) center/cover no-repeat",
        }
    return {}


def page_style(appearance: Appearance, selector: str = ":root") -> Markup:
    """The ``<style>`` text of the page's overrides (empty for none); safe in HTML: every value is ours."""
    properties = override_properties(appearance)
    return declarations(selector, properties)


def look(theme: str, appearance: Appearance | None) -> Look:
    """The :class:`Look` of a page wearing ``theme`` (a key of :data:`THEMES`) and ``appearance`` (None:
    no overrides), its ``<style>`` allowed in the current answer's Content-Security-Policy."""
    style = page_style(appearance or Appearance())
    allow_style(style)
    return Look(theme, THEMES[theme].stylesheet, style)


def declarations(selector: str, properties: Mapping[str, str]) -> Markup:
    """``selector{--a:b;...}``; ValueError if a value could end the rule or the element (never expected)."""
    if not properties:
        return Markup("")
    body = ";".join(f"{name}:{value}" for name, value in properties.items())
    if any(char in body for char in "<>{}\\\"'@"):
        raise ValueError(f"refusing to write CSS holding a markup or escape character: {body[:80]}")
    return Markup(f"{selector}{{{body}}}")


def preview_properties(appearance: Appearance, theme: Theme) -> dict[str, str]:
    """Every custom property a preview of the page needs: the theme's (first scheme) and the overrides."""
    return {**theme.palettes[0], **override_properties(appearance)}


def choices(appearance: Appearance) -> dict[str, object]:
    """The appearance as form values (``colors``: ``custom`` when the creator chose their own colours)."""
    values: dict[str, object] = {key: value for key, value in asdict(appearance).items() if value is not None}
    values["colors"] = "custom" if appearance.button_color else "theme"
    return values


COLOUR_FALLBACKS = {
    "background_color": "--page",
    "gradient_color": "--card",
    "backdrop_color": "--page",
    "text_color": "--text",
    "button_color": "--button",
    "button_text_color": "--button-text",
}
"""Colour field → the theme's custom property its ``<input type="color">`` shows when nothing is stored."""
FIELD_LABELS = {
    "theme": "theme",
    "background": "background",
    "background_color": "background colour",
    "gradient_color": "the gradient's second colour",
    "gradient_direction": "gradient direction",
    "background_image": "background image",
    "backdrop_color": "backdrop colour",
    "colors": "text and button colours",
    "text_color": "text colour",
    "button_color": "button colour",
    "button_text_color": "button text colour",
    "button_style": "button style",
    "corner_radius": "button corners",
    "font": "font",
    "avatar_shape": "avatar shape",
}
"""Every field of the settings form, in its order, as a save names the ones it changed."""
FORM_VALUES = tuple(name for name in FIELD_LABELS if name != "background_image")
"""The fields whose value the page shows (:func:`form_values`); the file input is not one."""
OWN_COLOURS = ("text_color", "button_color", "button_text_color")
"""The colours the ``colors`` choice brings: a save that changes the choice names them with it."""


def changed_labels(changed: Collection[str], chosen: Appearance) -> list[str]:
    """How a save names the fields it changed, each once and in the form's order: the choice of the theme's
    colours or one's own says which (the colours it brings are part of it), and a colour the choices do not
    use (a hidden field's: the gradient's on a solid background) is not named."""
    labels: list[str] = []
    for name, label in FIELD_LABELS.items():
        if name not in changed:
            continue
        if name == "colors":
            labels.append("colours (now your own)" if chosen.button_color else "colours (now the theme's)")
        elif name in COLOUR_FALLBACKS and (
            getattr(chosen, name) is None or (name in OWN_COLOURS and "colors" in changed)
        ):
            continue
        else:
            labels.append(label)
    return labels


_SELECTS: dict[str, Mapping[str, object]] = {
    "theme": {"": None, **THEMES},
    "background": BACKGROUNDS,
    "gradient_direction": GRADIENT_LABELS,
    "colors": COLOUR_CHOICES,
    "button_style": BUTTON_STYLES,
    "font": FONTS,
    "avatar_shape": AVATAR_SHAPES,
}


def form_values(appearance: Appearance, palette: Mapping[str, str]) -> dict[str, str]:
    """What each input of the settings form (``settings/appearance.html``) holds, and so posts, when it
    shows ``appearance`` with the theme's ``palette``: a select or radio group its choice (its first when
    none is stored), a colour input its colour or the palette's. The page's shown values
    (``utils/shown_values.py``)."""
    values = choices(appearance)
    shown: dict[str, str] = {}
    for name, allowed in _SELECTS.items():
        value = str(values.get(name) or "")
        shown[name] = value if value in allowed else next(iter(allowed))
    for name, fallback in COLOUR_FALLBACKS.items():
        shown[name] = input_colour(values.get(name), palette[fallback])
    shown["corner_radius"] = str(values.get("corner_radius", ""))
    return shown


def input_colour(value: object, fallback: str) -> str:
    """The ``#rrggbb`` value of a colour input showing ``value`` (``fallback`` when it is no colour, e.g.
    a refused answer shown again: ``<input type="color">`` holds nothing else)."""
    for candidate in (value, fallback):
        try:
            return long_hex(parse_colour(str(candidate or "")))
        except ValueError:
            continue
    return "#000000"


def mixes_colours(appearance: Appearance) -> bool:
    """Whether the choices put colours of their own beside the theme's (their contrast depends on it)."""
    return bool(
        appearance.text_color
        or appearance.button_color
        or appearance.button_text_color
        or appearance.background != "theme"
    )


def save(user: User, appearance: Appearance, image: ChosenImage, theme: Theme) -> Appearance:
    """Store the choices, with the background image chosen (read by
    :func:`~conexoos.app.utils.chosen_image.read_chosen_image` before the form was decided).

    :class:`AppearanceRefused` names every problem at once: the contrast failing AA, an image background
    without an image, a chosen image refused; 403 while the account is suspended. Nothing is saved then,
    no file either. With the site's default theme chosen and colours of their own (:func:`mixes_colours`),
    what is stored (and returned) names ``theme`` itself.
    """
    from .profiles import io_utils  # profiles reads this module's row in the page's first query

    refuse_if_suspended(user)
    errors = save_problems(appearance, image, theme)
    if errors:
        raise AppearanceRefused(errors)
    if appearance.theme is None and mixes_colours(appearance):
        # Checked against today's site default: the page keeps that theme, so that the admin changing the
        # default later cannot put these colours on a background they were never checked against.
        appearance = replace(appearance, theme=theme.key)
    files = io_utils()
    chosen = image.image if appearance.background == "image" else None
    new_image = files.store(chosen, BACKGROUND_FOLDER) if chosen is not None else ""
    saved = replace(appearance, background_image=new_image or appearance.background_image)
    row = db.session.get(PageAppearance, user.id)
    old_image = row.background_image if row else None
    try:
        _store(user, row, saved)
    except BaseException:
        db.session.rollback()
        files.delete(new_image)
        raise
    if old_image and old_image != saved.background_image:
        files.delete(old_image)
    return saved


def save_problems(appearance: Appearance, image: ChosenImage, theme: Theme) -> dict[str, str]:
    """Every reason the parsed choices cannot be saved (empty: they can): their contrast, and on an image
    background a chosen image refused, or no image at all."""
    errors = contrast_errors(appearance, theme)
    if appearance.background != "image":
        return errors  # a file chosen for another background is not used
    if image.problem:
        errors["background_image"] = image.problem
    elif not appearance.background_image and image.image is None:
        errors["background_image"] = "Choose an image for the background."
    return errors


def _store(user: User, row: PageAppearance | None, appearance: Appearance) -> None:
    if row is None:
        row = PageAppearance(user_id=user.id)
        db.session.add(row)
    for name, value in asdict(appearance).items():
        setattr(row, name, value)
    db.session.commit()
