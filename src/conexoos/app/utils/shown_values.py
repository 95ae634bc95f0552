"""What a settings form showed, so that saving it changes only the fields the person changed on it.

A plain form posts every field. A page left open in a second tab would post the values it showed then and
put back what the first tab saved since. So the page carries, in one hidden field (:data:`FIELD`), the
value each input showed, as JSON; on save a field posted as it was shown is left as stored now
(:meth:`ShownValues.merged`), and only the others are written. Two tabs changing the same field: the
last save wins, as the person did last.

Values are compared as the forms read them: surrounding whitespace stripped and line breaks as ``\\n`` (a
browser sends a textarea's as ``\\r\\n``). A file input is never listed: an upload is always a change. A
post without the field, or with one that is no JSON object of strings (an old page, a hand-made post),
saves every field, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from conexoos.app.utils.text import unix_line_breaks

FIELD = "shown_values"
"""The hidden field holding the shown values."""


def as_json(values: Mapping[str, str]) -> str:
    """The hidden field's value for a form whose inputs show ``values`` (name → the input's value)."""
    return json.dumps(dict(values), separators=(",", ":"), sort_keys=True)


class ShownValues:
    """The values a posted form showed (``None``: it did not say, and every field counts as changed)."""

    def __init__(self, shown: Mapping[str, str] | None) -> None:
        self.shown = shown

    @classmethod
    def posted(cls, form: Mapping[str, str]) -> ShownValues:
        """The shown values the form sent in :data:`FIELD`; none when missing or garbled."""
        return cls(_parsed(form.get(FIELD)))

    @property
    def known(self) -> bool:
        """Whether the form said what it showed (else every field counts as changed)."""
        return self.shown is not None

    def changed(self, name: str, posted: str | None) -> bool:
        """Whether the field ``name`` was posted with another value than it showed (an unchecked checkbox
        posts nothing: ``None`` reads as "")."""
        if self.shown is None or name not in self.shown:
            return True
        return _compared(posted or "") != _compared(self.shown[name])

    def changed_names(self, names: Iterable[str], form: Mapping[str, str]) -> list[str]:
        """The names among ``names`` that ``form`` posted changed, in the order given."""
        return [name for name in names if self.changed(name, form.get(name))]

    def merged(self, form: Mapping[str, str], stored: Mapping[str, str]) -> dict[str, str]:
        """``form``'s values, each posted as it was shown replaced by its value in ``stored`` (what the
        form would show now; a name ``stored`` lacks keeps what was posted)."""
        values = {name: form[name] for name in form}
        for name, now in stored.items():
            if name in values and not self.changed(name, values[name]):
                values[name] = now
        return values


def _parsed(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # garbled by hand or by a proxy: the form still saves, as before
        return None
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        return None
    return value


def _compared(value: str) -> str:
    return unix_line_breaks(value).strip()


def saved_message(subject: str, labels: list[str], known: bool) -> str:
    """What a save says: ``Profile saved. Changed: display name and bio.``, ``Nothing changed.`` when no
    field was changed, and the bare ``Profile saved.`` for a form that did not say what it showed."""
    if not known:
        return f"{subject} saved."
    if not labels:
        return "Nothing changed."
    listed = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    return f"{subject} saved. Changed: {listed}."
