"""Site settings an operator changes from the browser, stored in ``site_setting``, typed and validated.

Each setting is declared once in :data:`SETTINGS` (its type, default, allowed values and limits); a key
that is not declared cannot be stored. A stored value overrides the default; the default of ``site_name``
is the configured ``SERVER_ENV.APP_NAME``. To add a setting (the later site-settings work), declare a
:class:`Setting` here; :func:`change` validates, stores and audit-logs it, :func:`value` reads it.

``setup_completed_at`` is the product's own record that ``/setup`` ran (never shown or edited).
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
from conexoos.app.utils.text import has_bidi_controls, has_control_characters
from conexoos.framework import db

from . import audit

OPEN, INVITE, CLOSED = "open", "invite", "closed"
SIGNUP_POLICIES = (OPEN, INVITE, CLOSED)
SETUP_COMPLETED = "setup_completed_at"
CACHE_SECONDS = 30.0
"""How long a process reuses the values :func:`cached` read (a change made here refreshes them at once)."""
_CACHE = "conexoos.site_settings"


class SettingError(ValueError):
    """A value a setting refuses; ``message`` says why in words a person understands."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Setting:
    """A declared setting: ``kind`` is ``str``, ``int`` or ``bool``; ``choices`` limits a ``str``."""

    key: str
    label: str
    kind: type
    default: Any
    choices: tuple[str, ...] = ()
    max_length: int = 200
    editable: bool = True

    def default_value(self) -> Any:
        """The value while nothing is stored (a callable default is asked each time)."""
        return self.default() if callable(self.default) else self.default

    def check(self, raw: Any) -> Any:
        """``raw`` as this setting's type; :class:`SettingError` when it does not fit."""
        if self.kind is bool:
            return _boolean(self.key, raw)
        if self.kind is int:
            return _integer(self.key, raw)
        text = str(raw).strip()
        if not text and self.key == "site_name":
            raise SettingError(self.key, "The site needs a name.")
        if len(text) > self.max_length or has_control_characters(text) or has_bidi_controls(text):
            raise SettingError(
                self.key,
                f"At most {self.max_length} characters, "
                "without control characters or right-to-left overrides.",
            )
        if self.choices and text not in self.choices:
            raise SettingError(self.key, f"Choose one of: {', '.join(self.choices)}.")
        return text


def _configured_name() -> str:
    return str(current_app.config["APP_NAME"])


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
        Setting("site_name", "Site name", str, _configured_name, max_length=60),
        Setting("signup_policy", "Who may sign up", str, OPEN, choices=SIGNUP_POLICIES),
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
    return {key: stored.get(key, setting.default_value()) for key, setting in SETTINGS.items()}


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
    setting = _declared(key)
    if not setting.editable:
        raise SettingError(key, f"{setting.label} cannot be changed here.")
    before = value(key)
    if setting.check(raw) == before:
        return before  # nothing changes, nothing is logged
    try:
        after = store(key, raw)
        text = summary(before, after) if summary else f"{setting.label}: {before!r} → {after!r}"
        audit.record("setting.change", ("setting", key), {key: before}, {key: after}, text)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        forget_cached()
    return after


def cached() -> dict[str, Any]:
    """Every setting's value, read from the database at most once per :data:`CACHE_SECONDS` by this
    process (per app): for pages and mails that show the site's name or sign-up policy."""
    cache = current_app.extensions.setdefault(_CACHE, {})
    now = time.monotonic()
    if cache.get("until", 0.0) <= now:
        cache["values"] = values()
        cache["until"] = now + CACHE_SECONDS
    return dict(cache["values"])


def forget_cached() -> None:
    """Make the next :func:`cached` read the database again (after a change)."""
    current_app.extensions.pop(_CACHE, None)


def signup_policy() -> str:
    """``open``, ``invite`` or ``closed``."""
    return str(value("signup_policy"))
