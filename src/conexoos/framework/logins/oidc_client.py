"""One OpenID provider as the relying party talks to it: discovery, its keys, the code exchange, and the
checks of the ID token, all done by Authlib and joserfc (no hand-made crypto).

Every failure becomes a :class:`LoginFailed` (the provider or its answer refused the login) or a
:class:`LoginUnavailable` (the provider cannot be asked now); the cause goes to the log for the operator.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import ECKey, KeySet, RSAKey

from .base import LoginFailed, LoginUnavailable

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
METADATA_MAX_AGE = 24 * 3600
"""Seconds a discovery document is kept before it is fetched again (endpoints rarely move)."""
CLOCK_LEEWAY = 60
"""Seconds of clock difference tolerated on ``exp``, ``iat`` and ``nbf``."""
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""Asymmetric algorithms only: ``none`` and the HMAC ones are never accepted for an ID token."""
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True)
class ProviderSettings:
    """One validated ``LOGINS.oidc.<name>`` entry."""

    name: str
    issuer: str
    client_id: str
    client_secret: str
    auth_method: str
    private_key: RSAKey | ECKey | None
    """PRIVATE_KEY, read, for ``private_key_jwt``."""
    key_id: str
    scopes: str
    username_claim: str
    email_claim: str
    name_claim: str
    admin_claim: str
    admin_values: tuple[str, ...]
    allowed_claim: str
    allowed_values: tuple[str, ...]
    label: str
    timeout: int

    @property
    def display_name(self) -> str:
        """How messages name the provider: its button label, else its name in ``LOGINS.oidc``."""
        return self.label or self.name


@dataclass(frozen=True)
class TokenAnswer:
    """What the token endpoint gave for a code, once the ID token is checked."""

    id_token: str
    access_token: str | None
    claims: dict[str, Any]


