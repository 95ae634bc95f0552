"""A checked SAML assertion → the :class:`ExternalIdentity` the project receives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .base import ExternalIdentity, LoginFailed

BACKEND = "saml"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
NO_SUBJECT = (
    "The identity provider did not say who you are, so you cannot be logged in. Ask its administrator to "
    "send a persistent NameID to this site."
)


@dataclass(frozen=True)
class AttributeNames:
    """Which assertion attributes hold what (``LOGINS.saml.*_ATTRIBUTE``)."""

    username: str
    email: str
    name: str
    admin: str
    admin_values: tuple[str, ...]
    email_verified: bool


def split_values(raw: str | Sequence[str]) -> tuple[str, ...]:
    """``ADMIN_VALUES`` as a tuple: a comma-separated string or a list."""
    items = raw.split(",") if isinstance(raw, str) else [str(item) for item in raw]
    return tuple(item.strip() for item in items if item.strip())


def assertion_attributes(assertion: Any, converted: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Every attribute value of the assertion, by its Name, its FriendlyName and pysaml2's local name."""
    values: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            texts = [value.text.strip() for value in attribute.attribute_value or [] if value.text]
            for name in (attribute.name, attribute.friendly_name):
                if name and name not in values:
                    values[name] = texts
    for local_name, local_texts in converted.items():
        values.setdefault(local_name, [str(text) for text in local_texts])
    return values


def first_value(attributes: Mapping[str, list[str]], name: str) -> str | None:
    """The first non-empty value of attribute ``name`` (exact name first, then in any case)."""
    for value in _values(attributes, name):
        if value:
            return value
    return None


def _values(attributes: Mapping[str, list[str]], name: str) -> list[str]:
    if not name:
        return []
    if name in attributes:
        return attributes[name]
    lowered = name.lower()
    return next((texts for key, texts in attributes.items() if key.lower() == lowered), [])


def is_admin(attributes: Mapping[str, list[str]], names: AttributeNames) -> bool | None:
    """What ``ADMIN_ATTRIBUTE`` says: True when one of its values is in ``ADMIN_VALUES`` (in any case);
    None when no admin mapping is configured."""
    if not names.admin:
        return None
    granted = {value.lower() for value in names.admin_values}
    return any(value.lower() in granted for value in _values(attributes, names.admin))


def subject_of(name_id: Any) -> str:
    """The person's stable id: the NameID's value. A transient NameID changes at every login, so it is
    refused (each login would be a new person)."""
    text = (getattr(name_id, "text", None) or "").strip()
    if not text:
        raise LoginFailed(NO_SUBJECT)
    if getattr(name_id, "format", None) == TRANSIENT:
        raise LoginFailed(NO_SUBJECT)
    return text


def logout_state(name_id: Any, session_index: str | None) -> dict[str, str]:
    """What single logout needs later: the NameID as sent, and the IdP's session index."""
    state = {"name_id": (name_id.text or "").strip()}
    for field in ("format", "name_qualifier", "sp_name_qualifier"):
        value = getattr(name_id, field, None)
        if value:
            state[f"name_id_{field}"] = str(value)
    if session_index:
        state["session_index"] = session_index
    return state


def build_identity(
    name_id: Any, attributes: Mapping[str, list[str]], names: AttributeNames, session_index: str | None
) -> ExternalIdentity:
    """The identity the project receives for a checked assertion."""
    email = first_value(attributes, names.email)
    return ExternalIdentity(
        backend=BACKEND,
        provider=BACKEND,
        subject=subject_of(name_id),
        username=first_value(attributes, names.username),
        email=email,
        email_verified=bool(email) and names.email_verified,
        name=first_value(attributes, names.name),
        admin=is_admin(attributes, names),
        logout_state=logout_state(name_id, session_index),
    )
