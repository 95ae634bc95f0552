"""Site settings an operator changes from the browser, stored in ``site_setting``, typed and validated.

Each setting is declared once in :data:`SETTINGS` (its type, default, allowed values and limits); a key
that is not declared cannot be stored. A stored value overrides the default; the default of ``site_name``
is the configured ``SERVER_ENV.APP_NAME``. To add a setting (the later site-settings work), declare a
:class:`Setting` here; :func:`change` validates, stores and audit-logs it, :func:`value` reads it.

``setup_completed_at`` is the product's own record that ``/setup`` ran (never shown or edited). The
footer links of the issue are the footer menu (controllers/menus.py), not a setting; the default theme
comes with themes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from conexoos.app.models.persistent import SiteSetting
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.plans_config import FREE_PLAN
from conexoos.app.utils.text import has_bidi_controls, has_control_characters, is_visible, unix_line_breaks
from conexoos.framework import db
from conexoos.framework.http_errors import DATABASE_UNREACHABLE, database_failed, met_database_outage

from . import audit
from .themes import DEFAULT_THEME, THEMES

OPEN, INVITE, CLOSED = "open", "invite", "closed"
MAINTENANCE_MESSAGE = "The site is down for maintenance. Please come back in a little while."
HOME_TEXT = "Put your links on one page, order them by dragging, and share it with a single URL or QR code."
SIGNUP_POLICIES = (OPEN, INVITE, CLOSED)
SETUP_COMPLETED = "setup_completed_at"
CACHE_SECONDS = 30.0
"""How long a process reuses the values :func:`cached` read (a change made here refreshes them at once)."""
RETRY_SECONDS = 5.0
"""How long :func:`cached` keeps serving the values it read last after the database did not answer."""
_CACHE = "conexoos.site_settings"


class SettingError(ValueError):
    """A value a setting refuses; ``message`` says why in words a person understands."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Setting:
    """A declared setting: ``kind`` is ``str``, ``int`` or ``bool``; ``choices`` limits a ``str`` (a
    tuple, or a callable asked each time, for choices that come from the configuration); ``multiline``
    text keeps its line breaks (a text area); ``required`` text may not be empty; text ``required_while``
    the ``bool`` setting it names is on may only be empty while that one is off, and is then its default
    again (see :func:`_required_while`)."""

    key: str
    label: str
    kind: type
    default: Any
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    max_length: int = 200
    editable: bool = True
    multiline: bool = False
    required: bool = False
    required_while: str = ""
    help: str = ""

    def default_value(self) -> Any:
        """The value while nothing is stored (a callable default is asked each time)."""
        return self.default() if callable(self.default) else self.default

    @property
    def widget(self) -> str:
        """How a form shows it: ``checkbox``, ``select``, ``textarea`` or ``text``."""
        if self.kind is bool:
            return "checkbox"
        if self.choices:
            return "select"
        return "textarea" if self.multiline else "text"

    def allowed(self) -> tuple[str, ...]:
        """The values a ``str`` setting with choices may take (empty: any text)."""
        return self.choices() if callable(self.choices) else self.choices

    def check(self, raw: Any) -> Any:
        """``raw`` as this setting's type; :class:`SettingError` when it does not fit."""
        if self.kind is bool:
            return _boolean(self.key, raw)
        if self.kind is int:
            return _integer(self.key, raw)
        text = _text(raw, self.multiline)
        if self.required and not is_visible(text):  # a zero-width space alone shows nothing either
            raise SettingError(self.key, f"{self.label} may not be empty (or invisible characters only).")
        if (
            len(text) > self.max_length
            or has_control_characters(text, self.multiline)
            or has_bidi_controls(text)
        ):
            raise SettingError(
                self.key,
                f"At most {self.max_length} characters, "
                "without control characters or right-to-left overrides.",
            )
        if self.allowed() and text not in self.allowed():
            raise SettingError(self.key, f"Choose one of: {', '.join(self.allowed())}.")
        return text


def _text(raw: Any, multiline: bool) -> str:
    """``raw`` as text, trimmed; multiline text has ``\n`` line breaks, no tabs or trailing spaces."""
    text = str(raw).strip()
    if not multiline:
        return text
    lines = unix_line_breaks(text).split("\n")
    return "\n".join(line.rstrip() for line in lines)