class ProviderUnavailable(LoginUnavailable):
    """The provider cannot be used right now: ``message`` for the person, ``detail`` for the operator."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class OidcClient:
    """The relying party's side of one provider; its discovery document and JWKS are cached."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_time = 0.0
        self._keys: KeySet | None = None

    # --- discovery and keys -------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched on first use and cached; a failure is not cached,
        so the next login tries again."""
        with self._lock:
            cached, fetched_at = self._metadata, self._metadata_time
        if cached is not None and time.monotonic() - fetched_at < METADATA_MAX_AGE:
            return cached
        document = self._fetch_metadata()
        with self._lock:
            self._metadata, self._metadata_time = document, time.monotonic()
        return document

    def cached_metadata(self) -> dict[str, Any] | None:
        """The discovery document if it was fetched already (never asks the provider)."""
        with self._lock:
            return self._metadata

    def _fetch_metadata(self) -> dict[str, Any]:
        url = self.settings.issuer.rstrip("/") + DISCOVERY_PATH
        document = self._get_json(url, "its discovery document")
        missing = [name for name in REQUIRED_METADATA if not isinstance(document.get(name), str)]
        if missing:
            raise self._unavailable(f"the discovery document at {url} lacks {', '.join(missing)}")
        if document["issuer"] != self.settings.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the configured one.
            slash = document["issuer"].rstrip("/") == self.settings.issuer.rstrip("/")
            raise self._unavailable(
                f"its discovery document names the issuer {document['issuer']!r}, not the configured "
                f"{self.settings.issuer!r}{' (only the trailing slash differs)' if slash else ''}: set "
                f"LOGINS.oidc.{self.settings.name}.ISSUER to that value exactly"
            )
        return document

    def problem(self) -> str | None:
        """For ``config check --connect``: fetch the discovery document (its issuer must be ISSUER exactly)
        and the JWKS now, within TIMEOUT; None when both are usable, else why not."""
        try:
            document = self._fetch_metadata()
            with self._lock:
                self._metadata, self._metadata_time = document, time.monotonic()
            self.keys(refresh=True)
        except ProviderUnavailable as error:
            return error.detail
        return None

    def keys(self, refresh: bool = False) -> KeySet:
        """The provider's public keys (JWKS), cached; ``refresh`` fetches them again (key rotation)."""
        with self._lock:
            cached = self._keys
        if cached is not None and not refresh:
            return cached
        document = self._get_json(self.metadata()["jwks_uri"], "its signing keys (JWKS)")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError) as error:
            raise self._unavailable(f"its JWKS cannot be read: {error}") from error
        with self._lock:
            self._keys = keys
        return keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = requests.get(url, timeout=self.settings.timeout, headers={"Accept": "application/json"})
        except requests.Timeout as error:
            raise self._unavailable(f"{what} at {url}: no answer within {self.settings.timeout} s") from error
        except requests.RequestException as error:
            raise self._unavailable(f"{what} at {url} cannot be fetched: {error}") from error
        if answer.status_code != 200:
            raise self._unavailable(f"{what} at {url} answered HTTP {answer.status_code}")
        try:
            document = answer.json()
        except ValueError as error:
            raise self._unavailable(f"{what} at {url} is not JSON") from error
        if not isinstance(document, dict):
            raise self._unavailable(f"{what} at {url} is not a JSON object")
        return document

    # --- the login ----------------------------------------------------------------------------------

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the authorization code flow with PKCE (S256), ``state`` and
        ``nonce``."""
        session = self._session(redirect_uri)
        url, _ = session.create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, code_verifier=code_verifier, nonce=nonce
        )
        return str(url)

    def exchange(self, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> TokenAnswer:
        """Trade the code for tokens at the token endpoint and check the ID token."""
        token_endpoint = self.metadata()["token_endpoint"]
        session = self._session(redirect_uri, token_endpoint)
        try:
            token = session.fetch_token(
                token_endpoint, code=code, code_verifier=code_verifier, timeout=self.settings.timeout
            )
        except OAuthError as error:
            log.warning("OpenID provider %s refused the code: %s", self.settings.name, error)
            raise LoginFailed(
                f"{self.settings.display_name} refused to complete the login ({error.error}). Please try "
                "again.",
                status=400,
            ) from None
        except requests.Timeout as error:
            raise self._unavailable(
                f"its token endpoint: no answer within {self.settings.timeout} s"
            ) from error
        except (requests.RequestException, ValueError) as error:
            raise self._unavailable(f"its token endpoint failed: {error}") from error
        finally:
            session.close()
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str):
            raise self._refused("the token endpoint returned no ID token")
        claims = self.verify_id_token(
            id_token, nonce, access_token if isinstance(access_token, str) else None
        )
        return TokenAnswer(id_token, access_token if isinstance(access_token, str) else None, claims)

    def verify_id_token(self, id_token: str, nonce: str, access_token: str | None) -> dict[str, Any]:
        """The ID token's claims once its signature (by a key of the provider's JWKS; an unknown ``kid``
        fetches the JWKS again, once), ``iss``, ``aud``/``azp``, ``exp``, ``iat`` and ``nonce`` are
        right."""
        algorithms = self._algorithms()
        try:
            try:
                decoded = jwt.decode(id_token, self.keys(), algorithms=algorithms)
            except InvalidKeyIdError:
                decoded = jwt.decode(id_token, self.keys(refresh=True), algorithms=algorithms)
        except InvalidKeyIdError as error:
            raise self._refused("the ID token is signed by a key the provider does not publish") from error
        except BadSignatureError as error:
            raise self._refused("the ID token's signature is wrong") from error
        except (JoseError, ValueError) as error:
            raise self._refused(f"the ID token cannot be read: {error}") from error
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.settings.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": self.settings.issuer},
                "aud": {"essential": True, "value": self.settings.client_id},
                "nonce": {"essential": True, "value": nonce},
            },
            params,
        )
        try:
            claims.validate(leeway=CLOCK_LEEWAY)
        except ExpiredTokenError as error:
            raise self._refused("the ID token has expired (is this server's clock right?)") from error
        except ClaimError as error:
            raise self._refused(f"the ID token's claims are wrong: {error}") from error
        return dict(claims)

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """The userinfo endpoint's claims, or {} when the provider has none."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        try:
            answer = requests.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self.settings.timeout,
            )
        except requests.RequestException as error:
            raise self._unavailable(f"its userinfo endpoint failed: {error}") from error
        if answer.status_code != 200:
            raise self._unavailable(f"its userinfo endpoint answered HTTP {answer.status_code}")
        try:
            document = answer.json()
        except ValueError as error:
            raise self._unavailable("its userinfo endpoint's answer is not JSON") from error
        if not isinstance(document, dict):
            raise self._unavailable("its userinfo endpoint's answer is not a JSON object")
        return document

    def logout_url(self, state: Mapping[str, str], return_to: str) -> str | None:
        """RP-initiated logout at the provider (``end_session_endpoint`` with ``id_token_hint``,
        ``post_logout_redirect_uri`` and ``client_id``), or None when the provider offers none or cannot
        be asked now (the local logout happens anyway)."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except LoginUnavailable:
            return None
        if not isinstance(endpoint, str):
            return None
        params = {"client_id": self.settings.client_id, "post_logout_redirect_uri": return_to}
        if state.get("id_token_hint"):
            params["id_token_hint"] = state["id_token_hint"]
        separator = "&" if "?" in endpoint else "?"
        return endpoint + separator + urlencode(params)

    # --- helpers ------------------------------------------------------------------------------------

    def _session(self, redirect_uri: str, token_endpoint: str | None = None) -> OAuth2Session:
        settings = self.settings
        secret = settings.private_key if settings.auth_method == "private_key_jwt" else settings.client_secret
        session = OAuth2Session(
            settings.client_id,
            secret,
            token_endpoint_auth_method=settings.auth_method,
            scope=settings.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )
        if settings.auth_method == "private_key_jwt":
            headers = {"kid": settings.key_id} if settings.key_id else None
            algorithm = _assertion_algorithm(settings.private_key)
            session.register_client_auth_method(PrivateKeyJWT(token_endpoint, headers=headers, alg=algorithm))
        return session

    def _algorithms(self) -> list[str]:
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [name for name in offered if name in SIGNING_ALGORITHMS]
        if not algorithms:
            raise self._unavailable(f"it signs ID tokens only with {offered}, none of them asymmetric")
        return algorithms

    def _unavailable(self, detail: str) -> LoginUnavailable:
        log.warning("OpenID provider %s (%s): %s", self.settings.name, self.settings.issuer, detail)
        return ProviderUnavailable(
            f"{self.settings.display_name} cannot be reached right now, so you cannot log in with it. "
            "Please try again in a few minutes.",
            detail,
        )

    def _refused(self, detail: str) -> LoginFailed:
        log.warning(
            "OpenID provider %s (%s): login refused: %s", self.settings.name, self.settings.issuer, detail
        )
        return LoginFailed(
            f"The login with {self.settings.display_name} could not be verified: {detail}. Please try again."
        )


EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


def _assertion_algorithm(key: RSAKey | ECKey | None) -> str:
    """The signing algorithm of a ``private_key_jwt`` client assertion made with ``key``."""
    if isinstance(key, ECKey):
        return EC_ALGORITHMS.get(key.curve_name, "ES256")
    return "RS256"
