"""OpenID Connect providers (``LOGINS.oidc.<name>``): a button each on the login page, the authorization
code flow with PKCE, and RP-initiated logout.

``GET /login/oidc/<name>`` sends the browser to the provider with a fresh ``state``, ``nonce`` and PKCE
verifier kept in the session (and ``next`` when it is a path on this site); ``GET
/login/oidc/<name>/callback`` takes it back, trades the code for tokens, checks the ID token
(:mod:`.oidc_client`), maps its claims to an :class:`ExternalIdentity` and hands it to the project
(``logins.complete``). Every failure is a page that says what happened, with a 4xx or a 503 status.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, g, redirect, request, session
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from ..errors import ConfigError
from ..schema import Key, Schema
from ..urls import external_url
from .base import ExternalIdentity, LoginButton, LoginFailed, LoginUnavailable
from .oidc_client import OidcClient, ProviderSettings
from .pages import render_login_failure
from .registry import Logins

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
BLUEPRINT = "conexoos_oidc"
PENDING_KEY = "conexoos.oidc.pending"
PENDING_MAX_AGE = 600
"""Seconds a started login may take at the provider before its callback is refused."""
PENDING_MAX_COUNT = 5
"""Logins started and not finished kept per session (one per open tab); the oldest are dropped."""
NEXT_KEY = "login_next"
"""``flask.g.login_next``: the local path the login was started for (``?next=``), or None, for the
project's handler."""


def _issuer(value: str) -> str:
    """An https URL, or http on localhost only; no credentials, query or fragment."""
    parts = urlsplit(value.strip())
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError(value)  # they would be logged with the URL; the provider needs none
    return value.strip()


PROVIDER_SCHEMA: Schema = {
    "ISSUER": Key(
        "str",
        "",
        "The provider's issuer URL; its discovery document is read from ISSUER/.well-known/openid-"
        "configuration (e.g. https://sso.example.org/realms/staff for Keycloak). https, or http on "
        "localhost only.",
        required=True,
        convert=_issuer,
        expected="an https:// URL (http:// only for localhost) without credentials, query or fragment",
    ),
    "CLIENT_ID": Key("str", "", "The client id registered at the provider.", required=True),
    "CLIENT_SECRET": Key(
        "str",
        "",
        "The client secret, for AUTH_METHOD client_secret_basic or client_secret_post.",
        secret=True,
        empty_means_default=True,
    ),
    "AUTH_METHOD": Key(
        "choice",
        "client_secret_basic",
        "How this site proves itself at the token endpoint: client_secret_basic, client_secret_post, or "
        "private_key_jwt (a JWT signed with PRIVATE_KEY; no shared secret).",
        choices=AUTH_METHODS,
    ),
    "PRIVATE_KEY": Key(
        "str",
        "",
        "For private_key_jwt: a PEM file holding an RSA or EC private key, relative to the configuration "
        "file's folder; register its public key at the provider. Redacted by config show.",
        empty_means_default=True,
        secret=True,
    ),
    "KEY_ID": Key(
        "str", "", "For private_key_jwt: the key id (kid) under which the provider knows that key."
    ),
    "SCOPES": Key(
        "list",
        ["openid", "email", "profile"],
        "Scopes asked for: a list, or one string of scopes separated by spaces or commas; must include "
        "openid (add e.g. groups when the provider needs a scope for ADMIN_CLAIM).",
        empty_means_default=True,
    ),
    "USERNAME_CLAIM": Key(
        "str", "preferred_username", "Claim suggesting the username.", empty_means_default=True
    ),
    "EMAIL_CLAIM": Key(
        "str",
        "email",
        "Claim holding the email address; only the `email` claim can be vouched for by `email_verified`.",
        empty_means_default=True,
    ),
    "NAME_CLAIM": Key("str", "name", "Claim holding the display name.", empty_means_default=True),
    "ADMIN_CLAIM": Key(
        "str",
        "",
        "Claim whose values grant the admin role at each login (e.g. groups, roles, or a dotted path such "
        "as realm_access.roles); empty: the provider never changes the role.",
    ),
    "ADMIN_VALUES": Key("list", [], "Values of ADMIN_CLAIM that make a person admin (any one of them)."),
    "ALLOWED_CLAIM": Key(
        "str",
        "",
        "Claim that must hold one of ALLOWED_VALUES for the login to be accepted (e.g. hd for a Google "
        "Workspace domain, groups for one group); empty: every person the provider logs in is accepted.",
    ),
    "ALLOWED_VALUES": Key("list", [], "Values of ALLOWED_CLAIM that let a person in."),
    "LABEL": Key("str", "", "Text of the login button; empty: `Log in with <name>`."),
    "TIMEOUT": Key("int", 10, "Seconds to wait for each answer of the provider.", minimum=1, maximum=120),
}


