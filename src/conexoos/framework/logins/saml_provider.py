"""The SAML 2.0 service provider: pysaml2's client, configured from ``LOGINS.saml``, and every check an
authentication response must pass before it becomes an identity.

pysaml2 checks the XML schema, the signatures (with xmlsec1), the conditions (NotBefore, NotOnOrAfter with
``CLOCK_SKEW``, the audience) and InResponseTo against the requests this browser started. This module adds
what pysaml2 leaves to its caller: the issuer must be the configured identity provider, the Destination and
every Recipient must be our ACS URL exactly, and an assertion id is accepted once (:mod:`.saml_replay`).
"""

from __future__ import annotations

import calendar
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix, sign_entity_descriptor
from saml2.response import AuthnResponse, StatusError
from saml2.samlp import STATUS_SUCCESS
from saml2.sigver import security_context
from saml2.time_util import str_to_time
from saml2.validate import valid_instance
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from ..errors import ConfigError
from .base import ExternalIdentity, LoginFailed, LoginUnavailable
from .saml_algorithms import ACCEPTED_ALGORITHMS, check_signature_algorithms
from .saml_identity import AttributeNames, assertion_attributes, build_identity
from .saml_messages import LimitedClient
from .saml_metadata import IdpMetadata, MetadataUnavailable
from .saml_replay import ReplayStore, assertion_key

log = logging.getLogger("conexoos.logins.saml")

NAMEID_FORMATS = {
    "persistent": saml.NAMEID_FORMAT_PERSISTENT,
    "emailAddress": saml.NAMEID_FORMAT_EMAILADDRESS,
    "unspecified": saml.NAMEID_FORMAT_UNSPECIFIED,
}
DEFAULT_LIFETIME = 3600.0
"""How long an assertion id is remembered when the assertion states no NotOnOrAfter."""
UNAVAILABLE = (
    "Single sign-on is unavailable right now: the identity provider's details could not be loaded. "
    "Try again in a few minutes."
)
REFUSED = "The identity provider did not confirm your login. You can try again."
NOT_ACCEPTED = (
    "The identity provider's answer could not be accepted (it may have expired, or it was not meant for "
    "this site). Please log in again."
)
NOT_STARTED = "This login was not started from this browser, or it was already used. Please log in again."
REPLAYED = "This login answer was already used. Please log in again."


@dataclass(frozen=True)
class SamlSettings:
    """``LOGINS.saml`` with the addresses derived from PUBLIC_URL."""

    public_url: str
    entity_id: str
    cert_file: Path | None
    """None (with ``key_file``): nothing is signed and single logout is off."""
    key_file: Path | None
    idp_entity_id: str
    attributes: AttributeNames
    nameid_format: str
    clock_skew: int
    want_response_signed: bool
    sign_metadata: bool

    @property
    def signs(self) -> bool:
        """Whether this service provider has a key pair to sign its requests with."""
        return self.cert_file is not None and self.key_file is not None

    @property
    def acs_url(self) -> str:
        return self.public_url + "/saml/acs"

    @property
    def sls_url(self) -> str:
        return self.public_url + "/saml/sls"


@dataclass(frozen=True)
class Accepted:
    """A checked authentication response: the identity, and the request it answers."""

    identity: ExternalIdentity
    request_id: str
    next_path: str
    """The local path the login was started with (``/saml/login?next=``), or "" when none was given."""


