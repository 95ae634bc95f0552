"""flask-framework's ``LOGINS``: a bare name or a list (``LDAP``, ``OpenID``, ``SAML2``), configured by
``FLASK.CONFIG`` keys, read as today's ``LOGINS`` mapping.

flask-framework 1.1.x bound to the directory as the person, with what they typed (an AD
userPrincipalName, usually their email address), then searched ``(&(objectClass=user)(mail=LOGIN))`` under
``LDAP_SEARCH_BASE``; its OpenID login read a ``client_secrets.json`` (``OIDC_CLIENT_SECRETS``) and its
SAML login the IdP metadata at ``SAML_METADATA_URL``. The project's own login stays on, first, unless the
list names it (``BASE`` or ``LOCAL``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

NAMES = {
    "ldap": "ldap",
    "openid": "oidc",
    "oidc": "oidc",
    "saml": "saml",
    "saml2": "saml",
    "base": "local",
    "local": "local",
}
LEGACY_FILTER = "(&(objectClass=user)(mail={login}))"


class Problems(Protocol):
    """Where mistakes and warnings are collected (the configuration validator)."""

    problems: list[str]
    warnings: list[str]


SOURCES = {
    "LOGINS.ldap.URL": "FLASK.CONFIG.LDAP_HOST (or LDAP_HOSTS, LDAP_DOMAIN, with LDAP_SCHEMA and LDAP_PORT)",
    "LOGINS.ldap.USER_BASE": "FLASK.CONFIG.LDAP_SEARCH_BASE (or LDAP_DOMAIN)",
    "LOGINS.ldap.USERNAME_ATTRIBUTE": "FLASK.CONFIG.LDAP_PROFILE_KEY",
    "LOGINS.ldap.EMAIL_ATTRIBUTE": "FLASK.CONFIG.LDAP_ATTRIBUTE_MAP",
    "LOGINS.oidc.openid.ISSUER": "FLASK.CONFIG.OIDC_CLIENT_SECRETS (its issuer)",
    "LOGINS.oidc.openid.CLIENT_ID": "FLASK.CONFIG.OIDC_CLIENT_SECRETS (its client_id)",
    "LOGINS.oidc.openid.CLIENT_SECRET": "FLASK.CONFIG.OIDC_CLIENT_SECRETS (its client_secret)",
    "LOGINS.oidc.openid.SCOPES": "FLASK.CONFIG.OIDC-SCOPES",
    "LOGINS.saml.IDP_METADATA": "FLASK.CONFIG.SAML_METADATA_URL",
}
"""Where each key of the ``LOGINS`` mapping read from flask-framework's form comes from."""


def name_sources(problem: str) -> str:
    """``problem`` about a key derived from flask-framework's form, naming the ``FLASK.CONFIG`` key the
    operator wrote (``LOGINS.ldap.URL: ...`` becomes ``FLASK.CONFIG.LDAP_HOST (...), read as
    LOGINS.ldap.URL: ...``)."""
    for derived, source in SOURCES.items():
        if problem.startswith(derived + ":"):
            return f"{source}, read as {derived}:{problem[len(derived) + 1 :]}"
    return problem


def legacy_logins(
    node: str | list[Any], raw: dict[str, Any], base_dir: Path, report: Problems
) -> dict[str, Any] | None:
    """The ``LOGINS`` mapping flask-framework's ``node`` means, with one warning naming the keys to write;
    None (after recording the problems) when it cannot be read. Mistakes found later in the mapping name
    their ``FLASK.CONFIG`` keys through :func:`name_sources`."""
    names = [node] if isinstance(node, str) else node
    flask_config = _flask_config(raw)
    result: dict[str, Any] = {}
    readable = True
    for written in names:
        name = NAMES.get(str(written).strip().lower())
        section = None if name is None else _READERS[name](flask_config, base_dir, report.problems)
        if name is None:
            report.problems.append(_unknown(written))
        if name is None or section is None:
            readable = False
            continue
        result[name] = section
    if not readable:
        return None
    if "local" not in result:
        result = {"local": {"ENABLED": True}, **result}
    report.warnings.append(
        f"LOGINS: {node!r} is flask-framework's form, read from FLASK.CONFIG; write instead (secrets in "
        f"variables): LOGINS: {json.dumps(_shown(result))}"
    )
    return result


def _unknown(written: Any) -> str:
    if str(written).strip().lower() == "sso":
        return (
            "LOGINS: SSO (flask-framework's header-based flask_sso) has no equivalent; use saml or oidc "
            "(LOGINS.saml, LOGINS.oidc.<name>)"
        )
    return f"LOGINS: {written!r} is not a login backend; expected LDAP, OpenID or SAML2 (or a mapping)"


def _flask_config(raw: dict[str, Any]) -> dict[str, Any]:
    flask = raw.get("FLASK")
    config = flask.get("CONFIG") if isinstance(flask, dict) else None
    return config if isinstance(config, dict) else {}


def _local(_config: dict[str, Any], _base_dir: Path, _problems: list[str]) -> dict[str, Any]:
    return {"ENABLED": True}


