"""Declarative DTO fields: one definition parses input and describes it in OpenAPI (JSON Schema)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conexoos.app.utils.text import (
    STACKED_MARKS_MAX,
    has_bidi_controls,
    has_control_characters,
    has_stacked_marks,
    is_valid_unicode,
    is_visible,
    shown,
    unix_line_breaks,
)
from conexoos.framework.converters import LARGEST_ID

from .errors import InputError, malformed

Parser = Callable[[Any, "Field"], Any]
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 31, tzinfo=UTC)
"""Date-times outside these bounds are refused: MariaDB's DATETIME, PostgreSQL and Python all hold them."""


@dataclass(frozen=True)
class Field:
    """One property of a request or response body."""

    name: str
    schema: dict[str, Any]
    parse: Parser
    required: bool = False
    description: str = ""

    def json_schema(self) -> dict[str, Any]:
        """This field as a JSON Schema property."""
        return {**self.schema, "description": self.description} if self.description else dict(self.schema)


@dataclass(frozen=True)
class Schema:
    """A JSON object made of fields; ``parse`` validates a request body against it.

    A ``partial`` schema (an update) accepts any subset of its fields: none is required.
    """

    name: str
    fields: tuple[Field, ...]
    description: str = ""
    partial: bool = False
    open: bool = False
    """Other properties may appear (a response whose further fields depend on a kind)."""

    def parse(self, payload: Any) -> dict[str, Any]:
        """Validate ``payload``; return the parsed fields that were given."""
        if not isinstance(payload, Mapping):
            raise malformed("the request body must be a JSON object")
        _refuse_invalid_unicode(payload)
        known = {field.name for field in self.fields}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise InputError(
                f"unknown field {unknown[0]!r}; expected: {', '.join(sorted(known))}", field=unknown[0]
            )
        result: dict[str, Any] = {}
        for field in self.fields:
            if field.name in payload:
                result[field.name] = field.parse(payload[field.name], field)
            elif field.required and not self.partial:
                raise InputError(f"{field.name} is required", field=field.name, code="required")
        return result

    def json_schema(self) -> dict[str, Any]:
        """This object as a JSON Schema for OpenAPI's components."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {field.name: field.json_schema() for field in self.fields},
            "additionalProperties": self.open,
        }
        required = [field.name for field in self.fields if field.required and not self.partial]
        if required:
            schema["required"] = required
        if self.description:
            schema["description"] = self.description
        return schema


def _refuse_invalid_unicode(payload: Mapping[Any, Any]) -> None:
    """A 422 naming the top-level field whose text (at any depth, keys included) holds a lone surrogate."""
    for key, value in payload.items():
        if not _is_valid_json_text(key) or not _is_valid_json_text(value):
            name = shown(str(key))
            raise InputError(
                f"{name} holds text that is not valid Unicode (a lone surrogate such as \\ud800)",
                field=name,
                code="encoding",
            )


def _is_valid_json_text(value: Any) -> bool:
    if isinstance(value, str):
        return is_valid_unicode(value)
    if isinstance(value, Mapping):
        return all(_is_valid_json_text(k) and _is_valid_json_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_valid_json_text(item) for item in value)
    return True


def text(
    name: str,
    max_length: int,
    required: bool = False,
    description: str = "",
    allow_empty: bool = False,
    multiline: bool = False,
) -> Field:
    """A string, trimmed, at most ``max_length`` characters, with no control characters (line breaks and
    tabs only when ``multiline``, each line break stored as ``\n``: a lone ``\r`` would show as none); a
    string of only invisible characters counts as empty."""

    def parse(value: Any, field: Field) -> str:
        if not isinstance(value, str):
            raise InputError(f"{name} must be a string", field=name, code="type")
        value = value.strip()
        if multiline:
            value = unix_line_breaks(value)
        if has_control_characters(value, multiline):
            raise InputError(f"{name} may not hold control characters", field=name, code="control_character")
        if has_bidi_controls(value):
            message = f"{name} may not hold bidirectional controls (U+202A-E, U+2066-9)"
            raise InputError(message, field=name, code="bidi_control")
        if has_stacked_marks(value):
            message = f"{name} may not stack more than {STACKED_MARKS_MAX} marks on one letter"
            raise InputError(message, field=name, code="stacked_marks")
        if not is_visible(value) and not allow_empty:
            raise InputError(f"{name} may not be empty", field=name, code="required")
        if len(value) > max_length:
            raise InputError(f"{name} must be at most {max_length} characters", field=name, code="too_long")
        return value

    return Field(
        name,
        {"type": "string", "maxLength": max_length, **({} if allow_empty else {"minLength": 1})},
        parse,
        required,
        description,
    )


def boolean(name: str, required: bool = False, description: str = "") -> Field:
    """A JSON true or false."""

    def parse(value: Any, field: Field) -> bool:
        if not isinstance(value, bool):
            raise InputError(f"{name} must be true or false", field=name, code="type")
        return value

    return Field(name, {"type": "boolean"}, parse, required, description)


def integer(
    name: str,
    required: bool = False,
    description: str = "",
    minimum: int | None = None,
    maximum: int | None = None,
) -> Field:
    """A JSON integer, optionally bounded (inclusive) on either side."""

    def parse(value: Any, field: Field) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{name} must be an integer", field=name, code="type")
        if minimum is not None and value < minimum:
            raise InputError(f"{name} must be at least {minimum}", field=name, code="too_small")
        if maximum is not None and value > maximum:
            raise InputError(f"{name} must be at most {maximum}", field=name, code="too_large")
        return value

    schema: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return Field(name, schema, parse, required, description)


def timestamp(name: str, description: str = "") -> Field:
    """An ISO 8601 date-time with a time zone (stored in UTC), or null."""

    def parse(value: Any, field: Field) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputError(f"{name} must be an ISO 8601 date-time string or null", field=name, code="type")
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"{name} must be an ISO 8601 date-time such as 2026-01-31T18:00:00Z",
                field=name,
                code="format",
            ) from None
        if moment.tzinfo is None:
            raise InputError(f"{name} needs a time zone (e.g. Z or +02:00)", field=name, code="format")
        return _in_range(name, moment)

    return Field(name, {"type": ["string", "null"], "format": "date-time"}, parse, False, description)


def _in_range(name: str, moment: datetime) -> datetime:
    """``moment`` in UTC; a 422 when it falls before 1970 or after 9999 (where UTC itself overflows)."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_TIME <= utc <= LATEST_TIME:
        raise InputError(
            f"{name} must fall between {EARLIEST_TIME:%Y-%m-%d %H:%M} and {LATEST_TIME:%Y-%m-%d %H:%M} (UTC)",
            field=name,
            code="out_of_range",
        )
    return utc