class ServiceProvider:
    """One SAML service provider and the identity provider it trusts."""

    def __init__(
        self, settings: SamlSettings, metadata: IdpMetadata, replays: ReplayStore | None = None
    ) -> None:
        self.settings = settings
        self.metadata = metadata
        self.replays = replays
        self._client: Saml2Client | None = None
        self._idp_entity_id = ""
        self._lock = threading.Lock()
        self._metadata_xml: str | None = None
        _require_files(settings)

    def start(self) -> None:
        """Load the metadata (fetching a stale or missing URL copy) and build the client; when a URL cannot be
        fetched and nothing is cached, logins answer 503 until a later fetch succeeds."""
        if self.metadata.is_stale():
            self.metadata.refresh(self.check_metadata)
        try:
            self._build(self.metadata.current())
        except MetadataUnavailable as error:
            log.error("%s; SAML logins answer 503 until it can be fetched", error)

    def client(self) -> tuple[Saml2Client, str]:
        """The pysaml2 client and the identity provider's entity id; raises :class:`LoginUnavailable`."""
        if self.metadata.is_stale():
            self._refresh()
        if self._client is None:
            raise LoginUnavailable(UNAVAILABLE)
        return self._client, self._idp_entity_id

    def _refresh(self) -> None:
        """Fetch the stale metadata again; a document without the configured IdP keeps the old copy."""
        try:
            if self.metadata.refresh(self.check_metadata):
                self._build(self.metadata.current())
        except ConfigError as error:
            log.error("the fetched metadata was not used: %s", "; ".join(error.problems))

    def check_metadata(self, path: Path) -> None:
        """Accept a fetched document only when pysaml2 reads one identity provider from it."""
        _, idp = self._make_client(path)
        log.debug("metadata of %s accepted", idp)

    def _build(self, path: Path) -> None:
        client, idp = self._make_client(path)
        with self._lock:
            self._client, self._idp_entity_id = client, idp

    def _make_client(self, metadata_path: Path) -> tuple[Saml2Client, str]:
        config = SPConfig()
        config.load(client_config(self.settings, metadata_path))
        client = LimitedClient(config=config)
        return client, _identity_provider(client, self.settings.idp_entity_id, metadata_path)

    # -- login ---------------------------------------------------------------------------------------------

    def login_url(self, relay_state: str) -> tuple[str, str]:
        """A signed AuthnRequest for the redirect binding: (request id, URL to send the browser to)."""
        client, idp = self.client()
        request_id, info = client.prepare_for_authenticate(
            entityid=idp,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            nameid_format=NAMEID_FORMATS[self.settings.nameid_format],
            sign=self.settings.signs,
            sigalg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(request_id), _location(info)

    def identity(self, saml_response: str, outstanding: Mapping[str, str]) -> Accepted:
        """Check a POSTed SAMLResponse against the requests this browser started; raises :class:`LoginFailed`
        with a sentence for the person (the technical reason is logged)."""
        client, idp = self.client()
        response = self._parse(client, saml_response, outstanding)
        try:
            check_signature_algorithms(NOT_ACCEPTED, response.response, response.assertion)
            self._check_addresses_and_issuer(response, idp)
            self._check_first_use(response, idp)
            attributes = assertion_attributes(response.assertion, response.ava or {})
            identity = build_identity(
                response.name_id, attributes, self.settings.attributes, _session_index(response)
            )
        finally:
            _forget_person(client, response)
        request_id = str(response.in_response_to)
        return Accepted(identity, request_id, outstanding.get(request_id, ""))

    def _parse(
        self, client: Saml2Client, saml_response: str, outstanding: Mapping[str, str]
    ) -> AuthnResponse:
        try:
            response = client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=dict(outstanding)
            )
        except StatusError as error:
            log.warning("SAML: the identity provider refused the login: %r", error)
            raise LoginFailed(REFUSED, status=403) from None
        except Exception as error:  # noqa: BLE001 - pysaml2 raises bare Exceptions for failed checks
            log.warning("SAML: authentication response refused: %s: %s", type(error).__name__, error)
            raise LoginFailed(_sentence_for(error)) from None
        if response is None or response.assertion is None:
            log.warning("SAML: authentication response refused: no valid response or assertion")
            raise LoginFailed(NOT_ACCEPTED)
        return response

    def _check_addresses_and_issuer(self, response: AuthnResponse, idp: str) -> None:
        acs = self.settings.acs_url
        reasons = []
        if response.response.destination != acs:
            reasons.append(f"Destination {response.response.destination!r} is not {acs!r}")
        for confirmation in response.assertion.subject.subject_confirmation:
            recipient = confirmation.subject_confirmation_data.recipient
            if recipient != acs:
                reasons.append(f"Recipient {recipient!r} is not {acs!r}")
        issuers = {_text(response.response.issuer), _text(response.assertion.issuer)} - {""}
        if issuers != {idp}:
            reasons.append(f"issuer {sorted(issuers)} is not the configured identity provider {idp!r}")
        if response.response.status.status_code.value != STATUS_SUCCESS:
            reasons.append("status is not Success")
        if reasons:
            log.warning("SAML: authentication response refused: %s", "; ".join(reasons))
            raise LoginFailed(NOT_ACCEPTED)

    def _check_first_use(self, response: AuthnResponse, idp: str) -> None:
        if self.replays is None:
            raise LoginUnavailable(UNAVAILABLE)
        expires_at = _expires_at(response) + self.settings.clock_skew
        if not self.replays.first_use(assertion_key(idp, str(response.assertion.id)), expires_at):
            log.warning(
                "SAML: assertion %s of %s was already used (replay refused)", response.assertion.id, idp
            )
            raise LoginFailed(REPLAYED)

    # -- metadata and logout -------------------------------------------------------------------------------

    def metadata_xml(self) -> str:
        """This service provider's metadata (signed with SP_KEY when SIGN_METADATA is true), made once. It
        does not need the identity provider's metadata: it is served while that one is unavailable."""
        if self._metadata_xml is None:
            self._metadata_xml = sp_metadata_xml(self.settings)
        return self._metadata_xml

    def logout_url(self, state: Mapping[str, str], relay_state: str) -> str | None:
        """A signed LogoutRequest to the identity provider's SingleLogoutService (redirect binding), or None
        when it has none, the state holds no NameID, or there is no key pair to sign with (identity providers
        refuse unsigned LogoutRequests)."""
        if not state.get("name_id") or not self.settings.signs:
            return None
        try:
            client, idp = self.client()
        except LoginUnavailable:
            log.warning("SAML: no single logout: the identity provider's metadata is unavailable")
            return None
        destinations = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
        if not destinations:
            return None
        destination = destinations[0]["location"]
        session_index = state.get("session_index")
        _, request = client.create_logout_request(
            destination,
            idp,
            name_id=_name_id(state),
            session_indexes=[session_index] if session_index else None,
            sign=False,  # the redirect binding signs the query string instead
        )
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT, str(request), destination, relay_state, sign=True, sigalg=SIG_RSA_SHA256
        )
        return _location(info)


