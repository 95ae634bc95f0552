"""The ``LOGINS`` section: which login backends are on, in the login page's order, each with its own keys.

::

    LOGINS:
      local: {ENABLED: true}        # the project's own password login
      ldap: {URL: ldaps://..., ...}  # SCHEMA of logins/ldap.py
      oidc:                          # named providers, each PROVIDER_SCHEMA of logins/oidc.py
        keycloak: {ISSUER: ..., CLIENT_ID: ..., CLIENT_SECRET: ...}
      saml: {IDP_METADATA: ..., ...} # SCHEMA of logins/saml.py

A backend is on when its key is present; without ``LOGINS`` only ``local`` is. flask-framework's form,
``LOGINS: LDAP`` or ``LOGINS: [LDAP, OpenID, SAML2]``, is read from its ``FLASK.CONFIG`` keys
(:mod:`.legacy`), with a warning showing the section to write instead.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from ..schema import Entries, Key, Schema
from .legacy import legacy_logins, name_sources

BACKENDS = ("local", "ldap", "oidc", "saml")
LOCAL_SCHEMA: Schema = {
    "ENABLED": Key(
        "bool",
        True,
        "The project's own accounts log in with their password (false: only the other backends do).",
    ),
}
LOCAL_ONLY: dict[str, Any] = {"local": {"ENABLED": True}}


class SectionValidator(Protocol):
    """What :class:`conexoos.framework.config._Validator` lends this module."""

    problems: list[str]
    warnings: list[str]

    def section(self, node: Any, shape: Schema, path: str, case_tolerant: bool = False) -> dict[str, Any]: ...

    def entries(self, node: Any, spec: Entries, path: str) -> dict[str, Any]: ...


def backend_schema(name: str) -> Key | Entries | Schema:
    """The shape of ``LOGINS.<name>``: a section, or for ``oidc`` a mapping of named providers."""
    if name == "local":
        return LOCAL_SCHEMA
    module = importlib.import_module(f"{__package__}.{name}")
    if name == "oidc":
        return Entries(
            module.PROVIDER_SCHEMA,
            "OpenID Connect providers by name (the name appears in their URLs); each is a button on the "
            "login page.",
            label="name",
        )
    shape: Schema = module.SCHEMA
    return shape


def logins_schema() -> Schema:
    """Every backend's shape, for the configuration reference."""
    return {name: backend_schema(name) for name in BACKENDS}


def logins_section(raw: dict[str, Any], base_dir: Path, validator: SectionValidator) -> dict[str, Any]:
    """The validated ``LOGINS`` of the whole raw configuration ``raw`` (absent or empty: local only)."""
    node = raw.get("LOGINS")
    if node is None or node == {}:
        return dict(LOCAL_ONLY)
    if isinstance(node, (str, list)):
        legacy = legacy_logins(node, raw, base_dir, validator)
        if legacy is None:
            return dict(LOCAL_ONLY)
        before = len(validator.problems)
        section = _backends(legacy, base_dir, validator)
        validator.problems[before:] = [name_sources(problem) for problem in validator.problems[before:]]
        return section
    if not isinstance(node, dict):
        validator.problems.append(
            f"LOGINS: {type(node).__name__} is not valid; expected a mapping of login backends ("
            f"{', '.join(BACKENDS)}) in the order the login page shows them"
        )
        return dict(LOCAL_ONLY)
    return _backends(node, base_dir, validator)


def _backends(node: dict[Any, Any], base_dir: Path, validator: SectionValidator) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for written, value in node.items():
        name = str(written).lower()
        path = f"LOGINS.{written}"
        if name not in BACKENDS:
            validator.problems.append(f"{path}: unknown login backend; expected one of {', '.join(BACKENDS)}")
            continue
        if name in result:
            validator.problems.append(f"{path}: LOGINS.{name} is given twice; keep only one")
            continue
        if name != written:
            validator.warnings.append(f"{path} is read as LOGINS.{name}; write it {name}")
        result[name] = _backend(name, value, base_dir, validator)
    if not any(_enabled(name, section) for name, section in result.items()):
        validator.problems.append(
            "LOGINS: no way to log in is left on; keep local (ENABLED: true) or add ldap, oidc or saml"
        )
    return result


def _backend(name: str, value: Any, base_dir: Path, validator: SectionValidator) -> dict[str, Any]:
    path = f"LOGINS.{name}"
    shape = backend_schema(name)
    if isinstance(shape, Entries):
        if not value:
            validator.problems.append(f"{path}: names no provider; add {path}.<name> with its keys")
        entries: dict[str, Any] = validator.entries(value, shape, path)
        if name == "oidc":
            from .oidc import provider_problems

            for provider, entry in entries.items():
                validator.problems.extend(provider_problems(provider, entry, base_dir))
        return entries
    assert isinstance(shape, dict)
    section = validator.section(value, shape, path)
    if name in ("ldap", "saml"):
        checks = importlib.import_module(f"{__package__}.{name}")
        problems, warnings = checks.section_problems(section, base_dir, path)
        validator.problems.extend(problems)
        validator.warnings.extend(warnings)
    return section


def _enabled(name: str, section: dict[str, Any]) -> bool:
    return bool(section.get("ENABLED")) if name == "local" else True


def enabled_backends(section: dict[str, Any]) -> list[str]:
    """The names of the backends that are on, in ``LOGINS`` order."""
    return [name for name, conf in section.items() if _enabled(name, conf)]