ID_LIST_MAX = 10_000
"""The most ids a list may hold: far more than a page or a menu holds (its 30 KB budget). An outside
tester's list of a million ids took about a second to be looked up and refused."""


def id_list(name: str, required: bool = True, description: str = "") -> Field:
    """A list of at most :data:`ID_LIST_MAX` distinct positive integers."""

    def parse(value: Any, field: Field) -> list[int]:
        if isinstance(value, list) and len(value) > ID_LIST_MAX:
            raise InputError(f"{name} holds at most {ID_LIST_MAX} ids", field=name, code="too_long")
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            raise InputError(f"{name} must be a list of integer ids", field=name, code="type")
        if len(set(value)) != len(value):
            raise InputError(f"{name} may not repeat an id", field=name, code="duplicate")
        if any(not 1 <= i <= LARGEST_ID for i in value):
            raise InputError(f"{name} holds ids from 1 to {LARGEST_ID}", field=name, code="out_of_range")
        return list(value)

    return Field(
        name,
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": LARGEST_ID},
            "maxItems": ID_LIST_MAX,
            "uniqueItems": True,
        },
        parse,
        required,
        description,
    )


def output(name: str, schema: dict[str, Any], description: str = "") -> Field:
    """A response-only field (never parsed from input)."""

    def parse(value: Any, field: Field) -> Any:
        raise InputError(f"{name} is read-only", field=name, code="read_only")

    return Field(name, schema, parse, True, description)