def _ldap(config: dict[str, Any], _base_dir: Path, problems: list[str]) -> dict[str, Any] | None:
    """flask-framework's LDAP_SCHEMA, LDAP_HOST (or LDAP_HOSTS, or LDAP_DOMAIN), LDAP_PORT,
    LDAP_SEARCH_BASE, LDAP_PROFILE_KEY and LDAP_ATTRIBUTE_MAP."""
    hosts = config.get("LDAP_HOSTS")
    host = config.get("LDAP_HOST") or (hosts[0] if isinstance(hosts, list) and hosts else None)
    domain = str(config.get("LDAP_DOMAIN") or "")
    host = host or domain
    base = config.get("LDAP_SEARCH_BASE") or ",".join(f"dc={part}" for part in domain.split(".") if part)
    if not host or not base:
        problems.append(
            "LOGINS: LDAP (flask-framework's form) needs FLASK.CONFIG.LDAP_HOST (or LDAP_DOMAIN) and "
            "LDAP_SEARCH_BASE; or write LOGINS.ldap with URL, BIND_DN, BIND_PASSWORD, USER_BASE, USER_FILTER"
        )
        return None
    attribute_map = config.get("LDAP_ATTRIBUTE_MAP")
    email = attribute_map.get("email") if isinstance(attribute_map, dict) else None
    return {
        "URL": _ldap_url(str(host).strip(), config),
        "BIND_DN": "{login}",
        "USER_BASE": str(base),
        "USER_FILTER": LEGACY_FILTER,
        "USERNAME_ATTRIBUTE": str(config.get("LDAP_PROFILE_KEY") or "sAMAccountName"),
        "EMAIL_ATTRIBUTE": str(email or "mail"),
        "NAME_ATTRIBUTE": "displayName",
    }


def _ldap_url(host: str, config: dict[str, Any]) -> str:
    """The URL of LDAP_HOST: a host name with LDAP_SCHEMA and LDAP_PORT, or a whole URL as it is (with
    LDAP_PORT when it names no port)."""
    port = config.get("LDAP_PORT")
    if "://" in host:
        has_port = ":" in host.split("://", 1)[1].split("/", 1)[0]
        return host + (f":{port}" if port and not has_port else "")
    return f"{str(config.get('LDAP_SCHEMA') or 'ldap').lower()}://{host}" + (f":{port}" if port else "")


def _oidc(config: dict[str, Any], base_dir: Path, problems: list[str]) -> dict[str, Any] | None:
    """flask-framework's OIDC_CLIENT_SECRETS (a client_secrets.json: issuer, client_id, client_secret,
    flat or under ``web``) and OIDC-SCOPES."""
    advice = "or write LOGINS.oidc.<name>: ISSUER, CLIENT_ID, CLIENT_SECRET"
    secrets_file = config.get("OIDC_CLIENT_SECRETS")
    if not secrets_file:
        problems.append(f"LOGINS: OpenID (flask-framework) needs FLASK.CONFIG.OIDC_CLIENT_SECRETS; {advice}")
        return None
    path = Path(str(secrets_file)).expanduser()
    if not path.is_absolute():  # flask-framework read it from the working directory (the project's)
        found = [where / path for where in (base_dir, Path.cwd()) if (where / path).is_file()]
        path = found[0] if found else base_dir / path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problems.append(f"FLASK.CONFIG.OIDC_CLIENT_SECRETS: cannot read {str(path)!r} ({error}); {advice}")
        return None
    client = data.get("web", data) if isinstance(data, dict) else {}
    if not isinstance(client, dict) or not client.get("issuer") or not client.get("client_id"):
        problems.append(f"FLASK.CONFIG.OIDC_CLIENT_SECRETS: {str(path)!r}: no issuer or client_id; {advice}")
        return None
    provider = {"ISSUER": client["issuer"], "CLIENT_ID": client["client_id"]}
    if client.get("client_secret"):
        provider["CLIENT_SECRET"] = client["client_secret"]
    scopes = config.get("OIDC-SCOPES") or config.get("OIDC_SCOPES")
    if scopes:
        provider["SCOPES"] = scopes
    return {"openid": provider}


def _saml(config: dict[str, Any], _base_dir: Path, problems: list[str]) -> dict[str, Any] | None:
    """flask-framework's SAML_METADATA_URL (the IdP's metadata, a URL or a file)."""
    metadata = config.get("SAML_METADATA_URL")
    if not metadata:
        problems.append(
            "LOGINS: SAML2 (flask-framework's form) needs FLASK.CONFIG.SAML_METADATA_URL; or write "
            "LOGINS.saml with IDP_METADATA, SP_ENTITY_ID, SP_CERT and SP_KEY"
        )
        return None
    return {"IDP_METADATA": metadata}


_READERS: dict[str, Callable[[dict[str, Any], Path, list[str]], dict[str, Any] | None]] = {
    "local": _local,
    "ldap": _ldap,
    "oidc": _oidc,
    "saml": _saml,
}


def _shown(logins: dict[str, Any]) -> dict[str, Any]:
    """``logins`` for the warning: a secret read from a file is shown as a variable to set instead."""
    shown = json.loads(json.dumps(logins))
    for name, provider in (shown.get("oidc") or {}).items():
        if "CLIENT_SECRET" in provider:
            provider["CLIENT_SECRET"] = f"${{OIDC_{name.upper()}_SECRET}}"
    return shown