# --- configuration --------------------------------------------------------------------------------


def provider_problems(name: str, entry: Mapping[str, Any], base_dir: Path) -> list[str]:
    """The mistakes that involve several keys of one validated ``LOGINS.oidc.<name>`` entry."""
    path = f"LOGINS.oidc.{name}"
    problems: list[str] = []
    if not PROVIDER_NAME.fullmatch(name):
        problems.append(f"{path}: a provider name is letters, digits, - and _ (it is part of a URL)")
    method = entry["AUTH_METHOD"]
    if method != "private_key_jwt" and not entry["CLIENT_SECRET"]:
        problems.append(f"{path}.CLIENT_SECRET: is missing; {method} needs the client secret")
    if method == "private_key_jwt":
        problems.extend(_private_key_problems(path, entry["PRIVATE_KEY"], base_dir))
    if "openid" not in scope_list(entry["SCOPES"]):
        problems.append(f"{path}.SCOPES: {' '.join(scope_list(entry['SCOPES']))!r} must include openid")
    for claim, values in (("ADMIN_CLAIM", "ADMIN_VALUES"), ("ALLOWED_CLAIM", "ALLOWED_VALUES")):
        if bool(entry[claim]) != bool(entry[values]):
            problems.append(f"{path}: {claim} and {values} go together; set both or neither")
    return problems


def scope_list(value: str | list[str]) -> list[str]:
    """The scopes of SCOPES, whether written as a list or as one string (``openid email`` or ``a, b``)."""
    items = [value] if isinstance(value, str) else list(value)
    return " ".join(items).replace(",", " ").split()


def _private_key_problems(path: str, value: str, base_dir: Path) -> list[str]:
    if not value:
        return [f"{path}.PRIVATE_KEY: is missing; private_key_jwt needs a PEM private key file"]
    try:
        load_private_key(value, base_dir)
    except ValueError as error:
        return [f"{path}.PRIVATE_KEY: {error}"]
    return []


def load_private_key(value: str, base_dir: Path) -> RSAKey | ECKey:
    """The RSA or EC private key in the PEM file ``value`` (relative to ``base_dir``). A message never
    shows ``value`` when it may be the key itself rather than a path."""
    if _looks_like_key_text(value):
        raise ValueError(NOT_A_PATH)
    file = Path(value).expanduser()
    file = file if file.is_absolute() else base_dir / file
    try:
        pem = file.read_bytes()
    except OSError as error:
        raise ValueError(f"{file} cannot be read ({error.strerror})") from error
    for key_class in (RSAKey, ECKey):
        try:
            key = key_class.import_key(pem)
        except (JoseError, ValueError, TypeError):
            continue
        if key.is_private:
            return key
    raise ValueError(f"{file} holds no RSA or EC private key in PEM form")


NOT_A_PATH = "is not a readable file path (paste the key into a file and give its path)"


def _looks_like_key_text(value: str) -> bool:
    """Whether ``value`` is (part of) a key pasted in place of its file's path."""
    return "-----" in value or "\n" in value or "\r" in value or len(value) > 1024


def provider_settings(name: str, entry: Mapping[str, Any], base_dir: Path) -> ProviderSettings:
    """The typed settings of one validated entry (after :func:`provider_problems` found none)."""
    method = entry["AUTH_METHOD"]
    return ProviderSettings(
        name=name,
        issuer=entry["ISSUER"],
        client_id=entry["CLIENT_ID"],
        client_secret=entry["CLIENT_SECRET"],
        auth_method=method,
        private_key=load_private_key(entry["PRIVATE_KEY"], base_dir) if method == "private_key_jwt" else None,
        key_id=entry["KEY_ID"],
        scopes=" ".join(scope_list(entry["SCOPES"])),
        username_claim=entry["USERNAME_CLAIM"],
        email_claim=entry["EMAIL_CLAIM"],
        name_claim=entry["NAME_CLAIM"],
        admin_claim=entry["ADMIN_CLAIM"],
        admin_values=tuple(entry["ADMIN_VALUES"]),
        allowed_claim=entry["ALLOWED_CLAIM"],
        allowed_values=tuple(entry["ALLOWED_VALUES"]),
        label=entry["LABEL"],
        timeout=entry["TIMEOUT"],
    )


