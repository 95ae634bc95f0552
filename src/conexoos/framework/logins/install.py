"""From ``LOGINS`` to a running app: the :class:`Logins` registry, each backend's ``install`` in order, and
the directory check of ``config check --connect``."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask

from ..config import Settings
from ..connect_checks import register_connect_check
from .config import LOCAL_ONLY, enabled_backends
from .registry import Logins


def logins_settings(settings: Settings) -> dict[str, Any]:
    """The validated ``LOGINS`` section (local only when the configuration has none)."""
    section: dict[str, Any] = settings.tree.get("LOGINS") or dict(LOCAL_ONLY)
    return section


def new_logins(settings: Settings) -> Logins:
    """An empty registry knowing what ``LOGINS`` enabled, in its order."""
    order = enabled_backends(logins_settings(settings))
    return Logins(local_enabled="local" in order, order=order)


def install_logins(app: Flask, logins: Logins, settings: Settings) -> None:
    """Call ``install(app, logins, section)`` of each enabled backend module, in ``LOGINS`` order."""
    section = logins_settings(settings)
    for name in logins.order:
        if name == "local":
            continue  # the project's own login: nothing to install
        module = importlib.import_module(f"{__package__}.{name}")
        module.install(app, logins, section[name])


def check_ldap_connection(settings: Settings) -> str | None:
    """Connect to ``LOGINS.ldap``, bind as BIND_DN, read USER_BASE and find the ADMIN_GROUPS."""
    from .ldap import LdapBackend, LdapSettings  # ldap3 loads only when a directory is configured

    return LdapBackend(LdapSettings.from_section(logins_settings(settings)["ldap"])).problem()


register_connect_check(
    "LOGINS.ldap", check_ldap_connection, applies=lambda settings: "ldap" in logins_settings(settings)
)


def check_saml_metadata(settings: Settings) -> str | None:
    """Read ``LOGINS.saml.IDP_METADATA`` (fetching a URL) and find the identity provider in it."""
    from .saml import metadata_problem  # pysaml2 loads only when SAML is configured

    return metadata_problem(settings)


register_connect_check(
    "LOGINS.saml", check_saml_metadata, applies=lambda settings: "saml" in logins_settings(settings)
)


def check_oidc_providers(settings: Settings) -> str | None:
    """Fetch each ``LOGINS.oidc`` provider's discovery document (its issuer must be ISSUER exactly) and
    JWKS within its TIMEOUT; None when all answer, else each failing provider and why."""
    from .oidc import provider_settings
    from .oidc_client import OidcClient

    problems = []
    for name, entry in logins_settings(settings)["oidc"].items():
        problem = OidcClient(provider_settings(name, entry, settings.base_dir)).problem()
        if problem:
            problems.append(f"LOGINS.oidc.{name}: {problem}")
    return "; ".join(problems) or None


register_connect_check(
    "LOGINS.oidc", check_oidc_providers, applies=lambda settings: "oidc" in logins_settings(settings)
)
