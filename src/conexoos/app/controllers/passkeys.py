"""Passkeys (WebAuthn, with py_webauthn): registration, and authentication as a second factor or alone.

The relying party is the configured public address (``SERVER_ENV.PUBLIC_URL``), never the Host header:
its host name is the RP ID and its scheme, host and port are the only accepted origin. Each passkey is
a discoverable credential (``residentKey: required``), so the login page can offer it without a
username. Logging in with a passkey alone requires user verification (a PIN or a biometric on the
device): with possession, two factors. As a second factor after the password, presence is enough.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers.ceremonies import PendingCeremony
from conexoos.app.models.persistent import Passkey, User
from conexoos.app.utils.text import (
    BIDI_PROBLEM,
    has_bidi_controls,
    has_control_characters,
    is_valid_unicode,
    is_visible,
)
from conexoos.framework.urls import public_url

if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor
# py_webauthn (with cbor2, pyasn1 and its certificate formats: 12 MiB, 0.1 s) is imported by the functions
# that use it, not with the app: only a passkey ceremony needs it.

NAME_MAX = 60
TIMEOUT_MS = 120_000
HANDLE_BYTES = 32
REFUSED = "This passkey could not be checked. Try again, or use another way to log in."
MALFORMED = (
    "This is not a passkey answer: send what the browser's navigator.credentials.get() gave, as JSON, "
    "unchanged."
)
NOT_REGISTERED = "This passkey is not registered for this account. Try another one."
UNKNOWN = "This passkey is not registered on this site. Try another one, or log in with your password."
NEW_REFUSED = (
    "The new passkey could not be checked: the browser's answer is not valid for this site's request. "
    "Try again."
)
log = logging.getLogger(__name__)


class PasskeyError(ValueError):
    """A passkey ceremony or change that cannot be accepted, with a message for the person."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser's passkeys are for: ``id`` (a host name), ``origin`` and a display name."""

    id: str
    origin: str
    name: str


@dataclass(frozen=True)
class Ceremony:
    """Options for ``navigator.credentials`` (JSON) and what the server keeps to check the answer."""

    options_json: str
    challenge: bytes
    user_handle: bytes = b""
    name: str = ""
    """The name of the passkey being added."""


def relying_party() -> RelyingParty:
    """The relying party of the configured public URL."""
    parts = urlsplit(public_url())
    origin = f"{parts.scheme}://{parts.netloc}"
    return RelyingParty(id=parts.hostname or "", origin=origin, name=str(current_app.config["APP_NAME"]))


def unavailable_reason() -> str | None:
    """Why browsers will refuse passkeys for this site's public URL, or None when they can work."""
    parts = urlsplit(public_url())
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return (
            f"Passkeys need the site to have a domain name, and its public address ({public_url()}) is an IP "
            "address. The operator can set SERVER_ENV.PUBLIC_URL to a name (http://localhost:PORT locally)."
        )
    if parts.scheme != "https" and host != "localhost" and not host.endswith(".localhost"):
        return "Browsers offer passkeys only on HTTPS sites (or on localhost)."
    return None


def registration_options(user: User, name: str) -> Ceremony:
    """Options to create a new discoverable passkey for ``user``, to be called ``name`` (the passkeys they
    have are excluded: a device holds one per account). Raises :class:`PasskeyError` for a bad name."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    name = clean_name(name)
    rp = relying_party()
    existing = Passkey.of_user(user.id)
    handle = existing[0].user_handle if existing else secrets.token_bytes(HANDLE_BYTES)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=handle,
        user_name=user.username,
        user_display_name=user.public_name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in existing],
    )
    return Ceremony(options_to_json(options), options.challenge, handle, name)


def register(user: User, credential: Any, ceremony: PendingCeremony) -> Passkey:
    """Check the browser's answer to :func:`registration_options` and keep the new passkey, named as the
    person asked. Raises :class:`PasskeyError` when the answer does not verify, or the passkey is already
    registered.
    """
    from webauthn import verify_registration_response
    from webauthn.helpers import parse_registration_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    name = clean_name(ceremony.name)
    rp = relying_party()
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=ceremony.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, TypeError, RecursionError) as error:
        log.info("a new passkey was refused: %s", error)  # the library's reason, for whoever debugs it
        raise PasskeyError(NEW_REFUSED) from error
    transports = ",".join(str(t.value) for t in parsed.response.transports or [])
    passkey = Passkey(
        user_id=user.id,
        name=name,
        credential_id=verified.credential_id,
        credential_digest=_digest(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        user_handle=ceremony.user_handle,
        transports=transports[:255],
    )
    try:
        passkey.save()
    except IntegrityError:
        raise PasskeyError("This passkey is already registered.") from None
    return passkey


def authentication_options(user: User | None, challenge: bytes | None = None) -> Ceremony:
    """Options to sign in: with ``user``'s passkeys as a second factor, or (None) any discoverable passkey
    of this site, user verification required; ``challenge`` is made up unless given."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    rp = relying_party()
    allowed = [_descriptor(passkey) for passkey in Passkey.of_user(user.id)] if user else []
    verification = UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=allowed,
        user_verification=verification,
    )
    return Ceremony(options_to_json(options), options.challenge)