def sp_metadata_xml(settings: SamlSettings) -> str:
    """The metadata of this service provider, advertising only the algorithms it accepts."""
    config = SPConfig()
    config.load(client_config(settings, None))
    descriptor = entity_descriptor(config)
    if descriptor.extensions is not None:
        descriptor.extensions.extension_elements = [
            element
            for element in descriptor.extensions.extension_elements
            if element.tag not in ("DigestMethod", "SigningMethod")
            or element.attributes.get("Algorithm") in ACCEPTED_ALGORITHMS
        ]
    document = None
    if settings.sign_metadata and settings.signs:
        descriptor, document = sign_entity_descriptor(
            descriptor, None, security_context(config), SIG_RSA_SHA256, DIGEST_SHA256
        )
    valid_instance(descriptor)
    xml = metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"}, document)
    return xml.decode() if isinstance(xml, bytes) else str(xml)


def client_config(settings: SamlSettings, metadata_path: Path | None) -> dict[str, Any]:
    """pysaml2's configuration of this service provider (without the IdP's metadata when None)."""
    keys: dict[str, Any] = {}
    if settings.cert_file is not None and settings.key_file is not None:
        cert, key = str(settings.cert_file), str(settings.key_file)
        keys = {
            "key_file": key,
            "cert_file": cert,
            "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        }
    return {
        "entityid": settings.entity_id,
        "xmlsec_binary": _xmlsec1(),
        **keys,
        **({"metadata": {"local": [str(metadata_path)]}} if metadata_path is not None else {}),
        "accepted_time_diff": settings.clock_skew,
        "allow_unknown_attributes": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(settings.acs_url, BINDING_HTTP_POST)],
                    # Redirect only: a top-level GET carries the SameSite=Lax session cookie that an IdP's
                    # cross-site POST would not, and the session is what an IdP-initiated logout ends.
                    "single_logout_service": [(settings.sls_url, BINDING_HTTP_REDIRECT)],
                },
                "allow_unsolicited": False,
                "want_assertions_signed": True,
                "want_response_signed": settings.want_response_signed,
                "authn_requests_signed": settings.signs,
                "logout_requests_signed": settings.signs,
                "logout_responses_signed": settings.signs,
                "name_id_format": [NAMEID_FORMATS[settings.nameid_format]],
                "name_id_format_allow_create": True,
            }
        },
    }