def install(app: Flask, logins: Logins, section: Mapping[str, Mapping[str, Any]]) -> None:
    """Register the providers of the validated ``LOGINS.oidc`` section: their routes, a login button
    each and its logout URL builder. Raises :class:`ConfigError` on a mistake spanning several keys."""
    base_dir = _config_folder(app)
    problems = [
        problem for name, entry in section.items() for problem in provider_problems(name, entry, base_dir)
    ]
    if problems:
        raise ConfigError(problems)
    clients = {name: OidcClient(provider_settings(name, entry, base_dir)) for name, entry in section.items()}
    app.register_blueprint(_blueprint(clients, logins))
    for name, client in clients.items():
        label = client.settings.label or f"Log in with {name}"
        logins.add_button(LoginButton("oidc", name, label, f"/login/oidc/{name}"), logout=client.logout_url)


def _config_folder(app: Flask) -> Path:
    runtime = app.extensions.get("conexoos")
    settings = getattr(runtime, "settings", None)
    return Path(getattr(settings, "base_dir", Path.cwd()))


# --- the routes -----------------------------------------------------------------------------------


def _blueprint(clients: dict[str, OidcClient], logins: Logins) -> Blueprint:
    blueprint = Blueprint(BLUEPRINT, __name__)

    @blueprint.get("/login/oidc/<name>")
    def start(name: str) -> ResponseReturnValue:
        """Send the browser to provider ``name`` (404 when there is none) or show why it cannot go."""
        client = clients.get(name) or abort(404)
        try:
            return _start(client)
        except LoginFailed as error:
            return render_login_failure(error)

    @blueprint.get("/login/oidc/<name>/callback")
    def callback(name: str) -> ResponseReturnValue:
        """Finish a login at provider ``name``: the project's answer, or a page saying what failed."""
        client = clients.get(name) or abort(404)
        try:
            return _finish(client, logins)
        except LoginFailed as error:
            return render_login_failure(error)

    return blueprint


def _redirect_uri(client: OidcClient) -> str:
    return external_url(f"{BLUEPRINT}.callback", name=client.settings.name)


def _start(client: OidcClient) -> ResponseReturnValue:
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    url = client.authorization_url(_redirect_uri(client), state, nonce, verifier)
    pending = _pending_logins()
    pending[state] = {
        "provider": client.settings.name,
        "nonce": nonce,
        "verifier": verifier,
        "next": local_path(request.args.get("next")),
        "started": time.time(),
    }
    newest = sorted(pending.items(), key=lambda item: item[1]["started"])[-PENDING_MAX_COUNT:]
    session[PENDING_KEY] = dict(newest)
    return redirect(url)


def _finish(client: OidcClient, logins: Logins) -> ResponseReturnValue:
    settings = client.settings
    pending = _take_pending(request.args.get("state"), settings.name)
    error = request.args.get("error")
    if error:
        raise _provider_error(settings, error, request.args.get("error_description"))
    issuer = request.args.get("iss")
    if issuer is not None and issuer != settings.issuer:  # RFC 9207: an answer meant for another provider
        raise LoginFailed(f"This answer does not come from {settings.display_name}. Please try again.")
    code = request.args.get("code")
    if not code:
        raise LoginFailed(f"{settings.display_name} sent no login code back. Please try again.")
    answer = client.exchange(code, _redirect_uri(client), pending["verifier"], pending["nonce"])
    claims = answer.claims
    if answer.access_token and _missing_claims(settings, claims):
        claims = _with_userinfo(client, claims, answer.access_token)
    _check_allowed(settings, claims)
    g.setdefault(NEXT_KEY, pending.get("next"))
    return logins.complete(identity_from_claims(settings, claims, answer.id_token))


def _pending_logins() -> dict[str, dict[str, Any]]:
    stored = session.get(PENDING_KEY)
    if not isinstance(stored, dict):
        return {}
    oldest = time.time() - PENDING_MAX_AGE
    return {state: entry for state, entry in stored.items() if entry.get("started", 0) >= oldest}


