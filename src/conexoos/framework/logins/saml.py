"""``LOGINS.saml``: log in through a SAML 2.0 identity provider (Keycloak, ADFS, Entra ID, Okta, Shibboleth).

Routes (all under ``/saml``):

- ``GET /saml/login?next=/path``: a signed AuthnRequest, sent with the redirect binding. Its id is kept in
  the session with ``next`` (a local path only), so that the answer is accepted only by the browser that
  asked for it, and only once.
- ``POST /saml/acs``: the identity provider's answer. The blueprint is in ``Logins.cross_site_posts``: the
  project's CSRF protection exempts it, because InResponseTo checked against the session replaces the CSRF
  token. A session cookie with ``SameSite=Lax`` is not sent with the identity provider's cross-site POST, so
  a POST without it is answered with a page that posts the same form again from this site (with the cookie).
- ``GET /saml/metadata``: this service provider's metadata, for the identity provider.
- ``GET|POST /saml/sls``: single logout: the identity provider's answer to our LogoutRequest, or its own
  LogoutRequest (which must be signed) ending this browser's session.

Every failure is a page with a sentence for the person and the technical reason in the log, never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template_string,
    request,
    session,
)
from flask.typing import ResponseReturnValue

from ..config import Settings
from ..errors import ConfigError
from ..schema import Key, Schema
from ..urls import CONFIG_NAME, resolve_public_url
from .base import LoginButton, LoginFailed
from .oidc import local_path  # one definition of a safe local path for both redirect backends
from .registry import Logins
from .saml_context import EXTENSION, SESSION_LOGIN, SESSION_REQUESTS, current_provider, failure_page, no_store
from .saml_identity import BACKEND, AttributeNames, split_values
from .saml_logout import single_logout
from .saml_messages import check_message_sizes
from .saml_metadata import IdpMetadata, is_url, metadata_source_problem
from .saml_provider import NAMEID_FORMATS, SamlSettings, ServiceProvider, check_key_pair

log = logging.getLogger("conexoos.logins.saml")

MAX_OUTSTANDING = 5
"""Logins started and not finished that one browser may have (several tabs)."""
MAX_RELAY_STATE = 80
"""The SAML bindings limit RelayState to 80 bytes."""
BOUNCED_FIELD = "conexoos_saml_resent"
MISSING_RESPONSE = "The identity provider's answer is missing. Please log in again."
SCHEMA_KEY = "LOGINS.saml"

SCHEMA: Schema = {
    "IDP_METADATA": Key(
        "str",
        "",
        "The identity provider's SAML metadata: a file path (relative to the configuration file's folder) or "
        "an https:// URL (e.g. Keycloak's .../protocol/saml/descriptor), fetched at start and cached in the "
        "instance folder, so that a restart while the provider is down still starts; plain http only for "
        "localhost.",
        required=True,
    ),
    "IDP_METADATA_MAX_AGE": Key(
        "int",
        86400,
        "Seconds after which a URL's cached metadata is fetched again (on the next login; a failed fetch "
        "keeps the cached copy).",
        minimum=60,
        empty_means_default=True,
    ),
    "IDP_ENTITY_ID": Key(
        "str",
        "",
        "Which identity provider of IDP_METADATA to use when it describes several (a federation); empty: its "
        "only one.",
        empty_means_default=True,
    ),
    "SP_ENTITY_ID": Key(
        "str",
        "",
        "This site's entity id, as registered at the identity provider; empty: PUBLIC_URL + /saml/metadata.",
        empty_means_default=True,
    ),
    "SP_CERT": Key(
        "str",
        "",
        "PEM certificate of this site (relative to the configuration file's folder), published in "
        "/saml/metadata; the identity provider checks our signed requests with it. Empty (with SP_KEY): "
        "requests are not signed and single logout is off (flask-framework's SAML2 had no key pair).",
    ),
    "SP_KEY": Key(
        "str",
        "",
        "PEM private key file matching SP_CERT (unencrypted, RSA; readable by the server's user only). "
        "Redacted by config show like every key.",
        secret=True,
    ),
    "USERNAME_ATTRIBUTE": Key(
        "str", "uid", "Attribute suggesting the username (Name or FriendlyName).", empty_means_default=True
    ),
    "EMAIL_ATTRIBUTE": Key("str", "mail", "Attribute holding the email address.", empty_means_default=True),
    "NAME_ATTRIBUTE": Key(
        "str", "displayName", "Attribute holding the display name.", empty_means_default=True
    ),
    "ADMIN_ATTRIBUTE": Key(
        "str",
        "",
        "Attribute whose values grant the admin role (e.g. groups, or Entra ID's "
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups); empty: the role is never changed.",
        empty_means_default=True,
    ),
    "ADMIN_VALUES": Key(
        "list",
        [],
        "Values of ADMIN_ATTRIBUTE that grant the admin role (compared in any case); a person without one "
        "loses the role at login.",
    ),
    "EMAIL_VERIFIED": Key(
        "bool",
        False,
        "true: the identity provider vouches for the addresses it sends (an existing account with that "
        "address may then be linked, when the project allows it). Off by default: many providers send an "
        "address the person typed.",
    ),
    "LABEL": Key("str", "Single sign-on", "Label of the login page's button.", empty_means_default=True),
    "NAMEID_FORMAT": Key(
        "choice",
        "persistent",
        "NameID format asked for; the NameID is the person's stable id here (a transient one is refused).",
        choices=tuple(NAMEID_FORMATS),
    ),
    "WANT_RESPONSE_SIGNED": Key(
        "bool",
        False,
        "Also require the Response around the assertion to be signed (the assertion's signature is always "
        "required).",
    ),
    "SIGN_METADATA": Key("bool", False, "Sign /saml/metadata with SP_KEY."),
    "CLOCK_SKEW": Key(
        "int",
        60,
        "Seconds of clock difference allowed with the identity provider (NotBefore, NotOnOrAfter).",
        minimum=0,
        maximum=600,
    ),
}


def install(app: Flask, logins: Logins, section: Mapping[str, Any]) -> None:
    """Register the SAML service provider of the validated ``LOGINS.saml`` section on ``app``.

    Needs the public URL in ``app.config`` (after :func:`conexoos.framework.urls.install_public_url`).
    Fetches (or reads the cached) identity provider metadata now. Raises ConfigError for a mistake.
    """
    settings = saml_settings(app, section)
    metadata = _idp_metadata(section, _base_dir(app), Path(app.instance_path) / "saml")
    provider = ServiceProvider(settings, metadata)
    provider.start()
    app.extensions[EXTENSION] = provider
    blueprint = _blueprint()
    app.register_blueprint(blueprint)
    logins.cross_site_posts.append(blueprint)
    logins.add_button(
        LoginButton(BACKEND, BACKEND, section["LABEL"], "/saml/login"),
        logout=lambda state, return_to: provider.logout_url(state, _relay_state_of(return_to, settings)),
    )


def section_problems(section: dict[str, Any], base_dir: Path, path: str) -> tuple[list[str], list[str]]:
    """Checks of a validated ``LOGINS.saml`` that need no network (problems, warnings), for the start and
    ``config check``; the file paths are made absolute (relative to ``base_dir``, the configuration file's
    folder)."""
    for key in ("SP_CERT", "SP_KEY"):
        if section[key]:
            section[key] = _resolve(base_dir, section[key], is_path=True)
    source = section["IDP_METADATA"]
    if source and not is_url(source):
        section["IDP_METADATA"] = _resolve(base_dir, source, is_path=True)
    problems = []
    problem = metadata_source_problem(source) if source else None
    if problem:
        problems.append(f"{path}.IDP_METADATA: {problem}")
    if source and not is_url(source) and not Path(section["IDP_METADATA"]).is_file():
        problems.append(
            f"{path}.IDP_METADATA: {section['IDP_METADATA']} is not a file; give a metadata file or a URL"
        )
    return problems + _key_pair_problems(section, path), _key_pair_warnings(section, path)


def _key_pair_problems(section: Mapping[str, Any], path: str) -> list[str]:
    if bool(section["SP_CERT"]) != bool(section["SP_KEY"]):
        missing = "SP_KEY" if section["SP_CERT"] else "SP_CERT"
        return [f"{path}.{missing}: is missing; SP_CERT and SP_KEY go together (or leave both empty)"]
    if not section["SP_CERT"]:
        return [f"{path}.SIGN_METADATA: needs SP_CERT and SP_KEY"] if section["SIGN_METADATA"] else []
    try:
        check_key_pair(Path(section["SP_CERT"]), Path(section["SP_KEY"]))
    except ConfigError as error:
        return [problem.replace("LOGINS.saml", path, 1) for problem in error.problems]
    return []


def _key_pair_warnings(section: Mapping[str, Any], path: str) -> list[str]:
    if section["SP_CERT"] or section["SP_KEY"]:
        return []
    return [
        f"{path}: without SP_CERT and SP_KEY the AuthnRequests are not signed and single logout is off; "
        "make a key pair (see the README's SAML 2.0 section)"
    ]


def saml_settings(app: Flask, section: Mapping[str, Any]) -> SamlSettings:
    """The typed settings of ``section`` in ``app``; ConfigError naming the key for a mistake."""
    public_url = app.config.get(CONFIG_NAME)
    if not public_url:
        raise RuntimeError("logins.saml.install needs the public URL: call it after install_public_url")
    return typed_settings(section, str(public_url), _base_dir(app))


def typed_settings(section: Mapping[str, Any], public_url: str, base_dir: Path) -> SamlSettings:
    """The typed settings of ``section`` for a site at ``public_url``; paths relative to ``base_dir``."""
    problem = metadata_source_problem(section["IDP_METADATA"])
    if problem:
        raise ConfigError([f"{SCHEMA_KEY}.IDP_METADATA: {problem}"])
    return SamlSettings(
        public_url=str(public_url),
        entity_id=section["SP_ENTITY_ID"] or f"{public_url}/saml/metadata",
        cert_file=Path(_resolve(base_dir, section["SP_CERT"], is_path=True)) if section["SP_CERT"] else None,
        key_file=Path(_resolve(base_dir, section["SP_KEY"], is_path=True)) if section["SP_KEY"] else None,
        idp_entity_id=section["IDP_ENTITY_ID"],
        attributes=AttributeNames(
            username=section["USERNAME_ATTRIBUTE"],
            email=section["EMAIL_ATTRIBUTE"],
            name=section["NAME_ATTRIBUTE"],
            admin=section["ADMIN_ATTRIBUTE"],
            admin_values=split_values(section["ADMIN_VALUES"]),
            email_verified=bool(section["EMAIL_VERIFIED"]),
        ),
        nameid_format=section["NAMEID_FORMAT"],
        clock_skew=int(section["CLOCK_SKEW"]),
        want_response_signed=bool(section["WANT_RESPONSE_SIGNED"]),
        sign_metadata=bool(section["SIGN_METADATA"]),
    )


def metadata_problem(settings: Settings) -> str | None:
    """For ``config check --connect``: None when the IdP metadata can be read (fetched, for a URL) and names
    the IdP, else why not. Nothing is cached."""
    section = settings.tree["LOGINS"]["saml"]
    try:
        typed = typed_settings(section, resolve_public_url(settings), settings.base_dir)
        with tempfile.TemporaryDirectory() as folder:
            metadata = _idp_metadata(section, settings.base_dir, Path(folder))
            provider = ServiceProvider(typed, metadata)
            if metadata.is_url:
                metadata.fetch(provider.check_metadata)
            else:
                provider.check_metadata(metadata.current())
    except ConfigError as error:
        return "; ".join(error.problems)
    except Exception as error:  # noqa: BLE001 - any failure is the answer of this check, in words
        return f"{section['IDP_METADATA']}: {type(error).__name__}: {error}"
    return None


def _idp_metadata(section: Mapping[str, Any], base_dir: Path, cache_folder: Path) -> IdpMetadata:
    source = section["IDP_METADATA"]
    return IdpMetadata(
        _resolve(base_dir, source, is_path=not is_url(source)),
        cache_folder,
        float(section["IDP_METADATA_MAX_AGE"]),
        f"{SCHEMA_KEY}.IDP_METADATA",
    )


def _base_dir(app: Flask) -> Path:
    runtime = app.extensions.get("conexoos")
    if runtime is not None:
        return Path(runtime.settings.base_dir)
    return Path.cwd()


def _resolve(base_dir: Path, value: str, is_path: bool) -> str:
    if not is_path:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base_dir / path)


# -- routes --------------------------------------------------------------------------------------------------


def _blueprint() -> Blueprint:
    blueprint = Blueprint("conexoos_saml", __name__, url_prefix="/saml")
    blueprint.add_url_rule("/login", "login", login, methods=["GET"])
    blueprint.add_url_rule("/acs", "acs", acs, methods=["POST"])
    blueprint.add_url_rule("/metadata", "metadata", metadata, methods=["GET"])
    blueprint.add_url_rule("/sls", "sls", single_logout, methods=["GET", "POST"])
    return blueprint


def login() -> ResponseReturnValue:
    """Send the browser to the identity provider with a signed AuthnRequest (503 page when unavailable)."""
    target = local_path(request.args.get("next")) or ""
    try:
        request_id, url = current_provider().login_url(relay_state=_relay_state(target))
    except LoginFailed as error:
        return failure_page(error)
    outstanding = dict(session.get(SESSION_REQUESTS) or {})
    outstanding[request_id] = target  # the session, not RelayState, says where to go after the login
    session[SESSION_REQUESTS] = dict(list(outstanding.items())[-MAX_OUTSTANDING:])
    return no_store(redirect(url, code=303))


def acs() -> ResponseReturnValue:
    """Take the identity provider's POSTed answer, check it, and hand the identity to the project."""
    saml_response = request.form.get("SAMLResponse", "")
    if not saml_response.strip():
        log.warning("SAML: POST /saml/acs without a SAMLResponse")
        return failure_page(LoginFailed(MISSING_RESPONSE))
    try:
        check_message_sizes(request.form)
    except LoginFailed as error:
        return failure_page(error)
    if _cookie_missing() and not request.form.get(BOUNCED_FIELD):
        return _resend_page(saml_response, request.form.get("RelayState", ""))
    outstanding = dict(session.get(SESSION_REQUESTS) or {})
    try:
        accepted = current_provider().identity(saml_response, outstanding)
    except LoginFailed as error:
        session.pop(SESSION_REQUESTS, None)  # a failed answer ends every login this browser started
        return failure_page(error)
    outstanding.pop(accepted.request_id, None)
    session[SESSION_REQUESTS] = outstanding
    g.login_next = accepted.next_path or None
    try:
        answer = current_app.extensions["conexoos"].logins.complete(accepted.identity)
    except LoginFailed as error:
        return failure_page(error)
    # After the project's handler, which may have cleared the session to regenerate its id:
    session[SESSION_LOGIN] = dict(accepted.identity.logout_state)
    return answer