def _xmlsec1() -> str:
    found = shutil.which("xmlsec1")
    if found is None:
        raise ConfigError(["LOGINS.saml: the xmlsec1 program is not installed (apt-get install xmlsec1)"])
    return found


def _require_files(settings: SamlSettings) -> None:
    if settings.cert_file is not None and settings.key_file is not None:
        check_key_pair(settings.cert_file, settings.key_file)


def check_key_pair(cert_file: Path, key_file: Path) -> None:
    """SP_CERT and SP_KEY must be readable PEM files, RSA (signatures are RSA-SHA256) and belong together;
    raises ConfigError naming the key."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigError(
            [f"LOGINS.saml.SP_CERT: {cert_file} is not a readable PEM certificate ({error})"]
        ) from None
    # SP_KEY is declared secret: its messages name the key, never the file.
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except OSError as error:
        raise ConfigError([f"LOGINS.saml.SP_KEY: the file cannot be read ({error.strerror})"]) from None
    except (ValueError, TypeError):
        raise ConfigError(["LOGINS.saml.SP_KEY: the file is not an unencrypted PEM private key"]) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(["LOGINS.saml.SP_KEY: the key is not an RSA key (signatures are RSA-SHA256)"])
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise ConfigError(["LOGINS.saml.SP_KEY: the key does not match the certificate SP_CERT"])


def _identity_provider(client: Saml2Client, wanted: str, path: Path) -> str:
    found = sorted(client.metadata.identity_providers())
    if wanted:
        if wanted not in found:
            raise ConfigError([f"LOGINS.saml.IDP_ENTITY_ID: {wanted!r} is not in {path} (it has {found})"])
        return wanted
    if not found:
        raise ConfigError(
            [
                f"LOGINS.saml.IDP_METADATA: {path} holds no identity provider (no IDPSSODescriptor); "
                "give the IdP's SAML metadata"
            ]
        )
    if len(found) > 1:
        raise ConfigError(
            [
                f"LOGINS.saml.IDP_METADATA: {path} describes {len(found)} identity providers; name one in "
                "IDP_ENTITY_ID"
            ]
        )
    return str(found[0])


def _location(info: Mapping[str, Any]) -> str:
    return str(dict(info["headers"])["Location"])


def _text(element: Any) -> str:
    return (getattr(element, "text", None) or "").strip()


def _session_index(response: AuthnResponse) -> str | None:
    for statement in response.assertion.authn_statement or []:
        if statement.session_index:
            return str(statement.session_index)
    return None


def _expires_at(response: AuthnResponse) -> float:
    """The latest NotOnOrAfter of the assertion (conditions and subject confirmations), epoch seconds."""
    moments = []
    conditions = response.assertion.conditions
    if conditions is not None and conditions.not_on_or_after:
        moments.append(conditions.not_on_or_after)
    for confirmation in response.assertion.subject.subject_confirmation:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            moments.append(data.not_on_or_after)
    if not moments:
        return time.time() + DEFAULT_LIFETIME
    return max(float(calendar.timegm(str_to_time(moment))) for moment in moments)


def _forget_person(client: Saml2Client, response: AuthnResponse) -> None:
    """pysaml2 keeps every person it saw in memory: the project keeps what it needs, so drop it."""
    if response.name_id is not None:
        client.users.remove_person(response.name_id)


def _name_id(state: Mapping[str, str]) -> saml.NameID:
    return saml.NameID(
        text=state["name_id"],
        format=state.get("name_id_format"),
        name_qualifier=state.get("name_id_name_qualifier"),
        sp_name_qualifier=state.get("name_id_sp_name_qualifier"),
    )


def _sentence_for(error: Exception) -> str:
    name = type(error).__name__
    if name == "UnsolicitedResponse" or "don't recall" in str(error) or str(error) == "Came from":
        return NOT_STARTED
    return NOT_ACCEPTED