def _configured_name() -> str:
    return str(current_app.config["APP_NAME"])


def _plan_keys() -> tuple[str, ...]:
    return tuple(current_app.config["CONEXOOS_PLANS"])


def _boolean(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("1", "true", "on", "yes"):
        return True
    if str(raw).lower() in ("0", "false", "off", "no", ""):
        return False
    raise SettingError(key, "Choose yes or no.")


def _integer(key: str, raw: Any) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise SettingError(key, "Enter a whole number.") from None


SETTINGS: dict[str, Setting] = {
    setting.key: setting
    for setting in (
        Setting("site_name", "Site name", str, _configured_name, max_length=60, required=True),
        Setting("signup_policy", "Who may sign up", str, OPEN, choices=SIGNUP_POLICIES),
        Setting(
            "home_text",
            "Home page text",
            str,
            HOME_TEXT,
            max_length=2000,
            multiline=True,
            help="Plain text: an empty line starts a paragraph, a line break stays a line break.",
        ),
        Setting(
            "default_plan",
            "Plan of new accounts",
            str,
            FREE_PLAN,
            choices=_plan_keys,
            help="Given without a Stripe subscription; billing never takes it away.",
        ),
        Setting(
            "default_theme",
            "Theme of the public pages",
            str,
            DEFAULT_THEME,
            choices=tuple(THEMES),
            help="; ".join(theme.label for theme in THEMES.values())
            + ". Every public page wears it, unless its creator chose another in Settings → Appearance.",
        ),
        Setting(
            "maintenance_mode",
            "Maintenance mode",
            bool,
            False,
            help="Logins and sign-ups pause (administrators may still log in); "
            "public pages stay up; other logged-in people see the message.",
        ),
        Setting(
            "maintenance_message",
            "Maintenance message",
            str,
            MAINTENANCE_MESSAGE,
            max_length=500,
            multiline=True,
            required_while="maintenance_mode",
            help="Required while maintenance mode is on. Left empty while it is off, "
            "it goes back to the built-in message.",
        ),
        Setting(SETUP_COMPLETED, "Setup completed", str, "", editable=False),
    )
}


def _declared(key: str) -> Setting:
    if key not in SETTINGS:
        raise SettingError(key, f"There is no setting {key!r}.")
    return SETTINGS[key]


def value(key: str) -> Any:
    """The setting's stored value, or its default (one query)."""
    setting = _declared(key)
    stored = db.session.get(SiteSetting, key)
    return setting.default_value() if stored is None else json.loads(stored.value)


def values() -> dict[str, Any]:
    """Every declared setting's value (one query)."""
    stored = {row.key: json.loads(row.value) for row in db.session.scalars(select(SiteSetting))}
    return {key: stored.get(key, default) for key, default in defaults().items()}


def store(key: str, raw: Any) -> Any:
    """Validate and stage ``raw`` for ``key`` in the current transaction (no audit, no commit); returns
    the stored value. For the setup page and :func:`change`."""
    checked = _declared(key).check(raw)
    row = db.session.get(SiteSetting, key)
    if row is None:
        row = SiteSetting(key=key, value="")
        db.session.add(row)
    row.value = json.dumps(checked)
    row.updated_at = utcnow()
    forget_cached()
    return checked


def change(key: str, raw: Any, summary: Callable[[Any, Any], str] | None = None) -> Any:
    """Validate, store and audit-log a change of an editable setting, and commit; the new value. Setting
    the current value again stores and logs nothing."""
    setting = _editable(key)
    before = value(key)
    checked, errors = _checked_all({key: raw}, values())
    if errors:
        raise SettingError(key, errors[key])
    if checked[key] == before:
        return before  # nothing changes, nothing is logged
    try:
        after = store(key, checked[key])
        text = summary(before, after) if summary else _summary(setting, before, after)
        audit.record("setting.change", ("setting", key), {key: before}, {key: after}, text)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        forget_cached()
    return after


class SettingsRefused(ValueError):
    """Values :func:`change_many` refused: ``errors`` maps each refused key to why (nothing was stored)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


def change_many(raw: dict[str, Any]) -> list[str]:
    """Validate every value of ``raw`` first, then store the changed ones with an audit entry each, in one
    transaction; the keys that changed. :class:`SettingsRefused` (nothing stored) when any is refused."""
    current = values()
    checked, errors = _checked_all(raw, current)
    if errors:
        raise SettingsRefused(errors)
    changed = [key for key, new in checked.items() if new != current[key]]
    try:
        for key in changed:
            after = store(key, checked[key])
            text = _summary(SETTINGS[key], current[key], after)
            audit.record("setting.change", ("setting", key), {key: current[key]}, {key: after}, text)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        forget_cached()
    return changed


def _checked_all(raw: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each value of ``raw`` checked (``current``: every value stored now), and the refused ones' reasons."""
    checked: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, given in raw.items():
        try:
            checked[key] = _editable(key).check(given)
        except SettingError as error:
            errors[key] = error.message
    _required_while(checked, errors, current)
    return checked, errors


def _required_while(checked: dict[str, Any], errors: dict[str, str], current: dict[str, Any]) -> None:
    """An empty text whose ``required_while`` switch is on (as given, else as stored) is refused; while
    the switch is off it becomes the setting's default (the maintenance message an operator cleared
    while maintenance mode is off: saving the other settings works, and the message is never empty)."""
    for key, text in list(checked.items()):
        setting = SETTINGS[key]
        if not setting.required_while or is_visible(text):
            continue
        switch = setting.required_while
        if checked.get(switch, current[switch]):
            label = SETTINGS[switch].label.lower()
            errors[key] = (
                f"{setting.label} may not be empty while {label} is on (or invisible characters only)."
            )
        else:
            checked[key] = setting.default_value()


def _editable(key: str) -> Setting:
    setting = _declared(key)
    if not setting.editable:
        raise SettingError(key, f"{setting.label} cannot be changed here.")
    return setting


def _summary(setting: Setting, before: Any, after: Any) -> str:
    if setting.multiline:
        return f"{setting.label} changed ({len(str(after))} characters)"
    return f"{setting.label}: {before!r} → {after!r}"


def editable() -> list[Setting]:
    """The settings an administrator edits, in declaration order."""
    return [setting for setting in SETTINGS.values() if setting.editable]


def cached() -> dict[str, Any]:
    """Every setting's value, read from the database at most once per :data:`CACHE_SECONDS` by this
    process (per app): for pages and mails that show the site's name or sign-up policy.

    When the database does not answer, the values read last are kept (asked again after
    :data:`RETRY_SECONDS`) and the request is marked as having met the outage; a process that never read
    them raises the database's error."""
    cache = current_app.extensions.setdefault(_CACHE, {})
    now = time.monotonic()
    if cache.get("until", 0.0) <= now:
        try:
            cache["values"] = values()
        except DATABASE_UNREACHABLE:
            if "values" not in cache:
                raise
            met_database_outage()
            cache["until"] = now + RETRY_SECONDS
            return dict(cache["values"])
        cache["until"] = now + CACHE_SECONDS
    return dict(cache["values"])


def shown() -> dict[str, Any]:
    """What a page shows of the settings (the site's name, the sign-up link, the home text): :func:`cached`;
    when the database does not answer and this process never read them, every setting's default. An
    error page drawn for the outage itself then shows the site without asking the database again."""
    if database_failed():  # asked already in this request: the values read last, not the database again
        kept = current_app.extensions.get(_CACHE, {}).get("values")
        return dict(kept) if kept is not None else defaults()
    try:
        return cached()
    except DATABASE_UNREACHABLE:
        met_database_outage()
        return defaults()


def defaults() -> dict[str, Any]:
    """Every declared setting's default value."""
    return {key: setting.default_value() for key, setting in SETTINGS.items()}


def forget_cached() -> None:
    """Make the next :func:`cached` read the database again (after a change)."""
    current_app.extensions.pop(_CACHE, None)


def signup_policy() -> str:
    """``open``, ``invite`` or ``closed``."""
    return str(value("signup_policy"))


def default_plan() -> str:
    """The plan a new account gets (a configured plan; gratis when the stored one is no longer configured)."""
    chosen = str(value("default_plan"))
    return chosen if chosen in _plan_keys() else FREE_PLAN