def metadata() -> ResponseReturnValue:
    """This service provider's metadata XML (served even while the identity provider's is unavailable)."""
    return Response(current_provider().metadata_xml(), mimetype="application/samlmetadata+xml")


# -- helpers -------------------------------------------------------------------------------------------------


def _relay_state(target: str) -> str:
    """RelayState for a local path: the SAML bindings allow 80 bytes, so a longer one is not sent."""
    return target if len(target.encode()) <= MAX_RELAY_STATE else ""


def _relay_state_of(return_to: str, settings: SamlSettings) -> str:
    """The local path of ``return_to`` when it is on this site (the IdP sends the browser back there)."""
    if return_to.startswith(settings.public_url + "/"):
        return _relay_state(local_path(return_to[len(settings.public_url) :]) or "/")
    return _relay_state(local_path(return_to) or "/")


def _cookie_missing() -> bool:
    """Whether the browser sent no session cookie (a SameSite=Lax cookie on a cross-site POST)."""
    name = current_app.config.get("SESSION_COOKIE_NAME", "session")
    return name not in request.cookies


RESEND_SCRIPT = "document.getElementById('resend').submit();"
RESEND_PAGE = (
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Logging in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><form id="resend" method="post" action="{{ action }}">
<input type="hidden" name="SAMLResponse" value="{{ saml_response }}">
<input type="hidden" name="RelayState" value="{{ relay_state }}">
<input type="hidden" name="{{ bounced }}" value="1">
<p>Logging you in…</p><button type="submit">Continue</button></form>
<script>"""
    + RESEND_SCRIPT
    + """</script></body></html>"""
)


def _resend_page(saml_response: str, relay_state: str) -> ResponseReturnValue:
    """A page that posts the answer again from this site, so that the browser sends its session cookie."""
    html = render_template_string(
        RESEND_PAGE,
        action="/saml/acs",
        saml_response=saml_response,
        relay_state=relay_state,
        bounced=BOUNCED_FIELD,
    )
    digest = base64.b64encode(hashlib.sha256(RESEND_SCRIPT.encode()).digest()).decode()
    response = no_store(Response(html, mimetype="text/html"))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'sha256-{digest}'; form-action 'self'; frame-ancestors 'none'"
    )
    return response