def answered_challenge(credential: Any) -> bytes:
    """The challenge a browser's sign-in answer says it answered (its client data; checked again against
    the signature by :func:`authenticate`). Raises :class:`PasskeyError` (:data:`MALFORMED`) when the
    answer is no passkey answer, or holds no challenge."""
    from webauthn.helpers import base64url_to_bytes, parse_authentication_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        parsed = parse_authentication_credential_json(credential)
        client_data = json.loads(parsed.response.client_data_json)  # RecursionError: nested too deep
    except (WebAuthnException, ValueError, TypeError, RecursionError) as error:
        raise PasskeyError(MALFORMED) from error
    challenge = client_data.get("challenge") if isinstance(client_data, dict) else None
    if not isinstance(challenge, str):
        raise PasskeyError(MALFORMED)
    try:
        return base64url_to_bytes(challenge)
    except ValueError as error:  # not base64url
        raise PasskeyError(MALFORMED) from error


def authenticate(credential: Any, ceremony: PendingCeremony, user: User | None) -> User:
    """The account of the passkey that answered ``ceremony``'s challenge.

    With ``user``, the passkey must be theirs (second factor); without, the device must have verified the
    person (a passkey alone). The signature counter must grow, and a challenge older than the newest one
    this passkey answered is a replay. Raises :class:`PasskeyError` otherwise.
    """
    from webauthn import verify_authentication_response
    from webauthn.helpers import parse_authentication_credential_json
    from webauthn.helpers.exceptions import WebAuthnException

    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError, RecursionError) as error:
        raise PasskeyError(REFUSED) from error
    passkey = Passkey.get_by_digest(_digest(parsed.raw_id))
    if passkey is None or (user is not None and passkey.user_id != user.id):
        raise PasskeyError(UNKNOWN if user is None else NOT_REGISTERED)
    handle = parsed.response.user_handle
    if handle is None and user is None:  # nobody named before: the answer must say whose passkey it is
        raise PasskeyError(REFUSED)
    if handle is not None and not secrets.compare_digest(handle, passkey.user_handle):
        raise PasskeyError(REFUSED)
    rp = relying_party()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=ceremony.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=user is None,
        )
    except (WebAuthnException, ValueError, TypeError, RecursionError) as error:
        raise PasskeyError(REFUSED) from error
    if not passkey.record_use(verified.new_sign_count, ceremony.issued_at):
        raise PasskeyError("This passkey answer was already used. Try again.")
    owner = User.get_by_id(passkey.user_id)
    if owner is None:  # deleted between the lookup and now
        raise PasskeyError(REFUSED)
    return owner


def passkeys_of(user: User) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(Passkey.of_user(user.id))


def count(user: User) -> int:
    """How many passkeys the user has."""
    return Passkey.count_of_user(user.id)


def owned(user: User, passkey_id: int) -> Passkey | None:
    """The user's passkey with this id, or None (callers answer 404)."""
    return Passkey.get_owned(passkey_id, user.id)


def rename(passkey: Passkey, name: str) -> None:
    """Give the passkey a new name (raises :class:`PasskeyError` for an empty or too long one)."""
    passkey.name = clean_name(name)
    passkey.save()


def remove(passkey: Passkey) -> None:
    """Forget the passkey (the device keeps it, but it no longer opens this account)."""
    passkey.delete()


def remove_all(user: User) -> None:
    """Forget every passkey of the user."""
    Passkey.remove_all(user.id)


def clean_name(name: str) -> str:
    """The name, trimmed; raises :class:`PasskeyError` when empty, too long or holding control characters
    or bidirectional controls (it is shown in Settings and in the mail telling of a passkey added)."""
    if has_control_characters(name) or not is_valid_unicode(name):
        raise PasskeyError("A passkey's name cannot hold control characters.")
    if has_bidi_controls(name):
        raise PasskeyError(f"A passkey's name: {BIDI_PROBLEM}")
    name = " ".join(name.split())
    if not is_visible(name):
        raise PasskeyError("Give the passkey a name, such as the device it is on.")
    if len(name) > NAME_MAX:
        raise PasskeyError(f"A passkey's name has at most {NAME_MAX} characters.")
    return name


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    return PublicKeyCredentialDescriptor(id=passkey.credential_id)


def _digest(credential_id: bytes) -> str:
    return hashlib.sha256(credential_id).hexdigest()
