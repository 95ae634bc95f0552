"""Decoding of the SAML messages a browser brings, with limits: pysaml2 inflates whatever it is given
without a bound (a few megabytes of deflate become gigabytes), so every message is decoded here instead.

- A message longer than :data:`MAX_MESSAGE` characters of base64 is refused before anything is decoded.
- The HTTP-POST binding carries base64 XML, never deflated: a deflated one is refused.
- The HTTP-Redirect binding carries deflated XML: it is inflated to :data:`MAX_XML` bytes at most.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from collections.abc import Mapping
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.entity import UnravelError

from .base import LoginFailed

log = logging.getLogger("conexoos.logins.saml")

MAX_MESSAGE = 256 * 1024
"""Characters of base64 a SAMLResponse or SAMLRequest may have (real ones are a few kilobytes)."""
MAX_XML = 1024 * 1024
"""Bytes of XML a deflated message (redirect binding) may inflate to."""
TOO_LARGE = "The identity provider's message is too large to be accepted."
MESSAGE_FIELDS = ("SAMLResponse", "SAMLRequest")


def check_message_sizes(values: Mapping[str, str]) -> None:
    """Raise :class:`LoginFailed` (413) when a SAMLResponse or SAMLRequest of ``values`` is too long."""
    for field in MESSAGE_FIELDS:
        if len(values.get(field) or "") > MAX_MESSAGE:
            log.warning(
                "SAML: a %s of %d characters was refused (at most %d)", field, len(values[field]), MAX_MESSAGE
            )
            raise LoginFailed(TOO_LARGE, status=413)


def unravel(message: str, binding: str | None) -> bytes:
    """The XML of ``message`` as ``binding`` carries it; raises pysaml2's ``UnravelError`` for a message
    that is too long, not base64, deflated on the POST binding, or inflating past :data:`MAX_XML`."""
    if len(message) > MAX_MESSAGE:
        raise UnravelError(f"the message has {len(message)} characters (at most {MAX_MESSAGE})")
    try:
        data = base64.b64decode(message)
    except (binascii.Error, ValueError) as error:
        raise UnravelError(f"the message is not base64 ({error})") from None
    if binding == BINDING_HTTP_POST:
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise UnravelError("the HTTP-POST binding carries XML; a deflated (or other) message is refused")
        return data
    if binding == BINDING_HTTP_REDIRECT:
        return _inflate(data)
    raise UnravelError(f"the binding {binding!r} is not accepted")


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        xml = inflater.decompress(data, MAX_XML)
    except zlib.error as error:
        raise UnravelError(f"the message is not deflated XML ({error})") from None
    if inflater.unconsumed_tail:
        raise UnravelError(f"the message inflates past {MAX_XML} bytes")
    if not inflater.eof:
        raise UnravelError("the deflated message is incomplete")
    return xml


class LimitedClient(Saml2Client):
    """pysaml2's client decoding every received message with :func:`unravel`."""

    @staticmethod
    def unravel(txt: Any, binding: Any, msgtype: str = "response") -> bytes:
        """Decode ``txt`` as ``binding`` carries it, with the limits of this module."""
        try:
            return unravel(str(txt), binding)
        except UnravelError as error:
            log.warning("SAML: message refused: %s", error)  # pysaml2 may hide the reason
            raise