def _take_pending(state: str | None, provider: str) -> dict[str, Any]:
    """The login started with ``state``, removed from the session so that its callback works once."""
    pending = _pending_logins()
    entry = pending.pop(state, None) if state else None
    if PENDING_KEY in session and session[PENDING_KEY] != pending:  # a visitor without one gets no cookie
        session[PENDING_KEY] = pending
    if entry is None or entry.get("provider") != provider:
        raise LoginFailed(
            "This login link has expired or was already used. Please start the login again.", status=400
        )
    return entry


def _provider_error(settings: ProviderSettings, error: str, description: str | None) -> LoginFailed:
    reason = f" ({description})" if description else ""
    if error == "access_denied":
        return LoginFailed(f"{settings.display_name} did not let you log in{reason}.", status=403)
    if error in ("temporarily_unavailable", "server_error"):
        return LoginUnavailable(
            f"{settings.display_name} cannot log you in right now{reason}. Please try again later."
        )
    return LoginFailed(f"{settings.display_name} refused the login: {error}{reason}.", status=400)


def _missing_claims(settings: ProviderSettings, claims: Mapping[str, Any]) -> bool:
    wanted = [settings.username_claim, settings.email_claim, settings.name_claim]
    wanted += [name for name in (settings.admin_claim, settings.allowed_claim) if name]
    return any(claim_value(claims, name) is None for name in wanted)


def _with_userinfo(client: OidcClient, claims: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The ID token's claims completed by the userinfo endpoint's (which must name the same ``sub``)."""
    info = client.userinfo(access_token)
    if not info:
        return claims
    if info.get("sub") != claims["sub"]:
        raise LoginFailed(
            f"{client.settings.display_name} described another person than the one who logged in. "
            "Please try again."
        )
    return {**info, **claims}


def _check_allowed(settings: ProviderSettings, claims: Mapping[str, Any]) -> None:
    if settings.allowed_claim and not _holds_any(
        claim_value(claims, settings.allowed_claim), settings.allowed_values
    ):
        raise LoginFailed(
            f"Your {settings.display_name} account is not allowed to log in here. Ask the site's "
            "administrator if you think it should be.",
            status=403,
        )


# --- claims → identity ----------------------------------------------------------------------------


def claim_value(claims: Mapping[str, Any], name: str) -> Any:
    """The claim ``name``, or a nested one by a dotted path (``realm_access.roles``); None if absent."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _holds_any(value: Any, accepted: tuple[str, ...]) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_as_text(item) in accepted for item in values if item is not None)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claim_value(claims, name)
    return value.strip() or None if isinstance(value, str) else None


def identity_from_claims(
    settings: ProviderSettings, claims: Mapping[str, Any], id_token: str
) -> ExternalIdentity:
    """The person the checked claims describe; ``admin`` is None when no ADMIN_CLAIM is configured."""
    email = _text(claims, settings.email_claim)
    verified = claims.get("email_verified")
    admin = (
        _holds_any(claim_value(claims, settings.admin_claim), settings.admin_values)
        if settings.admin_claim
        else None
    )
    return ExternalIdentity(
        backend="oidc",
        provider=settings.name,
        subject=str(claims["sub"]),
        username=_text(claims, settings.username_claim),
        email=email,
        # The provider vouches for its `email` claim only, and only with a true email_verified.
        email_verified=bool(email) and settings.email_claim == "email" and verified in (True, "true"),
        name=_text(claims, settings.name_claim),
        admin=admin,
        logout_state={"id_token_hint": id_token},
    )


# --- helpers --------------------------------------------------------------------------------------


_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f\\]|%(2f|5c|0[0-9a-f]|1[0-9a-f]|7f)", re.IGNORECASE)


def local_path(value: str | None) -> str | None:
    """``value`` when it is plainly a path on this site (``/dashboard?tab=1``), else None.

    Conservative on purpose (the project checks it again): one leading slash, printable ASCII, no
    backslash, and no encoded slash, backslash or control character that a browser could decode into
    ``//host``.
    """
    if not value or not value.startswith("/") or value.startswith("//") or not value.isascii():
        return None
    if _UNSAFE_IN_PATH.search(value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None
